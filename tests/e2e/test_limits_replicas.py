"""Limits and budgets across two real replicas on PostgreSQL, counted in the database and in
Redis, called through the official `openai` SDK: a rate limit under load from both holds
within 5 % (fixed windows hold it exactly), and 50 concurrent budgeted calls spend at most
one call's cost past the budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from modelplane.domain.spend_limits import minute_window
from modelplane.services.clock import now_ms
from tests.support.databases import database
from tests.support.redis_counters import COUNTERS, REDIS_URL, redis_prefix
from tests.support.server import Server, instance_env, replicas
from tests.support.upstreams import FixtureUpstream

TOKEN = "mp_e2e_limits_token_0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
PRICES = {"input": 1, "output": 2}  # per million tokens
REAL_COST = (7 * 1 + 6 * 2) * 1000  # nano-units: the fixture upstream's 7 in, 6 out
RPM = 60
CALLS = 2 * RPM  # from both replicas at once
BUDGETED_CALLS = 50


@pytest.fixture(params=COUNTERS)
async def counter_env(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """The replicas' environment for counters in the database, or in Redis."""
    if request.param == "redis":
        async for prefix in redis_prefix():
            yield {"MODELPLANE_REDIS_URL": REDIS_URL, "MODELPLANE_REDIS_KEY_PREFIX": prefix}
    else:
        yield {}


@pytest.fixture
def two_replicas(tmp_path: Path, counter_env: dict[str, str]) -> Iterator[list[Server]]:
    with database("postgres", tmp_path) as url:
        env = instance_env(url, TOKEN, **counter_env)
        with replicas(env, cwd=tmp_path) as servers:
            yield servers


def admin(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=HEADERS, timeout=10)


def setup(server: Server, upstream: FixtureUpstream, limits: dict[str, Any]) -> str:
    """A priced connection `m`, and `limits` on the admin principal; the limits' path."""
    with admin(server) as http:
        created = http.post(
            "/v1/llms",
            json={
                "displayName": "fixture",
                "providerType": "CUSTOM_OPENAI_COMPATIBLE",
                "endpointUrl": upstream.base(),
                "modelIdentifier": "m",
                "credentials": {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": "k"}},
                "clientConfig": {"cost": PRICES},
            },
        )
        assert created.status_code == 201, created.text
        principal_id = next(
            p["principalId"] for p in http.get("/v1/principals").json()["principals"]
        )
        path = f"/v1/principals/{principal_id}/limits"
        put = http.put(path, json=limits)
        assert put.status_code == 200, put.text
        return path


async def fire(servers: list[Server], count: int, **extra: Any) -> list[Any]:
    """`count` chat calls at once, alternating between the replicas: each answer, or the
    SDK's error."""
    clients = [
        openai.AsyncOpenAI(base_url=f"{s.url}/openai/v1", api_key=TOKEN, max_retries=0, timeout=30)
        for s in servers
    ]
    try:
        return await asyncio.gather(
            *(
                clients[n % len(clients)].chat.completions.create(model="m", messages=ASK, **extra)
                for n in range(count)
            ),
            return_exceptions=True,
        )
    finally:
        for client in clients:
            await client.close()


def settled_use(server: Server, path: str) -> dict[str, Any]:
    """The limits' use once it holds still (settlements run just after each call)."""
    last: dict[str, Any] | None = None
    deadline = time.monotonic() + 10
    with admin(server) as http:
        while True:
            use: dict[str, Any] = http.get(path).json()["use"]
            if use == last or time.monotonic() > deadline:
                return use
            last = use
            time.sleep(0.2)


def wait_for_a_fresh_minute(needed_seconds: float = 20.0) -> None:
    """Sleep into the next minute when less than `needed_seconds` are left of this one."""
    left = (minute_window(now_ms()).end - now_ms()) / 1000
    if left < needed_seconds:
        time.sleep(left + 0.2)


@pytest.mark.postgres
def test_a_rate_limit_holds_under_load_from_two_replicas(
    two_replicas: list[Server], upstream: FixtureUpstream
) -> None:
    path = setup(two_replicas[0], upstream, {"rpm": RPM})
    wait_for_a_fresh_minute()
    started = minute_window(now_ms())
    answers = asyncio.run(fire(two_replicas, CALLS))
    assert minute_window(now_ms()) == started, "the load straddled a minute's end"
    admitted = [a for a in answers if not isinstance(a, Exception)]
    refused = [a for a in answers if isinstance(a, openai.RateLimitError)]
    assert len(admitted) + len(refused) == CALLS, [a for a in answers if isinstance(a, Exception)]
    assert abs(len(admitted) - RPM) <= RPM * 0.05
    assert len(admitted) == RPM  # fixed windows in shared counters: exactly the limit
    retry_after = int(refused[0].response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert refused[0].body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    assert settled_use(two_replicas[1], path)["requests"]["used"] == RPM


@pytest.mark.postgres
def test_fifty_concurrent_budgeted_calls_overspend_by_at_most_one_calls_cost(
    two_replicas: list[Server], upstream: FixtureUpstream
) -> None:
    budget_nanos = 1_000_000  # 0.001: a call's bound is about 0.00014, its cost 0.000019
    path = setup(two_replicas[0], upstream, {"budget": budget_nanos / 1e9, "period": "month"})
    answers = asyncio.run(fire(two_replicas, BUDGETED_CALLS, max_tokens=20))
    admitted = [a for a in answers if not isinstance(a, Exception)]
    refused = [a for a in answers if isinstance(a, openai.RateLimitError)]
    assert len(admitted) + len(refused) == BUDGETED_CALLS, answers
    assert admitted and refused
    assert all(r.body["code"] == "insufficient_quota" for r in refused)  # type: ignore[index]
    spent = settled_use(two_replicas[1], path)["spend"]["usedNanos"]
    assert spent == len(admitted) * REAL_COST  # every call settled at its real cost
    assert spent <= budget_nanos + REAL_COST
