"""Watch lag of dynamic parameters across two replicas, and 1,000 watchers on one.

    python bench/watch_lag.py [--updates 200] [--watchers 1000]

Starts two `modelplane serve` processes on one PostgreSQL database (random name on
127.0.0.1:5432, dropped afterwards) and measures, through the native API:

1. Lag across replicas: a long-poll watch (`GET …:watch?sinceRevision=N`) waits on
   replica A; the bench changes a parameter through replica B (`PUT …/{key}`). The lag is
   the time from B's answer to the update reaching the bench to A's answer to the watch
   (negative when the watcher hears first). `--updates` times, one at a time.
2. `--watchers` concurrent watches on replica A, one update through B: each watcher's lag,
   and replica A's resident memory before and while the watchers wait.

Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx
import smoke

from modelplane.security.secretbox import new_master_key_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.databases import postgres_database  # noqa: E402
from tests.support.server import Server  # noqa: E402

TOKEN = "mp_bench_watch_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
NAMESPACE = "/v1/configs/cn-bench/service/watched"
SETTLE = smoke.cap(3.0, 1.0)  # seconds for every watch to be registered and waiting


def rss_kib(pid: int) -> int:
    """Resident memory of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def watch(http: httpx.AsyncClient, url: str, since: int) -> float:
    """Wait for the namespace to pass `since`; the moment the answer arrived."""
    response = await http.get(
        f"{url}{NAMESPACE}:watch", params={"sinceRevision": since, "timeoutSeconds": 60}
    )
    response.raise_for_status()
    assert response.json()["changed"], response.text
    return time.perf_counter()


async def update(http: httpx.AsyncClient, url: str, n: int) -> tuple[int, float]:
    """Change the parameter; the new revision and the moment the answer arrived."""
    response = await http.put(f"{url}{NAMESPACE}/model", json={"value": f"v{n}"})
    response.raise_for_status()
    done = time.perf_counter()
    return int(response.json()["revision"]), done


async def measure(a: Server, b: Server, updates: int, watchers: int) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(headers=HEADERS, timeout=90) as http:
        revision, _ = await update(http, b.url, 0)
        lags = []
        for n in range(1, updates + 1):
            waiting = asyncio.create_task(watch(http, a.url, revision))
            await asyncio.sleep(0.02)  # the watch is registered on A
            revision, updated = await update(http, b.url, n)
            lags.append((await waiting - updated) * 1000)
        rows = [
            (
                f"lag across replicas, {updates} updates one at a time: p50 / p99 / max",
                f"{percentile(lags, 50):.1f} / {percentile(lags, 99):.1f} / {max(lags):.1f} ms",
            )
        ]
        pid = a.process.pid  # type: ignore[union-attr]
        before = rss_kib(pid)
        # httpx's pool scans all its requests at each step, which is quadratic in their
        # number: 50 watchers per client keeps the load generator out of the measure.
        clients = [
            httpx.AsyncClient(headers=HEADERS, timeout=90, limits=httpx.Limits(max_connections=60))
            for _ in range(-(-watchers // 50))
        ]
        many = [
            asyncio.create_task(watch(clients[n // 50], a.url, revision)) for n in range(watchers)
        ]
        await asyncio.sleep(SETTLE)  # every watch is registered and waiting
        during = rss_kib(pid)
        revision, updated = await update(http, b.url, updates + 1)
        arrived = await asyncio.gather(*many)
        for client in clients:
            await client.aclose()
        fan = [(t - updated) * 1000 for t in arrived]
        rows += [
            (
                f"{watchers} concurrent watchers on one replica, one update: lag p50 / p99 / max",
                f"{percentile(fan, 50):.1f} / {percentile(fan, 99):.1f} / {max(fan):.1f} ms",
            ),
            (
                f"replica memory with {watchers} watchers waiting (before → during)",
                f"{before / 1024:.1f} → {during / 1024:.1f} MiB "
                f"({(during - before) / watchers:.1f} KiB per watcher)",
            ),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--watchers", type=int, default=1000)
    args = smoke.cap_args(parser.parse_args(), updates=5, watchers=20)
    with tempfile.TemporaryDirectory() as tmp, postgres_database() as url:
        env = {
            "MODELPLANE_DATABASE_URL": url,
            "MODELPLANE_SECRET_KEY": new_master_key_text(),
            "MODELPLANE_BOOTSTRAP_TOKEN": TOKEN,
            "MODELPLANE_LOG_LEVEL": "warning",
            "MODELPLANE_RATE_LIMIT_PER_SECOND": "0",  # 1,000 watchers share one API key
            # ... and hold one open watch and one connection each: caps above the defaults
            # (100 watches per principal, 800 in all, 1,000 connections).
            "MODELPLANE_MAX_WATCHES_PER_PRINCIPAL": str(args.watchers + 10),
            "MODELPLANE_MAX_WATCHES": str(args.watchers + 10),
            "MODELPLANE_MAX_CONNECTIONS": str(args.watchers + 100),
        }
        a, b = Server(cwd=Path(tmp), env=env), Server(cwd=Path(tmp), env=env)
        with a, b:
            rows = asyncio.run(measure(a, b, args.updates, args.watchers))
    print("| measure (PostgreSQL, two replicas) | result |")
    print("|---|---|")
    for measure_name, result in rows:
        print(f"| {measure_name} | {result} |")


if __name__ == "__main__":
    main()
