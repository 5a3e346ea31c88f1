"""Gray releases of dynamic parameters, on SQLite and PostgreSQL: a namespace's candidate is
served only to clients whose label it targets (header or query) on reads and watches
(long-poll and event stream); other watchers are not woken by it; promote is one revision
for everyone, drop gives the gray clients the base back; bad input writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from modelplane.client import AsyncClient
from modelplane.client import NotFound as SdkNotFound
from modelplane.serving import DrainingServer
from tests.conftest import ADMIN_TOKEN, new_member
from tests.integration.test_audit_native import events
from tests.integration.test_configs_api import (
    EVENTS,
    acting_as,
    live_client,
    next_event,
    sse,
    state_of,
    watchers_become,
)
from tests.support.in_process import serving

BASE = "/v1/configs/cn-hangzhou/service/gray"
CANARY = {"clientLabel": "canary"}


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[tuple[str, DrainingServer]]:
    """`app` (its lifespan already running) served by uvicorn on 127.0.0.1."""
    async with serving(app, graceful_seconds=20) as url_and_server:
        yield url_and_server


async def seeded(client: httpx.AsyncClient) -> int:
    """The namespace with a=1, b=1, c=1 (revision 1)."""
    items = [{"key": k, "value": "1"} for k in ("a", "b", "c")]
    response = await client.post(f"{BASE}:batch", json={"items": items})
    assert response.status_code == 200, response.text
    return int(response.json()["revision"])


CHANGE = [
    {"key": "a", "value": "2"},
    {"key": "c", "op": "delete"},
    {"key": "d", "value": '{"new": true}', "format": "json"},
]


async def open_candidate(
    client: httpx.AsyncClient, items: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"items": CHANGE if items is None else items, "labels": ["canary"], **extra}
    response = await client.put(f"{BASE}:candidate", json=body)
    assert response.status_code in (200, 201), response.text
    found: dict[str, Any] = response.json()
    return found


def values(body: dict[str, Any]) -> dict[str, str]:
    return {c["key"]: c["value"] for c in body["configs"]}


async def test_a_candidate_is_served_only_to_the_labels_it_targets_by_query_or_header(
    client: httpx.AsyncClient,
) -> None:
    await seeded(client)
    created = await client.put(f"{BASE}:candidate", json={"items": CHANGE, "labels": ["canary"]})
    assert created.status_code == 201, created.text
    candidate = created.json()
    assert candidate["version"] == 1 and candidate["labels"] == ["canary"]
    assert candidate["baseRevision"] == 1
    assert [(i["key"], i["op"], i["format"]) for i in candidate["items"]] == [
        ("a", "set", "text"),
        ("c", "delete", None),
        ("d", "set", "json"),
    ]
    assert (await client.get(f"{BASE}:candidate")).json() == candidate

    base = (await client.get(BASE)).json()
    assert values(base) == {"a": "1", "b": "1", "c": "1"} and "candidate" not in base
    other = (await client.get(BASE, params={"clientLabel": "beta"})).json()
    assert other == base
    ref = {"candidateId": candidate["candidateId"], "version": 1}
    for gray in (
        (await client.get(BASE, params=CANARY)).json(),
        (await client.get(BASE, headers={"X-Modelplane-Client-Label": "canary"})).json(),
    ):
        assert gray["revision"] == 1 and gray["candidate"] == ref
        assert values(gray) == {"a": "2", "b": "1", "d": '{"new": true}'}
    key_a = (await client.get(f"{BASE}/a", params=CANARY)).json()
    assert key_a["value"] == "2" and key_a["candidate"] == ref
    assert (await client.get(f"{BASE}/a")).json()["value"] == "1"
    assert "candidate" not in (await client.get(f"{BASE}/b", params=CANARY)).json()
    assert (await client.get(f"{BASE}/c", params=CANARY)).status_code == 404
    assert (await client.get(f"{BASE}/c")).status_code == 200
    assert (await client.get(f"{BASE}/d")).status_code == 404


async def test_a_long_poll_with_the_label_wakes_on_the_candidate_and_others_do_not(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    revision = await seeded(client)
    since = {"sinceRevision": revision, "timeoutSeconds": 10}
    gray = asyncio.create_task(client.get(f"{BASE}:watch", params={**since, **CANARY}))
    untargeted = asyncio.create_task(
        client.get(f"{BASE}:watch", params={**since, "clientLabel": "beta"})
    )
    plain = asyncio.create_task(client.get(f"{BASE}:watch", params=since))
    await watchers_become(app, 5)  # a watcher with a label waits on two topics
    candidate = await open_candidate(client)
    answer = (await gray).json()
    assert answer["changed"] is True and answer["full"] is True
    assert answer["revision"] == revision
    assert answer["candidate"] == {"candidateId": candidate["candidateId"], "version": 1}
    assert values(answer) == {"a": "2", "b": "1", "d": '{"new": true}'}
    await watchers_become(app, 3)  # the others were woken, read, and wait again
    await asyncio.sleep(0.05)
    assert not untargeted.done() and not plain.done()

    # Promote: one revision, every watcher wakes once and sees it.
    gray_again = asyncio.create_task(
        client.get(f"{BASE}:watch", params={**since, **CANARY, "sinceCandidate": 1})
    )
    await watchers_become(app, 5)
    promoted = await client.post(f"{BASE}:promote", params={"version": 1})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["revision"] == revision + 1
    for task in (untargeted, plain):
        found = (await task).json()
        assert found["changed"] is True and found["revision"] == revision + 1
        assert sorted(c["key"] for c in found["configs"]) == ["a", "d"]
        assert found["deleted"] == ["c"]
    after = (await gray_again).json()
    assert after["revision"] == revision + 1 and after["candidate"] is None
    assert after["full"] is True
    assert values(after) == {"a": "2", "b": "1", "d": '{"new": true}'}
    assert values((await client.get(BASE)).json()) == values(after)
    assert (await client.get(f"{BASE}:candidate")).status_code == 404


async def test_promote_is_one_revision_one_history_entry_per_item_and_audited(
    client: httpx.AsyncClient,
) -> None:
    revision = await seeded(client)
    candidate = await open_candidate(client)
    replaced = await open_candidate(client, [*CHANGE, {"key": "e", "value": "5"}], ifVersion=1)
    assert replaced["version"] == 2 and replaced["candidateId"] == candidate["candidateId"]
    assert (await client.get(BASE)).json()["revision"] == revision  # nothing for anyone yet
    promoted = (await client.post(f"{BASE}:promote")).json()
    assert promoted["revision"] == revision + 1
    history = (await client.get(f"{BASE}:history")).json()["changes"]
    assert sorted((c["key"], c["kind"]) for c in history if c["revision"] == revision + 1) == [
        ("a", "update"),
        ("c", "delete"),
        ("d", "create"),
        ("e", "create"),
    ]
    audited = await events(client, resourceType="config_candidate")
    assert [e["action"] for e in reversed(audited)] == ["create", "update", "promote"]
    assert audited[0]["details"]["revision"] == revision + 1
    assert audited[0]["details"]["labels"] == ["canary"]
    per_key = await events(client, resourceType="config")
    promoted_events = [e for e in per_key if e["details"]["revision"] == revision + 1]
    assert len(promoted_events) == 4
    assert {e["details"]["candidateId"] for e in promoted_events} == {candidate["candidateId"]}


async def test_drop_gives_the_gray_clients_the_base_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    revision = await seeded(client)
    await open_candidate(client)
    watch = asyncio.create_task(
        client.get(
            f"{BASE}:watch",
            params={"sinceRevision": revision, "sinceCandidate": 1, "timeoutSeconds": 10},
            headers={"X-Modelplane-Client-Label": "canary"},
        )
    )
    await watchers_become(app, 2)
    dropped = await client.delete(f"{BASE}:candidate")
    assert dropped.status_code == 200 and dropped.json()["version"] == 1
    answer = (await watch).json()
    assert answer["changed"] is True and answer["full"] is True
    assert answer["revision"] == revision and answer["candidate"] is None
    assert values(answer) == {"a": "1", "b": "1", "c": "1"}
    gray = (await client.get(BASE, params=CANARY)).json()
    assert values(gray) == {"a": "1", "b": "1", "c": "1"} and "candidate" not in gray
    assert (await client.get(BASE)).json()["revision"] == revision
    assert (await client.get(f"{BASE}:candidate")).status_code == 404
    audited = await events(client, resourceType="config_candidate")
    assert [e["action"] for e in audited] == ["delete", "create"]
    # A new candidate never reuses a version: a client that held 1 sees it as new.
    assert (await open_candidate(client))["version"] == 3


async def test_an_event_stream_with_the_label_follows_the_candidate_and_one_without_does_not(
    app: FastAPI, live: tuple[str, DrainingServer]
) -> None:
    url, _ = live
    async with live_client(url) as http:
        revision = await seeded(http)
        gray_params: dict[str, str | int] = {"sinceRevision": revision, **CANARY}
        async with (
            http.stream("GET", f"{BASE}:watch", params=gray_params, headers=EVENTS) as gray,
            http.stream(
                "GET", f"{BASE}:watch", params={"sinceRevision": revision}, headers=EVENTS
            ) as plain,
        ):
            gray_events, plain_events = sse(gray.aiter_lines()), sse(plain.aiter_lines())
            await watchers_become(app, 3)
            await open_candidate(http)
            first = await next_event(gray_events)
            assert first["id"] == f"{revision}.1"
            data = orjson.loads(first["data"])
            assert data["full"] is True and data["candidate"]["version"] == 1
            assert values(data) == {"a": "2", "b": "1", "d": '{"new": true}'}
            # A base write: the plain stream's next event is it (not the candidate), and
            # the gray one gets it less the keys the candidate overrides.
            put = await http.put(f"{BASE}/a", json={"value": "base"})
            assert put.status_code == 200
            plain_next = state_of(await next_event(plain_events))
            assert plain_next["revision"] == revision + 1
            assert [(c["key"], c["value"]) for c in plain_next["configs"]] == [("a", "base")]
            second = await next_event(gray_events)
            assert second["id"] == f"{revision + 1}.1"
            moved = orjson.loads(second["data"])
            assert moved["full"] is False and moved["configs"] == [] and moved["deleted"] == []
            dropped = await http.delete(f"{BASE}:candidate")
            assert dropped.status_code == 200
            third = await next_event(gray_events)
            assert third["id"] == f"{revision + 1}.0"
            back = orjson.loads(third["data"])
            assert back["candidate"] is None
            assert values(back) == {"a": "base", "b": "1", "c": "1"}


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"items": [], "labels": ["canary"]}, "items", "1..1000"),
        ({"items": CHANGE, "labels": []}, "labels", "1..20"),
        ({"items": CHANGE, "labels": ["canary", "bad label"]}, "labels.1", "1..64 of"),
        ({"items": CHANGE, "labels": ["canary", "canary"]}, "labels.1", "repeats labels.0"),
        (
            {
                "items": [{"key": "a", "value": "1"}, {"key": "zz", "op": "delete"}],
                "labels": ["x"],
            },
            "items.1.key",
            "no such parameter",
        ),
        (
            {"items": [{"key": "j", "value": "{", "format": "json"}], "labels": ["x"]},
            "items.0.value",
            "must be valid JSON",
        ),
    ],
)
async def test_a_bad_candidate_is_400_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, rule: str
) -> None:
    await seeded(client)
    response = await client.put(f"{BASE}:candidate", json=body)
    assert response.status_code == 400, response.text
    details = {d["field"]: d["rule"] for d in response.json()["details"]}
    assert field in details and rule in details[field], details
    assert (await client.get(f"{BASE}:candidate")).status_code == 404
    assert await events(client, resourceType="config_candidate") == []


async def test_a_second_candidate_a_stale_version_and_a_missing_one_are_refused(
    client: httpx.AsyncClient,
) -> None:
    await seeded(client)
    await open_candidate(client)
    second = await client.put(
        f"{BASE}:candidate", json={"items": CHANGE, "labels": ["beta"], "ifVersion": 0}
    )
    assert second.status_code == 409 and second.json()["code"] == "ALREADY_EXISTS"
    assert "ifVersion 1" in second.json()["message"]
    stale = await client.put(
        f"{BASE}:candidate", json={"items": CHANGE, "labels": ["beta"], "ifVersion": 7}
    )
    assert stale.status_code == 412, stale.text
    assert (await client.post(f"{BASE}:promote", params={"version": 7})).status_code == 412
    assert (await client.delete(f"{BASE}:candidate", params={"version": 7})).status_code == 412
    kept = (await client.get(f"{BASE}:candidate")).json()
    assert kept["version"] == 1 and kept["labels"] == ["canary"]
    assert (await client.get(BASE)).json()["revision"] == 1
    assert (await client.delete(f"{BASE}:candidate")).status_code == 200
    for response in (
        await client.post(f"{BASE}:promote"),
        await client.delete(f"{BASE}:candidate"),
        await client.get(f"{BASE}:candidate"),
    ):
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    assert (await client.get(BASE)).json()["revision"] == 1


@pytest.mark.parametrize(
    ("params", "headers", "field"),
    [
        ({"clientLabel": "-bad"}, {}, "clientLabel"),
        ({"clientLabel": "a"}, {"X-Modelplane-Client-Label": "b"}, "clientLabel"),
        ({}, {"X-Modelplane-Client-Label": "x" * 65}, "clientLabel"),
    ],
)
async def test_a_bad_client_label_is_400_naming_it_on_reads_and_watches(
    client: httpx.AsyncClient, params: dict[str, str], headers: dict[str, str], field: str
) -> None:
    for path in (BASE, f"{BASE}/a", f"{BASE}:watch"):
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert [d["field"] for d in response.json()["details"]] == [field]
    bare = await client.get(f"{BASE}:watch", params={"sinceCandidate": 2})
    assert bare.status_code == 400
    assert [d["field"] for d in bare.json()["details"]] == ["sinceCandidate"]


async def test_a_member_cannot_see_or_touch_another_owners_candidate(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, token = await new_member(client, "gray-owner")
    _, other_token = await new_member(client, "gray-other")
    async with acting_as(app, token) as owner, acting_as(app, other_token) as other:
        await seeded(owner)
        await open_candidate(owner)
        assert (await other.get(f"{BASE}:candidate")).status_code == 404
        assert (await other.post(f"{BASE}:promote")).status_code == 404
        assert (await other.delete(f"{BASE}:candidate")).status_code == 404
        assert (await other.get(BASE, params=CANARY)).json() == {"revision": 0, "configs": []}
        assert (await owner.get(f"{BASE}:candidate")).status_code == 200


async def test_the_async_sdk_sets_reads_watches_and_promotes_a_gray_release(
    app: FastAPI,
) -> None:
    async with AsyncClient(
        "http://modelplane.test", ADMIN_TOKEN, transport=httpx.ASGITransport(app=app)
    ) as sdk:
        await sdk.configs.batch("cn-sdk", "gray", {"a": "1", "b": "1"})
        made = await sdk.configs.set_candidate(
            "cn-sdk", "gray", {"a": "2"}, labels=["canary"], delete=["b"]
        )
        assert made.version == 1 and made.labels == ("canary",)
        assert (await sdk.configs.candidate("cn-sdk", "gray")) == made
        gray = await sdk.configs.get_namespace("cn-sdk", "gray", client_label="canary")
        assert gray.values == {"a": "2"} and gray.candidate_version == 1
        assert (await sdk.configs.get_namespace("cn-sdk", "gray")).values == {"a": "1", "b": "1"}
        one = await sdk.configs.get("cn-sdk", "gray", "a", client_label="canary")
        assert one.value == "2" and one.candidate is not None
        with pytest.raises(SdkNotFound):
            await sdk.configs.get("cn-sdk", "gray", "b", client_label="canary")
        states = sdk.configs.watch(
            "cn-sdk", "gray", since_revision=1, timeout_seconds=5, client_label="canary"
        )
        assert isinstance(states, AsyncGenerator)  # closed at the end
        first = await anext(states)  # the candidate is served: it comes first
        assert first.values == {"a": "2"} and first.candidate_version == 1
        watching = asyncio.ensure_future(anext(states))
        await watchers_become(app, 2)
        promoted = await sdk.configs.promote_candidate("cn-sdk", "gray", version=1)
        assert promoted.revision == 2 and promoted.deleted == ("b",)
        after = await watching
        assert after.revision == 2 and after.values == {"a": "2"} and after.candidate is None
        await states.aclose()
        dropped = await sdk.configs.set_candidate("cn-sdk", "gray", {"c": "3"}, labels=["x"])
        assert (await sdk.configs.drop_candidate("cn-sdk", "gray")).version == dropped.version
