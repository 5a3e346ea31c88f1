"""Mixed reads and writes on PostgreSQL with two replicas, for a fixed time.

    python bench/load_mixed.py [--seconds 60] [--clients 32]

Starts two `modelplane serve` processes on 127.0.0.1 (free ports) sharing one fresh
PostgreSQL database (random name on 127.0.0.1:5432, dropped afterwards), seeds LLMs, a
model group with a provider, a workspace with prompt templates and a namespace of dynamic
parameters, then drives both replicas for `--seconds` from `--clients` concurrent
clients (asyncio + httpx, keep-alive; each request goes to a replica picked at random):

- reads (80 %): GET /v1/llms/{id}, GET /v1/model-groups/{id}, POST …/prompt-templates/
  {id}:render, GET /v1/configs/…/{key};
- writes (20 %): PUT /v1/configs/…/{key}, PATCH …/prompt-templates/{id}, POST /v1/llms
  then DELETE /v1/llms/{id}, POST /v1/llm-templates:batchCreate (10 new codes).

Every response is counted. Any transport error or unexpected status is an error; the
script prints a Markdown table (requests, req/s, errors, p50/p90/p99/max per operation
and overall) and exits 1 if there was any error. No `wrk` needed. The per-principal rate
limit is turned off in the servers (MODELPLANE_RATE_LIMIT_PER_SECOND=0): one admin key
drives all the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import smoke

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.databases import postgres_database  # noqa: E402
from tests.support.server import Server  # noqa: E402

from modelplane.security.secretbox import new_master_key_text  # noqa: E402

TOKEN = "mp_bench_load_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
WORKSPACE = "load-bench"
NAMESPACE = "/v1/configs/cn-load/service/mixed"
CONTENT = " ".join(f"Part {n}: ${{v{n}}}." for n in range(5))
VARIABLES = {f"v{n}": f"value {n}" for n in range(5)}
CONFIG_KEYS = [f"key{n}" for n in range(20)]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Seeded:
    llm_ids: list[str]
    group_id: str
    provider_id: str
    prompt_ids: list[str]


@dataclass
class Tally:
    """Latencies (ms) by operation, and the errors seen."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def record(self, op: str, ms: float) -> None:
        self.latencies.setdefault(op, []).append(ms)

    def error(self, op: str, what: str) -> None:
        self.errors[op] = self.errors.get(op, 0) + 1
        if len(self.samples) < 10:
            self.samples.append(f"{op}: {what}")


def seed(url: str, llms: int, prompts: int) -> Seeded:
    with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as http:

        def ok(response: httpx.Response) -> dict[str, object]:
            if response.status_code >= 300:
                raise RuntimeError(f"seeding failed: {response.status_code} {response.text}")
            body: dict[str, object] = response.json()
            return body

        llm_ids = []
        for n in range(llms):
            created = ok(http.post("/v1/llms", json=llm_body(f"seed-{n}")))
            llm_ids.append(str(created["llm"]["llmId"]))  # type: ignore[index]
        group = ok(http.post("/v1/model-groups", json={"name": "load"}))
        provider = ok(
            http.post(
                "/v1/provider-templates",
                json={
                    "modelTemplateId": group["modelTemplateId"],
                    "name": "Load",
                    "providerName": "provider-load",
                    "providerType": "Custom",
                    "config": {"baseUrl": "https://api.load.test/v1", "apiKey": "sk-load-0001"},
                },
            )
        )
        ok(http.post("/v1/workspaces", json={"name": "load", "workspaceId": WORKSPACE}))
        prompt_ids = []
        for n in range(prompts):
            created = ok(
                http.post(
                    f"/v1/workspaces/{WORKSPACE}/prompt-templates",
                    json={"name": f"load {n}", "content": CONTENT},
                )
            )
            prompt_ids.append(str(created["promptTemplateId"]))
        for key in CONFIG_KEYS:
            ok(http.put(f"{NAMESPACE}/{key}", json={"value": "v0"}))
        return Seeded(
            llm_ids, str(group["modelTemplateId"]), str(provider["providerTemplateId"]), prompt_ids
        )


def llm_body(tag: str) -> dict[str, object]:
    return {
        "displayName": f"load {tag}",
        "providerType": "OPENAI",
        "endpointUrl": f"https://{tag}.load.test/v1",
        "modelIdentifier": "gpt-4o",
        "credentials": {
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": f"sk-load-{tag}"},
        },
    }


Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def operations(seeded: Seeded) -> list[tuple[str, int, Callable[[], list[tuple[str, Request]]]]]:
    """(name, weight, a builder of the request steps); weights add up to 100."""
    prompt_base = f"/v1/workspaces/{WORKSPACE}/prompt-templates"

    def one(name: str, request: Request) -> list[tuple[str, Request]]:
        return [(name, request)]

    def get_llm() -> list[tuple[str, Request]]:
        llm_id = random.choice(seeded.llm_ids)
        return one("GET llm", lambda h: h.get(f"/v1/llms/{llm_id}"))

    def get_group() -> list[tuple[str, Request]]:
        return one("GET model group", lambda h: h.get(f"/v1/model-groups/{seeded.group_id}"))

    def render() -> list[tuple[str, Request]]:
        url = f"{prompt_base}/{random.choice(seeded.prompt_ids)}:render"
        return one("POST prompt render", lambda h: h.post(url, json={"variables": VARIABLES}))

    def get_config() -> list[tuple[str, Request]]:
        url = f"{NAMESPACE}/{random.choice(CONFIG_KEYS)}"
        return one("GET config", lambda h: h.get(url))

    def put_config() -> list[tuple[str, Request]]:
        url, value = f"{NAMESPACE}/{random.choice(CONFIG_KEYS)}", uuid.uuid4().hex
        return one("PUT config", lambda h: h.put(url, json={"value": value}))

    def patch_prompt() -> list[tuple[str, Request]]:
        url = f"{prompt_base}/{random.choice(seeded.prompt_ids)}"
        content = f"{CONTENT} ({uuid.uuid4().hex})"
        return one("PATCH prompt", lambda h: h.patch(url, json={"content": content}))

    def create_delete_llm() -> list[tuple[str, Request]]:
        llm_id = str(uuid.uuid4())
        body = {**llm_body(llm_id[:8]), "llmId": llm_id}
        return [
            ("POST llm", lambda h: h.post("/v1/llms", json=body)),
            ("DELETE llm", lambda h: h.delete(f"/v1/llms/{llm_id}")),
        ]

    def batch() -> list[tuple[str, Request]]:
        prefix = uuid.uuid4().hex[:12]
        items = [{"llmCode": f"{prefix}-{n}", "name": f"m {n}"} for n in range(10)]
        body = {"providerTemplateId": seeded.provider_id, "items": items}
        return one(
            "POST batch templates", lambda h: h.post("/v1/llm-templates:batchCreate", json=body)
        )

    return [
        ("GET llm", 30, get_llm),
        ("GET model group", 15, get_group),
        ("POST prompt render", 20, render),
        ("GET config", 15, get_config),
        ("PUT config", 6, put_config),
        ("PATCH prompt", 5, patch_prompt),
        ("create+delete llm", 5, create_delete_llm),
        ("POST batch templates", 4, batch),
    ]


async def client_loop(
    urls: list[str],
    ops: list[tuple[str, int, Callable[[], list[tuple[str, Request]]]]],
    deadline: float,
    tally: Tally,
) -> None:
    builders = [builder for _, _, builder in ops]
    weights = [weight for _, weight, _ in ops]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=30, limits=limits) for url in urls
    ]
    try:
        while time.monotonic() < deadline:
            (builder,) = random.choices(builders, weights)
            http = random.choice(clients)
            for name, request in builder():
                started = time.perf_counter()
                try:
                    response = await request(http)
                except httpx.HTTPError as exc:
                    tally.error(name, f"{type(exc).__name__}: {exc}")
                    break
                tally.record(name, (time.perf_counter() - started) * 1000)
                if not 200 <= response.status_code < 300:
                    tally.error(name, f"{response.status_code} {response.text[:200]}")
                    break
    finally:
        for client in clients:
            await client.aclose()


async def drive(urls: list[str], seeded: Seeded, clients: int, seconds: float) -> Tally:
    tally = Tally()
    ops = operations(seeded)
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(client_loop(urls, ops, deadline, tally) for _ in range(clients)))
    return tally


def report(tally: Tally, seconds: float) -> dict[str, object]:
    rows: dict[str, dict[str, float]] = {}
    everything: list[float] = []
    for name, values in sorted(tally.latencies.items(), key=lambda item: -len(item[1])):
        everything += values
        rows[name] = summary(values, tally.errors.get(name, 0), seconds)
    rows["all"] = summary(everything, sum(tally.errors.values()), seconds)
    print("| operation | requests | req/s | errors (rate) | p50 | p90 | p99 | max |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        label = f"**{name}**" if name == "all" else name
        print(
            f"| {label} | {row['requests']:.0f} | {row['rps']:.1f} "
            f"| {row['errors']:.0f} ({row['errorRate']:.4f}) | {row['p50']:.1f} ms "
            f"| {row['p90']:.1f} ms | {row['p99']:.1f} ms | {row['max']:.1f} ms |"
        )
    return rows  # type: ignore[return-value]


def summary(values: list[float], errors: int, seconds: float) -> dict[str, float]:
    count = len(values) + errors
    stats = {p: percentile(values, p) if values else 0.0 for p in (50, 90, 99, 100)}
    return {
        "requests": count,
        "rps": count / seconds,
        "errors": errors,
        "errorRate": errors / count if count else 0.0,
        "p50": stats[50],
        "p90": stats[90],
        "p99": stats[99],
        "max": stats[100],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--llms", type=int, default=100, help="LLMs seeded for the reads")
    parser.add_argument("--prompts", type=int, default=20, help="prompt templates seeded")
    parser.add_argument("--json", type=Path, help="also write the summary here as JSON")
    args = smoke.cap_args(parser.parse_args(), seconds=1, clients=4, llms=5, prompts=3)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, postgres_database() as database_url:
        env = {
            "MODELPLANE_DATABASE_URL": database_url,
            "MODELPLANE_SECRET_KEY": new_master_key_text(),
            "MODELPLANE_BOOTSTRAP_TOKEN": TOKEN,
            "MODELPLANE_RATE_LIMIT_PER_SECOND": "0",  # one admin key drives all the load
        }
        servers = [Server(cwd=Path(tmp), env=env) for _ in range(2)]
        try:
            phase = time.monotonic()
            for server in servers:  # one migrates, the other waits for it (a lock)
                server.start()
            for server in servers:
                server.wait_ready(120)
            print(f"replicas ready in {time.monotonic() - phase:.1f} s", file=sys.stderr)
            phase = time.monotonic()
            seeded = seed(servers[0].url, args.llms, args.prompts)
            print(f"seeded in {time.monotonic() - phase:.1f} s", file=sys.stderr)
            urls = [server.url for server in servers]
            tally = asyncio.run(drive(urls, seeded, args.clients, args.seconds))
            exits = [server.stop() for server in servers]
        finally:
            for server in servers:
                if server.process is not None and server.process.poll() is None:
                    server.stop()
    load_after = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores; two replicas + PostgreSQL + this load generator on "
        f"one machine; {args.clients} clients for {args.seconds:g} s; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    rows = report(tally, args.seconds)
    if tally.samples:
        print("errors (first 10):", *tally.samples, sep="\n  ")
    if any(code not in (0, -15) for code in exits):
        print(f"a replica exited with {exits}")
    if args.json is not None:
        args.json.write_text(json.dumps({"operations": rows, "exits": exits}, indent=2))
    failed = bool(tally.errors) or any(code not in (0, -15) for code in exits)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
