"""Usage of the gateway (both stores): every call recorded with its caller, key, member,
tokens and cost; reports grouped from the daily rollups; members see only their own;
nothing queued is lost on a clean shutdown; the retention deletes old records only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.domain.prices import Tokens
from modelplane.domain.usage import DAY_MS, UsageRecord, day_text
from modelplane.services.bootstrap import BOOTSTRAP_NAME
from modelplane.services.clock import now_ms
from modelplane.services.usage_recorder import RecorderOptions, UsageRecorder
from modelplane.settings import Settings
from modelplane.store import migrate
from modelplane.store.cache import ReadCache
from modelplane.store.engine import create_engines
from modelplane.store.uow import Store
from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.gateway_calls import connection, gateway_settings
from tests.support.upstreams import FixtureUpstream

CHAT = "/openai/v1/chat/completions"
ASK = [{"role": "user", "content": "Say hello"}]
PRICES = {"input": 2, "output": 10}  # per million tokens
COST = (7 * 2 + 6 * 10) / 1_000_000  # the fixture upstream's usage: 7 in, 6 out
BEFORE_MONTHLY, MONTHLY = "0017", "0018"  # the migration that adds usage_monthly


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Records wait for an explicit flush (or the shutdown): the tests say when."""
    return gateway_settings(database_url, usage_flush_seconds=60.0)


async def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def admin_ids(client: httpx.AsyncClient) -> tuple[str, str]:
    """The bootstrap admin's principal id and API key id."""
    listed = await ok(await client.get("/v1/principals"))
    admin = next(p for p in listed["principals"] if p["name"] == BOOTSTRAP_NAME)
    keys = await ok(await client.get(f"/v1/principals/{admin['principalId']}/api-keys"))
    return admin["principalId"], keys["apiKeys"][0]["apiKeyId"]


async def call(client: httpx.AsyncClient, model: str, *, stream: bool = False) -> httpx.Response:
    body: dict[str, Any] = {"model": model, "messages": ASK}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return await client.post(CHAT, json=body)


async def test_every_call_is_recorded_with_its_caller_key_member_tokens_and_cost(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    priced = await connection(
        client, upstream.base("ok-usage"), "fixture-model", clientConfig={"cost": PRICES}
    )
    refused = await connection(client, upstream.base("status-400"), "unpriced-model")
    assert (await call(client, "fixture-model")).status_code == 200
    assert (await call(client, "fixture-model", stream=True)).status_code == 200
    assert (await call(client, "unpriced-model")).status_code == 400
    assert app.state.usage.waiting == 3
    assert await app.state.usage.flush() == 3

    principal_id, key_id = await admin_ids(client)
    records = (await ok(await client.get("/v1/usage/records")))["records"]
    assert [r["model"] for r in records] == ["unpriced-model", "fixture-model", "fixture-model"]
    failed, streamed, whole = records
    for record in (streamed, whole):
        assert record["principalId"] == principal_id
        assert record["apiKeyId"] == key_id
        assert record["member"] == f"llm/{priced}"
        assert record["operation"] == "chat/completions"
        assert record["status"] == 200
        assert (record["inputTokens"], record["outputTokens"], record["cachedTokens"]) == (7, 6, 0)
        assert record["cost"] == pytest.approx(COST)
        assert record["latencyMs"] > 0
        assert record["requestId"]
    assert (whole["streamed"], streamed["streamed"]) == (False, True)
    assert failed["member"] == f"llm/{refused}"
    assert (failed["status"], failed["cost"], failed["inputTokens"]) == (400, None, 0)


async def test_a_call_no_upstream_answers_is_recorded_with_the_gateways_status(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await connection(client, "http://127.0.0.1:9/v1", "nowhere-model")
    assert (await call(client, "nowhere-model")).status_code == 502
    await app.state.usage.flush()
    (record,) = (await ok(await client.get("/v1/usage/records")))["records"]
    assert (record["status"], record["model"], record["cost"]) == (502, "nowhere-model", None)


async def test_a_report_sums_per_group_pages_in_group_order_and_filters(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base("ok-a"), "model-a", clientConfig={"cost": PRICES})
    await connection(client, upstream.base("ok-b"), "model-b")
    await connection(client, upstream.base("status-429"), "model-c")
    for model in ("model-a", "model-a", "model-b", "model-c"):
        await call(client, model)
    await app.state.usage.flush()
    today = day_text(now_ms() // DAY_MS)

    total = await ok(await client.get("/v1/usage"))
    assert (total["groupBy"], total["to"], total["nextPageToken"]) == ([], today, None)
    (everything,) = total["groups"]
    assert (everything["calls"], everything["inputTokens"], everything["outputTokens"]) == (
        4,
        21,
        18,
    )
    assert everything["cost"] == pytest.approx(2 * COST)  # only model-a has a price
    assert everything["unpricedCalls"] == 2

    first = await ok(await client.get("/v1/usage", params={"groupBy": "model,day", "pageSize": 2}))
    assert [(g["day"], g["model"], g["calls"]) for g in first["groups"]] == [
        (today, "model-a", 2),
        (today, "model-b", 1),
    ]
    assert "member" not in first["groups"][0]
    rest = await ok(
        await client.get(
            "/v1/usage",
            params={
                "groupBy": ["day", "model"],
                "pageSize": 2,
                "pageToken": first["nextPageToken"],
            },
        )
    )
    assert [(g["model"], g["cost"]) for g in rest["groups"]] == [("model-c", None)]
    assert rest["nextPageToken"] is None

    refused = await ok(await client.get("/v1/usage", params={"groupBy": "model", "status": "4xx"}))
    assert [(g["model"], g["calls"]) for g in refused["groups"]] == [("model-c", 1)]
    one = await ok(await client.get("/v1/usage", params={"groupBy": "member", "model": "model-b"}))
    assert [g["calls"] for g in one["groups"]] == [1]
    earlier = await ok(
        await client.get("/v1/usage", params={"from": "2020-01-01", "to": "2020-01-31"})
    )
    assert earlier["groups"][0]["calls"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"groupBy": "model,colour"}, "groupBy"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
        ({"status": "42"}, "status"),
        ({"pageSize": 0}, "pageSize"),
        ({"groupBy": "model", "pageToken": "not-a-token"}, "pageToken"),
    ],
)
async def test_a_bad_report_query_names_its_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    answer = await client.get("/v1/usage", params=params)
    assert answer.status_code == 400, answer.text
    assert field in [d["field"] for d in answer.json()["details"]]


async def test_a_member_sees_only_its_own_usage(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    member_id, token = await new_member(client, "usage-member")
    await connection(client, upstream.base("ok-admin"), "admin-model")
    await call(client, "admin-model")
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "displayName": "member's",
        "providerType": "CUSTOM_OPENAI_COMPATIBLE",
        "endpointUrl": upstream.base("ok-member"),
        "modelIdentifier": "member-model",
    }
    await ok(await client.post("/v1/llms", json=body, headers=headers))
    asked = await client.post(
        CHAT, json={"model": "member-model", "messages": ASK}, headers=headers
    )
    assert asked.status_code == 200, asked.text
    await app.state.usage.flush()

    everyone = await ok(await client.get("/v1/usage", params={"groupBy": "principal"}))
    assert len(everyone["groups"]) == 2
    own = await ok(await client.get("/v1/usage", params={"groupBy": "model"}, headers=headers))
    assert [(g["model"], g["calls"]) for g in own["groups"]] == [("member-model", 1)]
    admin_id, _ = await admin_ids(client)
    others = await client.get("/v1/usage", params={"principalId": admin_id}, headers=headers)
    assert (await ok(others))["groups"][0]["calls"] == 0
    listed = await ok(await client.get("/v1/usage/records", headers=headers))
    assert [r["principalId"] for r in listed["records"]] == [member_id]
    foreign = await client.get(
        "/v1/usage/records", params={"principalId": admin_id}, headers=headers
    )
    assert (await ok(foreign))["records"] == []


async def test_a_clean_shutdown_writes_every_queued_record(
    settings: Settings, upstream: FixtureUpstream
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://modelplane.test", headers=headers
        ) as client:
            await connection(client, upstream.base("ok-shutdown"), "shutdown-model")
            for _ in range(5):
                assert (await call(client, "shutdown-model")).status_code == 200
        assert app.state.usage.waiting == 5  # none written yet: the flush is a minute away
    again = create_app(settings)
    async with again.router.lifespan_context(again), again.state.store.reader() as uow:
        assert await uow.usage.count() == 5


def old_record(at: int) -> UsageRecord:
    return UsageRecord(
        at=at,
        principal_id="p-old",
        api_key_id=None,
        model="old-model",
        member=None,
        operation="chat/completions",
        status=200,
        streamed=False,
        tokens=Tokens(input=1, output=1),
        cost_nanos=None,
        latency_us=1000,
    )


async def test_the_retention_deletes_old_records_and_keeps_their_daily_sums(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    now = now_ms()
    recorder = UsageRecorder(app.state.store, RecorderOptions(retention_days=2))
    for at in (now - 5 * DAY_MS, now - 3 * DAY_MS, now - DAY_MS, now):
        recorder.record(old_record(at))
    await recorder.flush()
    assert await recorder.prune() == 2
    async with app.state.store.reader() as uow:
        assert await uow.usage.count() == 2
    days = {"from": day_text((now - 6 * DAY_MS) // DAY_MS), "groupBy": "day"}
    report = await ok(await client.get("/v1/usage", params=days))
    assert sum(g["calls"] for g in report["groups"]) == 4


async def test_records_wait_while_the_store_is_down_and_past_the_bound_are_dropped(
    tmp_path: Any,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/usage.db")
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    recorder = UsageRecorder(store, RecorderOptions(queue_max=3))
    try:
        for n in range(5):
            recorder.record(old_record(n))
        with pytest.raises(Exception):  # noqa: B017 - whatever the store raises
            await recorder.flush()
        assert (recorder.waiting, recorder.dropped) == (3, 2)
        gauges = {name: value for name, _, _, value in recorder.gauges()}
        assert gauges["modelplane_usage_records_dropped_total"] == 2
        assert gauges["modelplane_usage_records_waiting"] == 3
    finally:
        await engines.dispose()


def on(text: str, model: str = "month-model") -> UsageRecord:
    at = (date.fromisoformat(text) - date(1970, 1, 1)).days * DAY_MS + 3_600_000
    return replace(old_record(at), model=model)


async def test_a_report_over_whole_months_counts_each_call_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    recorder = UsageRecorder(app.state.store)
    for text in (
        "2026-01-15",
        "2026-01-25",
        "2026-02-10",
        "2026-02-28",
        "2026-03-03",
        "2026-03-20",
    ):
        recorder.record(on(text))
    recorder.record(on("2026-02-11", model="other-model"))
    await recorder.flush()
    span = {"from": "2026-01-20", "to": "2026-03-10"}
    by_model = await ok(await client.get("/v1/usage", params={**span, "groupBy": "model"}))
    assert [(g["model"], g["calls"]) for g in by_model["groups"]] == [
        ("month-model", 4),
        ("other-model", 1),
    ]
    by_day = await ok(
        await client.get("/v1/usage", params={**span, "groupBy": "day", "model": "month-model"})
    )
    assert [(g["day"], g["calls"]) for g in by_day["groups"]] == [
        ("2026-01-25", 1),
        ("2026-02-10", 1),
        ("2026-02-28", 1),
        ("2026-03-03", 1),
    ]
    february = {"from": "2026-02-01", "to": "2026-02-28", "model": "month-model"}
    assert (await ok(await client.get("/v1/usage", params=february)))["groups"][0]["calls"] == 2


def downgrade(sync_conn: Any, *, target: str) -> None:
    from alembic import command

    config = migrate.alembic_config()
    config.attributes["connection"] = sync_conn
    command.downgrade(config, target)


async def test_the_monthly_sums_start_with_the_daily_rows_already_kept(
    new_database_url: str,
) -> None:
    settings = Settings(database_url=new_database_url, secret_key="a" * 64)
    jan, feb = ((date(2026, m, 1) - date(1970, 1, 1)).days for m in (1, 2))
    async with migrate.exclusive(settings) as conn:
        await migrate.upgrade(conn, BEFORE_MONTHLY, scripts_only=True)
        for offset, calls in ((jan + 30, 1), (feb, 2), (feb + 14, 3)):
            await conn.execute(
                sa.text(
                    "INSERT INTO usage_daily VALUES "
                    "(:day, 'p-1', 'k-1', 'm', 'llm/1', 200, :calls, 0, 10, 5, 0, 0, 7, 0, 100)"
                ),
                {"day": offset, "calls": calls},
            )
        await conn.commit()
        assert await migrate.upgrade(conn, MONTHLY, scripts_only=True) is True
        found = await conn.execute(
            sa.text("SELECT month, calls, cost_nanos, latency_us FROM usage_monthly ORDER BY month")
        )
        assert [tuple(r) for r in found] == [(jan, 1, 7, 100), (feb, 5, 14, 200)]
        await conn.run_sync(partial(downgrade, target=BEFORE_MONTHLY))
        await conn.commit()
        names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert "usage_monthly" not in names and "usage_daily" in names
