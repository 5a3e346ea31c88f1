"""How fast a label move reaches cached SDK clients on two replicas.

    python bench/label_propagation.py [--clients 100] [--moves 50]

Starts two `modelplane serve` processes on one PostgreSQL database (random name on
127.0.0.1:5432, dropped afterwards) and a template with two versions. `--clients` cached
clients (`AsyncClient.prompts.cached(ws, "greeting", label="production")`, the SDK's
in-memory cache kept fresh by a watch) follow the label, half on each replica. The bench
moves the label through replica A `--moves` times, one at a time, each time waiting until
every client holds the new version, and records for each client the time from A's answer
to the move reaching the bench to the client's cache holding the new version (its
`on_change` callback). Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import smoke

from modelplane.client import AsyncCachedPrompt, AsyncClient, PromptTemplate
from modelplane.security.secretbox import new_master_key_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.databases import postgres_database  # noqa: E402
from tests.support.server import Server  # noqa: E402

TOKEN = "mp_bench_label_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
CLIENTS_PER_CONNECTION_POOL = 50


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def seed(http: httpx.AsyncClient, url: str) -> str:
    """A workspace with `greeting` at versions 1 and 2, production at 1; its id."""
    ws = (await http.post(f"{url}/v1/workspaces", json={"name": "bench"})).json()["workspaceId"]
    templates = f"{url}/v1/workspaces/{ws}/prompt-templates"
    (await http.post(templates, json={"name": "greeting", "content": "v1"})).raise_for_status()
    (await http.patch(f"{templates}/greeting", json={"content": "v2"})).raise_for_status()
    moved = await http.put(f"{templates}/greeting/labels/production", json={"version": 1})
    moved.raise_for_status()
    return str(ws)


async def measure(a: Server, b: Server, clients: int, moves: int) -> list[tuple[str, str]]:
    arrived: dict[int, float] = {}
    wanted = {"version": 1}
    everyone = asyncio.Event()

    def on_change_of(n: int) -> Callable[[PromptTemplate], None]:
        def seen(template: PromptTemplate) -> None:
            if template.version == wanted["version"] and n not in arrived:
                arrived[n] = time.perf_counter()
                if len(arrived) == clients:
                    everyone.set()

        return seen

    async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:
        ws = await seed(http, a.url)
        pools = -(-clients // CLIENTS_PER_CONNECTION_POOL)
        sdks = [AsyncClient((a, b)[p % 2].url, TOKEN) for p in range(pools)]
        caches: list[AsyncCachedPrompt] = []
        for n in range(clients):
            sdk = sdks[n // CLIENTS_PER_CONNECTION_POOL]
            caches.append(
                await sdk.prompts.cached(
                    ws, "greeting", label="production", on_change=on_change_of(n)
                )
            )
        await asyncio.sleep(smoke.cap(1.0, 0.2))  # every watch is waiting
        lags: list[float] = []
        slowest: list[float] = []
        url = f"{a.url}/v1/workspaces/{ws}/prompt-templates/greeting/labels/production"
        for m in range(moves):
            wanted["version"] = 2 if m % 2 == 0 else 1
            arrived.clear()
            everyone.clear()
            response = await http.put(url, json={"version": wanted["version"]})
            response.raise_for_status()
            moved = time.perf_counter()
            try:
                await asyncio.wait_for(everyone.wait(), 10)
            except TimeoutError:
                missed = clients - len(arrived)
                raise RuntimeError(f"move {m}: {missed} clients never saw it") from None
            each = [(t - moved) * 1000 for t in arrived.values()]
            lags += each
            slowest.append(max(each))
            await asyncio.sleep(0.05)
        for cache in caches:
            await cache.aclose()
        for sdk in sdks:
            await sdk.aclose()
    within = sum(1 for x in lags if x <= 1000) / len(lags)
    return [
        (
            f"{clients} cached clients (half per replica), {moves} moves: lag per client "
            "p50 / p99 / max",
            f"{percentile(lags, 50):.1f} / {percentile(lags, 99):.1f} / {max(lags):.1f} ms",
        ),
        (
            "the last client of each move: p50 / max",
            f"{percentile(slowest, 50):.1f} / {max(slowest):.1f} ms",
        ),
        ("clients holding the new version within 1 s", f"{within:.1%}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--moves", type=int, default=50)
    args = smoke.cap_args(parser.parse_args(), clients=4, moves=2)
    with tempfile.TemporaryDirectory() as tmp, postgres_database() as url:
        env = {
            "MODELPLANE_DATABASE_URL": url,
            "MODELPLANE_SECRET_KEY": new_master_key_text(),
            "MODELPLANE_BOOTSTRAP_TOKEN": TOKEN,
            "MODELPLANE_LOG_LEVEL": "warning",
            "MODELPLANE_RATE_LIMIT_PER_SECOND": "0",  # every client shares one API key
            "MODELPLANE_MAX_WATCHES_PER_PRINCIPAL": str(args.clients + 10),
            "MODELPLANE_MAX_WATCHES": str(args.clients + 10),
        }
        a, b = Server(cwd=Path(tmp), env=env), Server(cwd=Path(tmp), env=env)
        with a, b:
            rows = asyncio.run(measure(a, b, args.clients, args.moves))
    print("| measure (PostgreSQL, two replicas) | result |")
    print("|---|---|")
    for measure_name, result in rows:
        print(f"| {measure_name} | {result} |")


if __name__ == "__main__":
    main()
