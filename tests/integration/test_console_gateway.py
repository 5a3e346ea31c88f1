"""The Gateway screen through httpx, on both stores: real gateway calls drawn as SVG
charts (title, description, a data table) per day or week, by model or by key; the recent
calls paged with their status and latency; what a member sees; refused queries naming the
field."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.domain.prices import Tokens
from modelplane.domain.usage import DAY_MS, UsageRecord
from modelplane.services.clock import now_ms
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import signed_in
from tests.support.gateway_calls import connection, gateway_settings
from tests.support.upstreams import FixtureUpstream

CHAT = "/openai/v1/chat/completions"
PRICES = {"input": 2, "output": 10}  # per million tokens: the fixture answers 7 in, 6 out


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Records wait for an explicit flush: the tests say when."""
    return gateway_settings(database_url, usage_flush_seconds=60.0)


async def _calls(client: httpx.AsyncClient, model: str, count: int, **headers: str) -> None:
    for _ in range(count):
        asked = await client.post(
            CHAT,
            json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
            headers=headers,
        )
        assert asked.status_code == 200, asked.text


def _earlier(days_ago: int, model: str, principal_id: str) -> UsageRecord:
    return UsageRecord(
        at=now_ms() - days_ago * DAY_MS,
        principal_id=principal_id,
        api_key_id="key-earlier",
        model=model,
        member=None,
        operation="chat/completions",
        status=502,
        streamed=False,
        tokens=Tokens(input=100, output=50),
        cost_nanos=None,
        latency_us=250_000,
    )


def _bars(page: str, chart: str) -> list[str]:
    svg = page.split(f'id="{chart}"', 1)[1].split("</svg>", 1)[0]
    return re.findall(r'<rect class="bar bar-\d"[^>]*><title>([^<]+)</title>', svg)


async def test_real_calls_are_charted_per_day_and_week_by_model_and_key(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base("ok-a"), "model-a", clientConfig={"cost": PRICES})
    await connection(client, upstream.base("ok-b"), "model-b")
    await _calls(client, "model-a", 3)
    await _calls(client, "model-b", 1)
    me: Any = (await client.get("/v1/principals")).json()["principals"][0]["principalId"]
    app.state.usage.record(_earlier(3, "model-b", me))
    await app.state.usage.flush()
    async with signed_in(app, ADMIN_TOKEN) as http:
        by_day = await http.get("/console/gateway")
        by_week = await http.get("/console/gateway", params={"period": "week", "by": "key"})
        only_b = await http.get("/console/gateway", params={"model": "model-b"})
    assert by_day.status_code == 200
    page = by_day.text
    assert '<svg class="chart" id="chart-calls"' in page and 'role="img"' in page
    assert '<title id="chart-calls-title">Gateway calls by model</title>' in page
    assert '<desc id="chart-calls-desc">Calls per day' in page
    assert "style=" not in page
    calls_bars = _bars(page, "chart-calls")
    assert len(calls_bars) == 3  # today: a and b; three days ago: b
    assert any(b.endswith("model-a: 3") for b in calls_bars)
    cost_bars = _bars(page, "chart-cost")
    assert [b.rsplit(": ", 1)[1] for b in cost_bars] == ["0.0002"]  # 3 x 74e-6, model-a only
    table = page.split('id="chart-calls-data"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 15  # a header and 14 days
    totals = page.split('id="usage-totals"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"model-a</th>\s*<td class=\"num\">3</td>", totals)
    assert re.search(r"model-b</th>\s*<td class=\"num\">2</td>", totals)
    week = by_week.text
    assert "Gateway calls by API key" in week and "key-earlier" in week
    week_table = week.split('id="chart-calls-data"', 1)[1].split("</table>", 1)[0]
    assert week_table.count("<tr>") == 13  # a header and 12 weeks
    assert sum(int(b.rsplit(": ", 1)[1]) for b in _bars(week, "chart-calls")) == 5
    assert "model-a" not in only_b.text.split('id="usage-totals"', 1)[1]


async def test_recent_calls_page_newest_first_with_status_and_latency(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base("ok-paged"), "paged-model")
    await _calls(client, "paged-model", 23)
    me: Any = (await client.get("/v1/principals")).json()["principals"][0]["principalId"]
    app.state.usage.record(_earlier(0, "failing-model", me))
    await app.state.usage.flush()
    async with signed_in(app, ADMIN_TOKEN) as http:
        first = await http.get("/console/gateway/calls")
        older_link = re.search(r'<a class="button" rel="next" href="([^"]+)">Older</a>', first.text)
        assert older_link is not None
        older = await http.get(older_link.group(1).replace("&amp;", "&"))
        failed = await http.get("/console/gateway/calls", params={"status": "5xx"})
        week = await http.get("/console/gateway/calls", params={"window": "168", "size": "100"})
        hour = await http.get("/console/gateway/calls", params={"window": "1", "size": "100"})
        bad_status = await http.get("/console/gateway/calls", params={"status": "nope"})
        bad_period = await http.get("/console/gateway", params={"period": "month"})
        bad_size = await http.get("/console/gateway/calls", params={"size": "7"})
    rows = re.findall(r"<tbody>(.*?)</tbody>", first.text, re.S)[0].count("<tr>")
    assert rows == 20
    assert older.text.count('<td class="mono">paged-model</td>') == 4  # 24 calls, 20 + 4
    assert "Newest" in older.text and 'aria-disabled="true">Older' in older.text
    assert failed.text.count("<tr>") == 2  # a header and the failed call
    assert '<span class="badge bad status">502</span>' in failed.text
    assert "250.0 ms" in failed.text
    assert week.text.count("paged-model") == hour.text.count("paged-model") == 23
    assert bad_status.status_code == 400 and "status" in bad_status.text
    assert bad_period.status_code == 400 and "period" in bad_period.text
    assert bad_size.status_code == 400 and "size" in bad_size.text


async def test_a_member_sees_only_its_own_calls(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base("ok-admins"), "admins-model")
    await _calls(client, "admins-model", 2)
    _, token = await new_member(client, "gateway-member")
    headers = {"Authorization": f"Bearer {token}"}
    mine = await client.post(
        "/v1/llms",
        headers=headers,
        json={
            "displayName": "member's",
            "providerType": "CUSTOM_OPENAI_COMPATIBLE",
            "endpointUrl": upstream.base("ok-members"),
            "modelIdentifier": "members-model",
        },
    )
    assert mine.status_code == 201, mine.text
    await _calls(client, "members-model", 1, **headers)
    await app.state.usage.flush()
    async with signed_in(app, token) as http:
        usage = await http.get("/console/gateway")
        calls = await http.get("/console/gateway/calls")
    assert "members-model" in usage.text and "admins-model" not in usage.text
    assert "members-model" in calls.text and "admins-model" not in calls.text
    assert "Your calls" in calls.text
