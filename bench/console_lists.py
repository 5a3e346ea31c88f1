"""A page of every console list (Connections, Catalog, Prompts, Keys, Audit, Parameters,
Gateway) with 10,000 items in the store.

    python bench/console_lists.py --store sqlite|postgres [--llms 10000] [--runs 20]

Starts `modelplane serve` on a new database (a SQLite file in a temporary directory, or a
PostgreSQL database with a random name on 127.0.0.1:5432, dropped afterwards), then adds
`--llms` connections through the store in a process of its own (one transaction, as many
`llms.add` calls; every index in place): half of them the admin's, half a member's, over
three provider types. It signs in to the console with each key as a browser does
(the sign-in form) and asks each page below `--runs` times (after one warm-up) through
HTTP: the first, a middle and the last page, a search, a provider filter, and a member's
first page. The whole request is timed (session lookup, the page's count and rows in
SQL, the template). Prints a Markdown table (median, slowest) for BENCHMARKS.md; the
issue's target is every page under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import smoke

from modelplane.domain.audit import AuditAction, AuditEvent, ResourceType
from modelplane.domain.catalog import BatchItem, ProviderConfig, new_group, new_provider, plan_batch
from modelplane.domain.configs import Config, NamespaceKey
from modelplane.domain.llm_types import ProviderType
from modelplane.domain.llms import LlmSpec, new_llm
from modelplane.domain.prices import Tokens
from modelplane.domain.principals import Principal, Role
from modelplane.domain.prompts import Body, new_template
from modelplane.domain.usage import UsageRecord
from modelplane.domain.workspaces import new_workspace
from modelplane.security.secretbox import new_master_key_text
from modelplane.services.audit import new_event_id
from modelplane.services.usage_recorder import RecorderOptions, UsageRecorder
from modelplane.settings import Settings
from modelplane.store.cache import ReadCache
from modelplane.store.engine import create_engines
from modelplane.store.uow import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.databases import database  # noqa: E402
from tests.support.server import Server  # noqa: E402

TOKEN = "mp_bench_console_token_0123456789abcdef"
PROVIDERS = (ProviderType.OLLAMA, ProviderType.VLLM, ProviderType.CUSTOM_OPENAI_COMPATIBLE)
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')


async def fill(settings: Settings, owners: list[str], total: int) -> None:
    """Add `total` connections, alternating between `owners`, in one transaction."""
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    start = int(time.time() * 1000) - total * 1000
    try:
        async with store.writer() as uow:
            for n in range(total):
                spec = LlmSpec(
                    display_name=f"Connection {n:05d}",
                    model_identifier=f"bench-model-{n}",
                    provider_type=PROVIDERS[n % len(PROVIDERS)],
                    endpoint_url=f"http://127.0.0.1:1/bench-{n}/v1",
                    labels={"team": f"t{n % 20}"},
                )
                owner = owners[n % len(owners)]
                llm, _ = new_llm(spec, owner_id=owner, actor_id=owner, now_ms=start + n * 1000)
                await uow.llms.add(llm, credentials_sealed=None)
            await uow.commit()
    finally:
        await store.close()


BENCH_GROUP = "mt-bench-big"
BENCH_WORKSPACE = "bench-prompts"


async def fill_catalog(settings: Settings, owners: list[str], total: int) -> None:
    """Catalog: `total` model groups alternating between `owners`, and one more group of
    the first owner with one provider holding `total` models, in one transaction."""
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    start = int(time.time() * 1000) - total * 1000
    try:
        async with store.writer() as uow:
            for n in range(total):
                owner = owners[n % len(owners)]
                group = new_group(owner_id=owner, name=f"Group {n:05d}", now_ms=start + n * 1000)
                await uow.catalog.add_group(group)
            big = new_group(
                owner_id=owners[0], name="Big group", model_template_id=BENCH_GROUP, now_ms=start
            )
            await uow.catalog.add_group(big)
            provider = new_provider(
                group=big,
                owner_id=owners[0],
                name="Bench provider",
                provider_name="provider-bench",
                provider_type="Custom",
                config=ProviderConfig(base_url="http://127.0.0.1:1/v1"),
                now_ms=start,
            )
            await uow.catalog.add_provider(provider, api_key_sealed=None)
            for first in range(0, total, 1000):  # a batch holds at most 1,000 items
                items = [
                    BatchItem(llm_code=f"bench-{n:05d}")
                    for n in range(first, min(total, first + 1000))
                ]
                plan = plan_batch(
                    items, provider=provider, existing_codes=set(), now_ms=start + first
                )
                await uow.catalog.add_templates(plan.create)
            await uow.commit()
    finally:
        await store.close()


async def fill_prompts(settings: Settings, owner: str, total: int) -> None:
    """Prompts: one workspace of `owner` holding `total` templates, in one transaction."""
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    start = int(time.time() * 1000) - total * 1000
    try:
        async with store.writer() as uow:
            await uow.prompts.add_workspace(
                new_workspace(
                    workspace_id=BENCH_WORKSPACE, name="Bench prompts", owner_id=owner, now_ms=start
                )
            )
            for n in range(total):
                body = Body.of(
                    content=f"Template {n} for ${{name}} about ${{topic}}.",
                    messages=None,
                    config=None,
                )
                template = new_template(
                    workspace_id=BENCH_WORKSPACE,
                    name=f"Prompt {n:05d}",
                    body=body,
                    actor_id=owner,
                    now_ms=start + n * 1000,
                )
                await uow.prompts.add_template(template)
            await uow.commit()
    finally:
        await store.close()


def catalog_and_prompt_cases(total: int, admin: str, member: str) -> list[tuple[str, str, str]]:
    """The Catalog's and Prompts' pages to time (their lists over `total` items)."""
    pages = max(1, total // 20)
    middle = pages // 2 or 1
    return [
        ("catalog: groups, first page", admin, "/console/catalog"),
        ("catalog: groups, the last page", admin, f"/console/catalog?page={pages}"),
        ("catalog: groups, search (`q=00042`)", admin, "/console/catalog?q=00042"),
        ("catalog: a member's groups", member, "/console/catalog"),
        (
            f"catalog: a group of {total:,} models, first page",
            admin,
            f"/console/catalog/{BENCH_GROUP}",
        ),
        (
            f"catalog: a group of {total:,} models, a middle page",
            admin,
            f"/console/catalog/{BENCH_GROUP}?page={middle}",
        ),
        ("prompts: templates, first page", admin, f"/console/prompts/{BENCH_WORKSPACE}"),
        (
            "prompts: templates, search (`q=00042`)",
            admin,
            f"/console/prompts/{BENCH_WORKSPACE}?q=00042",
        ),
        (
            "prompts: templates, 100 a page",
            admin,
            f"/console/prompts/{BENCH_WORKSPACE}?size=100",
        ),
    ]


# --- Keys and Audit ---
BENCH_FACES = ("native", "native", "native", "cli", "console")  # console: one event in five
BENCH_ACTIONS = (AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE, AuditAction.REVOKE)
BENCH_TYPES = (
    ResourceType.LLM,
    ResourceType.PRINCIPAL,
    ResourceType.API_KEY,
    ResourceType.CONFIG,
    ResourceType.MODEL_GROUP,
)
RARE_ACTOR = "bench-rare-actor"
DAY_MS = 86_400_000


async def fill_principals_and_events(settings: Settings, actor_id: str, total: int) -> None:
    """Add `total` principals (one in ten an admin) and `total` audit events (faces,
    actions and resource types mixed, one in a hundred by another actor, spread over the
    last 30 days), in one transaction."""
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    now = int(time.time() * 1000)
    step = max(1, 30 * DAY_MS // max(1, total))
    try:
        async with store.writer() as uow:
            for n in range(total):
                role = Role.ADMIN if n % 10 == 0 else Role.MEMBER
                await uow.principals.add(
                    Principal(str(uuid.uuid4()), f"bench-principal-{n:05d}", role, now - n)
                )
            events = []
            for n in range(total):
                at = now - (total - n) * step
                events.append(
                    AuditEvent(
                        event_id=new_event_id(at),
                        at=at,
                        actor_id=actor_id if n % 100 else RARE_ACTOR,
                        face=BENCH_FACES[n % len(BENCH_FACES)],
                        request_id=f"bench-{n}",
                        action=BENCH_ACTIONS[n % len(BENCH_ACTIONS)],
                        resource_type=BENCH_TYPES[n % len(BENCH_TYPES)],
                        resource_id=f"bench-resource-{n % 500}",
                        details={"fields": ["displayName"], "n": n},
                    )
                )
            for first in range(0, len(events), 1000):
                await uow.audit.add_many(events[first : first + 1000])
            await uow.commit()
    finally:
        await store.close()


def keys_and_audit_cases(total: int, admin: str) -> list[tuple[str, str, str]]:
    """The Keys screen's principals list and the Audit screen's log, `total` of each."""
    pages = max(1, (total + 2) // 20)  # and the bootstrap admin and the bench's member
    weeks_ago = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=14)
    week = f"since={weeks_ago}&until={weeks_ago + dt.timedelta(days=6)}&timeZone=UTC"
    return [
        ("keys: principals, first page", admin, "/console/keys"),
        ("keys: principals, the last page", admin, f"/console/keys?page={pages}"),
        ("keys: principals, search (`q=00042`)", admin, "/console/keys?q=00042"),
        ("keys: principals, role filter (admin)", admin, "/console/keys?role=admin"),
        ("audit: first page", admin, "/console/audit"),
        ("audit: face filter (console)", admin, "/console/audit?face=console"),
        ("audit: revokes of API keys", admin, "/console/audit?action=revoke&resourceType=api_key"),
        ("audit: one actor (1 event in 100)", admin, f"/console/audit?principalId={RARE_ACTOR}"),
        ("audit: a week two weeks ago", admin, f"/console/audit?{week}"),
    ]


async def fill_parameters_and_usage(settings: Settings, owners: list[str], total: int) -> None:
    """Add `total` parameter namespaces (alternating between `owners`, each holding one
    parameter), one namespace of the first owner's with `total` parameters, and `total`
    gateway usage records of the first owner over the last 6 days (five models, two keys,
    one in ten failed), through the usage recorder as the gateway writes them."""
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    now = int(time.time() * 1000)
    try:
        async with store.writer() as uow:
            for n in range(total):
                key = NamespaceKey(f"cluster-{n % 10}", f"service-{n:05d}")
                await uow.configs.claim(key, owner_id=owners[n % len(owners)], now_ms=now)
                await uow.configs.bump(key, revision=1, now_ms=now)
                await uow.configs.put(key, Config("limit", str(n), now, now, 1), new=True)
            big = NamespaceKey("bench", "many-parameters")
            await uow.configs.claim(big, owner_id=owners[0], now_ms=now)
            await uow.configs.bump(big, revision=1, now_ms=now)
            many = [Config(f"key-{n:05d}", f"value {n}", now, now, 1) for n in range(total)]
            await uow.configs.put_many(big, many, [])
            await uow.commit()
        recorder = UsageRecorder(store, RecorderOptions(queue_max=total + 1))
        for n in range(total):
            recorder.record(
                UsageRecord(
                    at=now - (total - n) * (6 * DAY_MS // max(1, total)),
                    principal_id=owners[0],
                    api_key_id=f"bench-key-{n % 2}",
                    model=f"bench-model-{n % 5}",
                    member=None,
                    operation="chat/completions",
                    status=502 if n % 10 == 0 else 200,
                    streamed=n % 3 == 0,
                    tokens=Tokens(input=100 + n % 50, output=20 + n % 30),
                    cost_nanos=1_000 * (n % 7),
                    latency_us=20_000 + n % 5_000,
                )
            )
        await recorder.flush()
    finally:
        await store.close()


def parameters_and_gateway_cases(total: int, admin: str, member: str) -> list[tuple[str, str, str]]:
    """The Parameters screen's namespaces and one namespace's parameters, and the Gateway
    screen's charts and recent calls, over `total` of each."""
    pages = max(1, (total + 1) // 20)
    return [
        ("parameters: namespaces, first page", admin, "/console/parameters"),
        ("parameters: namespaces, the last page", admin, f"/console/parameters?page={pages}"),
        ("parameters: namespaces, search (`q=00042`)", admin, "/console/parameters?q=00042"),
        ("parameters: a member's namespaces", member, "/console/parameters"),
        (
            "parameters: a namespace of 10,000, its last page",
            admin,
            f"/console/parameters/bench/many-parameters?page={max(1, total // 20)}",
        ),
        ("gateway: usage per day by model (14 days)", admin, "/console/gateway"),
        ("gateway: usage per week by key (12 weeks)", admin, "/console/gateway?period=week&by=key"),
        ("gateway: recent calls, the last week", admin, "/console/gateway/calls?window=168"),
        (
            "gateway: recent calls, failed (5xx)",
            admin,
            "/console/gateway/calls?window=168&status=5xx",
        ),
    ]


def run_fill(filling: Any, settings: Settings, owners: Any, total: int) -> None:
    """Run one of the fills above to its end (in a process of its own)."""
    asyncio.run(filling(settings, owners, total))


def signed_in(base: str, token: str) -> httpx.Client:
    """An HTTP client with a console session of `token`."""
    http = httpx.Client(base_url=base, timeout=30)
    form = http.get("/console/sign-in")
    nonce = _NONCE.search(form.text)
    assert nonce is not None, form.text
    answer = http.post(
        "/console/sign-in", data={"nonce": nonce.group(1), "key": token, "next": "/console"}
    )
    assert answer.status_code == 303, answer.text
    return http


def measure(http: httpx.Client, path: str, runs: int) -> tuple[float, float, int]:
    """Median and slowest milliseconds of `runs` GETs of `path`, and the rows shown."""
    first = http.get(path)
    assert first.status_code == 200, (path, first.status_code)
    rows = sum(body.count("<tr") for body in re.findall(r"<tbody>.*?</tbody>", first.text, re.S))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
    return statistics.median(times), max(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--llms", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = smoke.cap_args(parser.parse_args(), llms=60, runs=2)
    with tempfile.TemporaryDirectory() as directory, database(args.store, Path(directory)) as url:
        env = {
            "MODELPLANE_DATABASE_URL": url,
            "MODELPLANE_SECRET_KEY": new_master_key_text(),
            "MODELPLANE_BOOTSTRAP_TOKEN": TOKEN,
            "MODELPLANE_ACCESS_LOG": "false",
        }
        with Server(cwd=Path(directory), env=env) as server:
            admin = httpx.Client(base_url=server.url, headers={"x-api-key": TOKEN}, timeout=30)
            me = admin.get("/v1/principals").json()["principals"][0]["principalId"]
            member = admin.post("/v1/principals", json={"name": "bench-member", "role": "member"})
            member_id = member.json()["principalId"]
            issued = admin.post(f"/v1/principals/{member_id}/api-keys", json={})
            member_token = issued.json()["token"]
            settings = Settings(database_url=url, secret_key=env["MODELPLANE_SECRET_KEY"])
            # Each in a process of its own: none of its connections outlives it (one left
            # in this process once held SQLite's lock, and the server's writes waited).
            for filling, owners in (
                (fill, [me, member_id]),
                (fill_catalog, [me, member_id]),
                (fill_prompts, me),
                (fill_principals_and_events, me),
                (fill_parameters_and_usage, [me, member_id]),
            ):
                with ProcessPoolExecutor(1) as pool:
                    pool.submit(run_fill, filling, settings, owners, args.llms).result()
            pages = max(1, args.llms // 20)
            cases = [
                ("first page", TOKEN, "/console/connections"),
                ("a middle page", TOKEN, f"/console/connections?page={pages // 2 or 1}"),
                ("the last page", TOKEN, f"/console/connections?page={pages}"),
                ("search (`q=00042`)", TOKEN, "/console/connections?q=00042"),
                ("provider filter (VLLM)", TOKEN, "/console/connections?providerType=VLLM"),
                ("a member's first page", member_token, "/console/connections"),
                *catalog_and_prompt_cases(args.llms, TOKEN, member_token),
                *keys_and_audit_cases(args.llms, TOKEN),
                *parameters_and_gateway_cases(args.llms, TOKEN, member_token),
            ]
            clients = {TOKEN: signed_in(server.url, TOKEN)}
            clients[member_token] = signed_in(server.url, member_token)
            print(f"\n{args.llms:,} connections, {args.store}, {args.runs} runs each\n")
            print("| page | rows | median ms | slowest ms |")
            print("|---|---:|---:|---:|")
            for name, token, path in cases:
                median, slowest, rows = measure(clients[token], path, args.runs)
                print(f"| {name} | {rows} | {median:.1f} | {slowest:.1f} |")


if __name__ == "__main__":
    main()
