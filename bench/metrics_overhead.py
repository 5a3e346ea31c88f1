"""What counting requests for /metrics costs on the read path, measured in-process.

    python bench/metrics_overhead.py [--requests 2000] [--rounds 7]

No `wrk` needed: two applications on one SQLite file (MODELPLANE_METRICS true and false,
access log off in both, rate limit off), called through ASGI without HTTP, sequentially:
GET /v1/llms/{id} with an API key, `--requests` per round, the two alternating for
`--rounds` rounds. Prints the best and the median CPU µs per request of each (process
CPU time, which noisy neighbours disturb less than wall time) and the difference; the HTTP
path adds the same work to both. Also times the counting step alone (`observe` for a
routed request, plus the in-flight gauge), which no neighbour can hide.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import smoke

from modelplane.app import create_app
from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings

TOKEN = "mp_bench_metrics_token_0123456789abcdef"
WARM_UP = smoke.cap(200, 20)  # requests per application before measuring
COUNTING_CALLS = smoke.cap(100_000, 1000)


async def measure(requests: int, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            secret_key=new_master_key_text(),
            bootstrap_token=TOKEN,
            access_log=False,
            rate_limit_per_second=0,
        )
        apps = {
            "metrics on": create_app(base),
            "metrics off": create_app(base.model_copy(update={"metrics": False})),
        }
        timings: dict[str, list[float]] = {name: [] for name in apps}
        async with (
            apps["metrics on"].router.lifespan_context(apps["metrics on"]),
            apps["metrics off"].router.lifespan_context(apps["metrics off"]),
        ):
            clients = {
                name: httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://bench",
                    headers={"x-api-key": TOKEN},
                )
                for name, app in apps.items()
            }
            created = await clients["metrics on"].post(
                "/v1/llms",
                json={
                    "displayName": "bench",
                    "providerType": "OPENAI",
                    "endpointUrl": "https://api.example.com/v1",
                    "modelIdentifier": "gpt-4o",
                },
            )
            created.raise_for_status()
            url = f"/v1/llms/{created.json()['llm']['llmId']}"
            for http in clients.values():  # warm up: caches, first-call paths
                for _ in range(WARM_UP):
                    (await http.get(url)).raise_for_status()
            for _ in range(rounds):
                for name, http in clients.items():
                    started = time.process_time()
                    for _ in range(requests):
                        response = await http.get(url)
                        if response.status_code != 200:
                            sys.exit(f"{name}: {response.status_code} {response.text}")
                    timings[name].append((time.process_time() - started) / requests * 1e6)
            timings["counting alone"] = counting_alone(apps["metrics on"], url)
            for http in clients.values():
                await http.aclose()
        return timings


def counting_alone(app: object, url: str, calls: int = COUNTING_CALLS) -> list[float]:
    """µs per request of what the middleware adds, for a request already routed."""
    metrics = app.state.metrics  # type: ignore[attr-defined]
    request = {"type": "http", "method": "GET", "path": url, "root_path": "", "headers": []}
    route = metrics._match(request)  # what the router leaves in the scope
    scope = {"method": "GET", "route": route, "state": {"face": "native"}}
    best = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            metrics.in_flight += 1
            metrics.in_flight -= 1
            metrics.observe(scope, 200, 0.0004)
        best.append((time.perf_counter() - started) / calls * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = smoke.cap_args(parser.parse_args(), requests=50, rounds=1)
    timings = asyncio.run(measure(args.requests, args.rounds))
    print("| GET /v1/llms/{id}, in-process | best CPU µs/request | median CPU µs/request |")
    print("|---|---|---|")
    for name, values in timings.items():
        print(f"| {name} | {min(values):.2f} | {statistics.median(values):.2f} |")
    on, off = timings["metrics on"], timings["metrics off"]
    print(
        f"| difference | {min(on) - min(off):+.1f} | "
        f"{statistics.median(on) - statistics.median(off):+.1f} |"
    )


if __name__ == "__main__":
    main()
