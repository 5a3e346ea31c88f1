"""Limits and budgets as a resource: read, set, clear for a principal and for its API keys,
who may do which, every bad field named, audited; on both stores, counted in the
database and in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.client import AsyncClient, InvalidArgument
from modelplane.domain.spend_limits import minute_window
from modelplane.services.clock import now_ms
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.redis_counters import COUNTERS, counter_settings, redis_prefix

ADMIN_LIMITS = {"rpm": 60, "tpm": 10_000, "budget": 25.5, "period": "month"}


@pytest.fixture(params=COUNTERS)
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, str | None]]:
    """Which counters the app uses, and the Redis key prefix of the test."""
    if request.param == "redis":
        async for prefix in redis_prefix():
            yield "redis", prefix
    else:
        yield "database", None


@pytest.fixture
def settings(settings: Settings, counters: tuple[str, str | None]) -> Settings:
    return settings.model_copy(update=counter_settings(*counters))


def as_key(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def key_of(client: httpx.AsyncClient, principal_id: str) -> str:
    issued = await client.post(f"/v1/principals/{principal_id}/api-keys", json={})
    assert issued.status_code == 201, issued.text
    key_id: str = issued.json()["apiKey"]["apiKeyId"]
    return key_id


def fields(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["details"]}


async def test_an_admin_sets_reads_replaces_and_clears_a_principals_limits(
    client: httpx.AsyncClient,
) -> None:
    principal_id, _ = await new_member(client, "team-a")
    path = f"/v1/principals/{principal_id}/limits"
    empty = await client.get(path)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "principalId": principal_id,
        "apiKeyId": None,
        "limits": None,
        "updatedAt": None,
        "use": None,
    }

    before = now_ms()
    put = await client.put(path, json=ADMIN_LIMITS)
    assert put.status_code == 200, put.text
    answer = put.json()
    assert answer["limits"] == {
        "rpm": 60,
        "tpm": 10_000,
        "budget": 25.5,
        "budgetNanos": 25_500_000_000,
        "period": "month",
    }
    assert answer["updatedAt"] >= before
    use = answer["use"]
    assert use["requests"] == {"used": 0, "resetsAt": minute_window(now_ms()).end}
    assert use["tokens"]["used"] == 0
    assert use["spend"]["used"] == 0 and use["spend"]["usedNanos"] == 0
    assert use["spend"]["resetsAt"] > now_ms() + 0  # the first of next month, UTC
    assert (await client.get(path)).json()["limits"] == answer["limits"]

    replaced = await client.put(path, json={"rpm": 5})
    assert replaced.json()["limits"] == {
        "rpm": 5,
        "tpm": None,
        "budget": None,
        "budgetNanos": None,
        "period": None,
    }
    assert replaced.json()["use"]["spend"] is None  # no budget: no spend counted

    cleared = await client.delete(path)
    assert cleared.json() == {"deleted": True, "id": principal_id}
    assert (await client.get(path)).json()["limits"] is None
    assert (await client.delete(path)).json() == {"deleted": False, "id": principal_id}

    events = await client.get(
        "/v1/audit-events", params={"resourceType": "principal", "resourceId": principal_id}
    )
    details = [e["details"] for e in events.json()["auditEvents"] if e["action"] == "update"]
    assert details == [
        {"limits": None},
        {"limits": {"rpm": 5, "tpm": None, "budget": None, "period": None}},
        {"limits": {"rpm": 60, "tpm": 10_000, "budget": "25.50", "period": "month"}},
    ]


async def test_a_keys_limits_live_beside_its_principals_and_go_with_the_key(
    client: httpx.AsyncClient,
) -> None:
    principal_id, _ = await new_member(client, "team-b")
    key_id = await key_of(client, principal_id)
    path = f"/v1/principals/{principal_id}/api-keys/{key_id}/limits"
    put = await client.put(path, json={"budget": "0.000000001", "period": "day"})
    assert put.status_code == 200, put.text
    assert put.json()["apiKeyId"] == key_id
    assert put.json()["limits"]["budgetNanos"] == 1
    assert (await client.get(f"/v1/principals/{principal_id}/limits")).json()["limits"] is None

    deleted = await client.delete(f"/v1/principals/{principal_id}")
    assert deleted.status_code == 200, deleted.text
    assert (await client.get(path)).status_code == 404


BAD_LIMITS: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"limits"}),
    ({"rpm": 0}, {"rpm"}),
    ({"rpm": 10_000_001}, {"rpm"}),
    ({"rpm": 1.5}, {"rpm"}),
    ({"tpm": "many"}, {"tpm"}),
    ({"budget": 10}, {"period"}),
    ({"period": "day"}, {"budget"}),
    ({"budget": 10, "period": "week"}, {"period"}),
    ({"budget": 0, "period": "day"}, {"budget"}),
    ({"budget": -1, "period": "day"}, {"budget"}),
    ({"budget": 0.0000000001, "period": "day"}, {"budget"}),
    ({"budget": 1_000_001, "period": "day"}, {"budget"}),
    ({"rpm": 0, "tpm": 0}, {"rpm", "tpm"}),
    ({"rpm": 5, "burst": 3}, {"burst"}),
]


async def test_bad_limits_name_their_field_and_store_nothing(client: httpx.AsyncClient) -> None:
    principal_id, _ = await new_member(client, "team-c")
    key_id = await key_of(client, principal_id)
    for path in (
        f"/v1/principals/{principal_id}/limits",
        f"/v1/principals/{principal_id}/api-keys/{key_id}/limits",
    ):
        for body, named in BAD_LIMITS:
            refused = await client.put(path, json=body)
            assert refused.status_code == 400, (body, refused.text)
            assert fields(refused) == named, body
        assert (await client.get(path)).json()["limits"] is None


async def test_missing_principals_and_keys_are_404(client: httpx.AsyncClient) -> None:
    principal_id, _ = await new_member(client, "team-d")
    other_id, _ = await new_member(client, "team-e")
    others_key = await key_of(client, other_id)
    assert (await client.get("/v1/principals/nobody/limits")).status_code == 404
    assert (await client.put("/v1/principals/nobody/limits", json={"rpm": 1})).status_code == 404
    wrong = f"/v1/principals/{principal_id}/api-keys/{others_key}/limits"
    assert (await client.put(wrong, json={"rpm": 1})).status_code == 404
    assert (await client.delete(wrong)).status_code == 404


async def test_a_member_reads_its_own_and_sets_its_keys_within_its_principals_limits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    principal_id, token = await new_member(client, "member-a")
    other_id, _ = await new_member(client, "member-b")
    own_key = await key_of(client, principal_id)
    others_key = await key_of(client, other_id)
    await client.put(
        f"/v1/principals/{principal_id}/limits",
        json={"rpm": 100, "budget": 10, "period": "month"},
    )
    async with as_key(app, token) as member:
        mine = await member.get("/v1/principals/me/limits")
        assert mine.status_code == 200 and mine.json()["limits"]["rpm"] == 100
        assert (await member.get(f"/v1/principals/{other_id}/limits")).status_code == 403
        raised = await member.put("/v1/principals/me/limits", json={"rpm": 1000})
        assert raised.status_code == 403
        assert (await member.delete("/v1/principals/me/limits")).status_code == 403

        key_path = f"/v1/principals/me/api-keys/{own_key}/limits"
        beyond = await member.put(
            key_path, json={"rpm": 101, "tpm": 5, "budget": 11, "period": "day"}
        )
        assert beyond.status_code == 403
        assert "rpm: at most 100" in beyond.json()["message"]
        assert "budget: at most 10.00" in beyond.json()["message"]
        assert (await member.get(key_path)).json()["limits"] is None

        within = await member.put(
            key_path, json={"rpm": 10, "tpm": 5, "budget": 2, "period": "day"}
        )
        assert within.status_code == 200, within.text
        assert within.json()["principalId"] == principal_id
        assert (await member.delete(key_path)).json() == {"deleted": True, "id": own_key}

        others = f"/v1/principals/{other_id}/api-keys/{others_key}/limits"
        assert (await member.put(others, json={"rpm": 1})).status_code == 403
        assert (await member.get(others)).status_code == 403

    # Without limits of its principal, a member's key may have any.
    await client.delete(f"/v1/principals/{principal_id}/limits")
    async with as_key(app, token) as member:
        free = await member.put(f"/v1/principals/me/api-keys/{own_key}/limits", json={"rpm": 5000})
        assert free.status_code == 200, free.text


async def test_the_sdk_sets_reads_and_clears_limits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    principal_id, _ = await new_member(client, "sdk-team")
    key_id = await key_of(client, principal_id)
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("http://modelplane.test", ADMIN_TOKEN, transport=transport) as sdk:
        view = await sdk.limits.set(principal_id, rpm=5, budget="2.50", period="day")
        assert view.limits is not None and view.limits.budget_nanos == 2_500_000_000
        assert view.use is not None and view.use.requests.used == 0
        assert (await sdk.limits.get(principal_id)).limits == view.limits
        keyed = await sdk.limits.set(principal_id, api_key_id=key_id, tpm=100)
        assert (keyed.api_key_id, keyed.limits and keyed.limits.tpm) == (key_id, 100)
        assert await sdk.limits.clear(principal_id) is True
        assert await sdk.limits.clear(principal_id) is False
        with pytest.raises(InvalidArgument) as caught:
            await sdk.limits.set(principal_id, budget=1)
        assert [d.field for d in caught.value.details] == ["period"]
