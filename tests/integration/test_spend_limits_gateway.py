"""Limits and budgets at the gateway (both stores; counters in the database and in Redis):
refusals are 429 with Retry-After in the family's error shape, a budget reserves a call's
upper bound and settles its real cost, a call without limits touches no counter, and
counters that do not answer refuse (503) or let through, as configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from modelplane.domain.spend_limits import minute_window
from modelplane.services.bootstrap import BOOTSTRAP_NAME
from modelplane.services.clock import now_ms
from modelplane.settings import Settings
from tests.support.gateway_calls import connection, gateway_settings
from tests.support.redis_counters import COUNTERS, counter_settings, redis_prefix
from tests.support.upstreams import FixtureUpstream

CHAT = "/openai/v1/chat/completions"
MESSAGES = "/anthropic/v1/messages"
ASK = [{"role": "user", "content": "Say hello"}]
PRICES = {"input": 1, "output": 2}  # per million tokens
REAL_COST = (7 * 1 + 6 * 2) * 1000  # nano-units: the fixture upstream's 7 in, 6 out


@pytest.fixture(params=COUNTERS)
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, str | None]]:
    if request.param == "redis":
        async for prefix in redis_prefix():
            yield "redis", prefix
    else:
        yield "database", None


@pytest.fixture
def settings(database_url: str, counters: tuple[str, str | None]) -> Settings:
    return gateway_settings(database_url, **counter_settings(*counters))


async def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def admin_ids(client: httpx.AsyncClient) -> tuple[str, str]:
    """The bootstrap admin's principal id and API key id."""
    listed = await ok(await client.get("/v1/principals"))
    admin = next(p for p in listed["principals"] if p["name"] == BOOTSTRAP_NAME)
    keys = await ok(await client.get(f"/v1/principals/{admin['principalId']}/api-keys"))
    return admin["principalId"], keys["apiKeys"][0]["apiKeyId"]


async def chat(client: httpx.AsyncClient, model: str, **extra: Any) -> httpx.Response:
    return await client.post(CHAT, json={"model": model, "messages": ASK, **extra})


async def counted(app: FastAPI, path: str, client: httpx.AsyncClient) -> dict[str, Any]:
    """The limits' use at `path`, once every ended call is settled."""
    await app.state.spend_guard.settled()
    use: dict[str, Any] = (await ok(await client.get(path)))["use"]
    return use


async def test_without_limits_a_call_touches_no_counter(
    app: FastAPI,
    client: httpx.AsyncClient,
    upstream: FixtureUpstream,
    counters: tuple[str, str | None],
) -> None:
    await connection(client, upstream.base(), "free-model")
    for _ in range(3):
        await ok(await chat(client, "free-model"))
    guard = app.state.spend_guard
    await guard.settled()
    assert guard.refused == guard.unchecked == guard.unavailable == 0
    principal_id, _ = await admin_ids(client)
    # Setting limits now shows nothing counted before: no counter was written.
    put = await ok(await client.put(f"/v1/principals/{principal_id}/limits", json={"rpm": 9}))
    use = put["use"]
    assert use["requests"]["used"] == 0 and use["tokens"]["used"] == 0


async def test_a_keys_rate_limit_refuses_with_retry_after_in_each_familys_shape(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "rated-model")
    await connection(client, upstream.base(), "rated-claude", apiPath="/messages")
    principal_id, key_id = await admin_ids(client)
    path = f"/v1/principals/{principal_id}/api-keys/{key_id}/limits"
    await ok(await client.put(path, json={"rpm": 2}))
    started = now_ms()
    answers = [await chat(client, "rated-model") for _ in range(3)]
    statuses = [a.status_code for a in answers]
    if minute_window(now_ms()).start != minute_window(started).start:
        pytest.skip("the calls straddled a minute's end")  # a new window admits again
    assert statuses == [200, 200, 429]
    refused = answers[2]
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert "2 requests per minute" in error["message"]
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 60
    assert abs(wait - (minute_window(now_ms()).end - now_ms()) / 1000) <= 1.5
    assert (await counted(app, path, client))["requests"]["used"] == 2  # the refused took none

    anthropic = await client.post(
        MESSAGES, json={"model": "rated-claude", "max_tokens": 5, "messages": ASK}
    )
    assert anthropic.status_code == 429
    assert anthropic.json()["type"] == "error"
    assert anthropic.json()["error"]["type"] == "rate_limit_error"
    assert "retry-after" in anthropic.headers


async def test_a_call_refused_by_its_principal_takes_nothing_from_its_key(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "nested-model")
    principal_id, key_id = await admin_ids(client)
    key_path = f"/v1/principals/{principal_id}/api-keys/{key_id}/limits"
    await ok(await client.put(key_path, json={"rpm": 100}))
    await ok(await client.put(f"/v1/principals/{principal_id}/limits", json={"rpm": 1}))
    started = now_ms()
    statuses = [(await chat(client, "nested-model")).status_code for _ in range(3)]
    use = await counted(app, key_path, client)
    if minute_window(now_ms()).start != minute_window(started).start:
        pytest.skip("the calls straddled a minute's end")
    assert statuses == [200, 429, 429]
    assert use["requests"]["used"] == 1


async def test_tokens_per_minute_count_each_calls_real_tokens(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "token-model")
    principal_id, _ = await admin_ids(client)
    path = f"/v1/principals/{principal_id}/limits"
    await ok(await client.put(path, json={"tpm": 20}))
    started = now_ms()
    first = await chat(client, "token-model")
    assert (await counted(app, path, client))["tokens"]["used"] == 13  # 7 in, 6 out
    second = await chat(client, "token-model")  # 13 < 20: allowed
    assert (await counted(app, path, client))["tokens"]["used"] == 26
    third = await chat(client, "token-model")
    if minute_window(now_ms()).start != minute_window(started).start:
        pytest.skip("the calls straddled a minute's end")
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert "20 tokens per minute" in third.json()["error"]["message"]


async def test_a_budget_reserves_the_upper_bound_and_settles_the_real_cost(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "priced-model", clientConfig={"cost": PRICES})
    await connection(
        client, upstream.base(), "priced-claude", apiPath="/messages", clientConfig={"cost": PRICES}
    )
    principal_id, key_id = await admin_ids(client)
    path = f"/v1/principals/{principal_id}/api-keys/{key_id}/limits"
    budget_nanos = 300_000
    await ok(await client.put(path, json={"budget": budget_nanos / 1e9, "period": "day"}))

    admitted = 0
    refused = None
    for _ in range(30):
        answer = await chat(client, "priced-model", max_tokens=50)
        await app.state.spend_guard.settled()
        if answer.status_code != 200:
            refused = answer
            break
        admitted += 1
        spend = (await counted(app, path, client))["spend"]
        assert spend["usedNanos"] == admitted * REAL_COST  # settled: the real cost
    assert refused is not None and refused.status_code == 429, refused
    # A call reserves its bound (its body's bytes in, 50 out, here about 0.0002): the
    # budget admits calls while what was spent and that bound fit in it.
    assert 1 <= admitted < budget_nanos // REAL_COST
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert "budget of 0.0003 per day" in error["message"]
    assert refused.headers["x-should-retry"] == "false"
    assert int(refused.headers["retry-after"]) <= 86_400
    spend = (await counted(app, path, client))["spend"]
    assert spend["usedNanos"] == admitted * REAL_COST <= budget_nanos
    assert spend["resetsAt"] % 86_400_000 == 0

    anthropic = await client.post(
        MESSAGES, json={"model": "priced-claude", "max_tokens": 50, "messages": ASK}
    )
    assert anthropic.status_code == 429
    assert anthropic.json()["error"]["type"] == "billing_error"

    # A smaller maximum lowers the bound: the same budget takes the call again.
    assert (await chat(client, "priced-model", max_tokens=1)).status_code == 200


async def test_a_model_without_a_price_is_refused_under_a_budget(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "unpriced-model")
    principal_id, _ = await admin_ids(client)
    path = f"/v1/principals/{principal_id}/limits"
    await ok(await client.put(path, json={"budget": 5, "period": "month"}))
    refused = await chat(client, "unpriced-model")
    assert refused.status_code == 400
    assert "has no price" in refused.json()["error"]["message"]
    assert upstream.seen == []  # never relayed
    assert (await counted(app, path, client))["spend"]["usedNanos"] == 0


async def test_a_call_refused_upstream_gives_its_reservation_back(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(
        client, upstream.base("status-400"), "failing-model", clientConfig={"cost": PRICES}
    )
    principal_id, _ = await admin_ids(client)
    path = f"/v1/principals/{principal_id}/limits"
    await ok(await client.put(path, json={"budget": 1, "period": "day"}))
    assert (await chat(client, "failing-model")).status_code == 400
    assert (await counted(app, path, client))["spend"]["usedNanos"] == 0


@pytest.mark.parametrize("fail_open", [False, True])
async def test_counters_that_do_not_answer_refuse_or_let_through_as_configured(
    database_url: str, upstream: FixtureUpstream, fail_open: bool
) -> None:
    from modelplane.app import create_app
    from tests.conftest import ADMIN_TOKEN

    settings = gateway_settings(
        database_url,
        redis_url=SecretStr("redis://127.0.0.1:1/0"),
        redis_timeout_seconds=0.5,
        limits_fail_open=fail_open,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://modelplane.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as client,
    ):
        await connection(client, upstream.base(), "guarded-model")
        principal_id, _ = await admin_ids(client)
        put = await client.put(f"/v1/principals/{principal_id}/limits", json={"rpm": 5})
        assert put.status_code == 200 and put.json()["use"] is None  # stored; use unknown
        answer = await chat(client, "guarded-model")
        guard = app.state.spend_guard
        if fail_open:
            assert answer.status_code == 200
            assert (guard.unchecked, guard.unavailable) == (1, 0)
        else:
            assert answer.status_code == 503
            assert answer.json()["error"]["type"] == "api_error"
            assert (guard.unchecked, guard.unavailable) == (0, 1)
        metrics = (await client.get("/metrics")).text
        assert f"modelplane_limits_unchecked_total {float(fail_open)}" in metrics or (
            f"modelplane_limits_unchecked_total {int(fail_open)}" in metrics
        )


async def test_a_stream_is_settled_at_its_reported_usage_else_at_its_reservation(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "streamed-model", clientConfig={"cost": PRICES})
    principal_id, _ = await admin_ids(client)
    path = f"/v1/principals/{principal_id}/limits"
    await ok(await client.put(path, json={"budget": 1, "period": "month"}))
    with_usage = {"stream": True, "stream_options": {"include_usage": True}, "max_tokens": 50}
    answer = await chat(client, "streamed-model", **with_usage)
    assert answer.status_code == 200 and "[DONE]" in answer.text
    assert (await counted(app, path, client))["spend"]["usedNanos"] == REAL_COST
    answer = await chat(client, "streamed-model", stream=True, max_tokens=50)
    assert answer.status_code == 200
    # No usage reported: charged its whole reservation, the call's upper bound.
    charged = (await counted(app, path, client))["spend"]["usedNanos"] - REAL_COST
    assert charged > 50 * 2 * 1000  # at least its 50 output tokens at 2 per million
