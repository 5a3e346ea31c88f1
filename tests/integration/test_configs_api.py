"""Dynamic parameters through the native face (/v1/configs), on SQLite and PostgreSQL:
every route, keys with `/`, bad input, ownership, history, long-poll watches, and
server-sent event streams (read from a real uvicorn server in this process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from fastapi import FastAPI

from modelplane.domain.configs import NamespaceKey
from modelplane.faces.native import watching
from modelplane.serving import DrainingServer
from tests.conftest import ADMIN_TOKEN, new_member
from tests.integration.test_catalog_services import admin_of
from tests.integration.test_config_services import UNADDRESSABLE_KEYS, stored_before_the_key_rule
from tests.support.in_process import serving

BASE = "/v1/configs/cn-hangzhou/service/my_llm_service"
OTHER = "/v1/configs/cn-hangzhou/service/other_service"
EVENTS = {"accept": "text/event-stream"}


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["code"] == "INVALID_ARGUMENT", data
    return [d["field"] for d in data["details"]]


async def put(client: httpx.AsyncClient, key: str, value: str, base: str = BASE) -> dict[str, Any]:
    response = await client.put(f"{base}/{key}", json={"value": value})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


@asynccontextmanager
async def acting_as(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


async def watchers_become(app: FastAPI, count: int) -> None:
    """Wait until `count` watchers wait on the change feed."""
    for _ in range(500):
        if app.state.store.feed.watchers() == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"watchers: {app.state.store.feed.watchers()}, expected {count}")


# --- a live server, for event streams ------------------------------------------------------


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[tuple[str, DrainingServer]]:
    """`app` (its lifespan already running) served by uvicorn on 127.0.0.1."""
    async with serving(app, graceful_seconds=20) as url_and_server:
        yield url_and_server


@asynccontextmanager
async def live_client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    ) as http:
        yield http


async def sse(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    """Events as dicts of their fields; a comment as {"comment": text}."""
    fields_: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if fields_:
                yield fields_
                fields_ = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            fields_[name] = value.removeprefix(" ")
    if fields_:
        yield fields_


async def next_event(events: AsyncIterator[dict[str, str]]) -> dict[str, str]:
    """The next event that is not a comment."""
    while True:
        found = await asyncio.wait_for(anext(events), 5)
        if "comment" not in found:
            return found


def state_of(found: dict[str, str]) -> dict[str, Any]:
    assert found["event"] == "change", found
    data: dict[str, Any] = orjson.loads(found["data"])
    assert int(found["id"]) == data["revision"]
    return data


# --- life cycle ------------------------------------------------------------------------------


async def test_put_creates_then_updates_and_get_reads(client: httpx.AsyncClient) -> None:
    created = await client.put(f"{BASE}/rate_limit", json={"value": "10"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"] == "rate_limit" and body["value"] == "10" and body["revision"] == 1
    assert body["createdAt"] == body["updatedAt"] > 1_600_000_000_000
    updated = await client.put(f"{BASE}/rate_limit", json={"value": "20"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["revision"] == 2
    assert updated.json()["createdAt"] == body["createdAt"]
    assert updated.json()["updatedAt"] >= body["updatedAt"]
    got = await client.get(f"{BASE}/rate_limit")
    assert got.status_code == 200 and got.json() == updated.json()
    missing = await client.get(f"{BASE}/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


async def test_the_namespace_lists_every_key_in_key_order_with_its_revision(
    client: httpx.AsyncClient,
) -> None:
    empty = await client.get(BASE)
    assert empty.status_code == 200 and empty.json() == {"revision": 0, "configs": []}
    await put(client, "b", "2")
    await put(client, "a", '{"x": 1}')
    await put(client, "b", "3")
    listed = (await client.get(BASE)).json()
    assert listed["revision"] == 3
    assert [(c["key"], c["value"], c["revision"]) for c in listed["configs"]] == [
        ("a", '{"x": 1}', 2),
        ("b", "3", 3),
    ]
    assert (await client.get(OTHER)).json() == {"revision": 0, "configs": []}


async def test_delete_removes_the_key_and_a_second_delete_is_404(
    client: httpx.AsyncClient,
) -> None:
    await put(client, "k", "v")
    deleted = await client.delete(f"{BASE}/k")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": True, "id": "k"}
    assert (await client.get(f"{BASE}/k")).status_code == 404
    again = await client.delete(f"{BASE}/k")
    assert again.status_code == 404 and again.json()["code"] == "NOT_FOUND"
    assert (await client.get(BASE)).json()["revision"] == 2
    nowhere = await client.delete(f"{OTHER}/k")
    assert nowhere.status_code == 404


async def test_a_key_with_slashes_is_the_same_raw_or_as_percent_2f(
    client: httpx.AsyncClient,
) -> None:
    created = await client.put(f"{BASE}/model/primary", json={"value": "gpt-4"})
    assert created.status_code == 201 and created.json()["key"] == "model/primary"
    updated = await client.put(f"{BASE}/model%2Fprimary", json={"value": "qwen-max"})
    assert updated.status_code == 200 and updated.json()["key"] == "model/primary"
    for path in ("model/primary", "model%2Fprimary", "model%2fprimary"):
        got = await client.get(f"{BASE}/{path}")
        assert got.status_code == 200 and got.json()["value"] == "qwen-max", path
    history = (await client.get(f"{BASE}/model%2Fprimary/history")).json()["changes"]
    assert [c["kind"] for c in history] == ["update", "create"]
    assert (await client.delete(f"{BASE}/model%2Fprimary")).status_code == 200
    assert (await client.get(f"{BASE}/model/primary")).status_code == 404


async def test_suffix_routes_are_told_apart_from_keys_and_names(
    client: httpx.AsyncClient,
) -> None:
    # A key whose last part is `history`: PUT, DELETE and an encoded GET reach the key;
    # a raw `/history` suffix is the history route.
    await put(client, "x", "plain")
    assert (await client.put(f"{BASE}/x/history", json={"value": "h"})).status_code == 201
    keyed = await client.get(f"{BASE}/x%2Fhistory")
    assert keyed.status_code == 200 and keyed.json()["key"] == "x/history"
    history = await client.get(f"{BASE}/x/history")
    assert history.status_code == 200
    assert [(c["key"], c["value"]) for c in history.json()["changes"]] == [("x", "plain")]
    of_key = await client.get(f"{BASE}/x/history/history")
    assert [c["key"] for c in of_key.json()["changes"]] == ["x/history"]
    # `:watch` and `:history` need the colon as written; encoded, it is part of the name.
    assert (await client.get(f"{BASE}:watch", params={"timeoutSeconds": 0})).json()["changed"]
    assert "changes" in (await client.get(f"{BASE}:history")).json()
    for suffix in ("%3Awatch", "%3Ahistory"):
        assert fields(await client.get(f"{BASE}{suffix}")) == ["name"]
    # `:watch` is not a key route, nor a key a watch.
    assert fields(await client.get(f"{BASE}/:watch")) == ["key"]
    assert fields(await client.put(f"{BASE}/a:watch", json={"value": "v"})) == ["key"]


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/v1/configs/cn-hangzhou/job/my_llm_service/k", {"value": "v"}, "configType"),
        ("GET", "/v1/configs/cn-hangzhou/jobs/my_llm_service", None, "configType"),
        ("PUT", f"{BASE}/{'k' * 101}", {"value": "v"}, "key"),
        ("PUT", f"{BASE}/bad%20key", {"value": "v"}, "key"),
        ("PUT", f"{BASE}/k", {}, "value"),
        ("PUT", f"{BASE}/k", {"value": None}, "value"),
        ("PUT", f"{BASE}/k", {"value": 5}, "value"),
        ("PUT", f"{BASE}/k", {"value": "v", "Value": "w"}, "Value"),
        ("PUT", f"{BASE}/k", {"value": "a\u0000b"}, "value"),
        ("PUT", f"{BASE}/k", {"value": "x" * (64 * 1024 + 1)}, "value"),
        ("PUT", "/v1/configs/-bad/service/my_llm_service/k", {"value": "v"}, "cluster"),
        ("PUT", "/v1/configs/cn-hangzhou/service/bad%20name/k", {"value": "v"}, "name"),
        ("GET", f"{BASE}:watch?sinceRevision=-1", None, "sinceRevision"),
        ("GET", f"{BASE}:watch?timeoutSeconds=301", None, "timeoutSeconds"),
        ("GET", f"{BASE}:watch?timeoutSeconds=nan", None, "timeoutSeconds"),
        ("GET", f"{BASE}:watch?sinceRevision=x", None, "sinceRevision"),
        ("GET", f"{BASE}:history?limit=0", None, "limit"),
        ("GET", f"{BASE}/k/history?limit=1001", None, "limit"),
    ],
)
async def test_bad_input_is_400_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, method: str, path: str, body: object, field: str
) -> None:
    response = await client.request(method, path, json=body)
    assert fields(response) == [field]
    assert (await client.get(BASE)).json() == {"revision": 0, "configs": []}


def encoded(key: str) -> str:
    """`key` as one path segment that no client normalises: `/` and `.` percent-encoded."""
    return quote(key, safe="").replace(".", "%2E")


async def test_a_key_clients_cannot_address_is_400_naming_key_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    for key in UNADDRESSABLE_KEYS:
        response = await client.put(f"{BASE}/{encoded(key)}", json={"value": "v"})
        assert fields(response) == ["key"], key
        assert "no empty, `.` or `..` part between `/`" in response.json()["message"]
    assert (await client.get(BASE)).json() == {"revision": 0, "configs": []}


async def test_a_key_stored_before_the_rule_is_still_served(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    store = app.state.store
    ns = NamespaceKey("cn-hangzhou", "my_llm_service")
    await stored_before_the_key_rule(store, await admin_of(store), ns, "a/../b", "old")
    path = f"{BASE}/{encoded('a/../b')}"
    assert (await client.get(path)).json()["value"] == "old"
    assert [c["key"] for c in (await client.get(BASE)).json()["configs"]] == ["a/../b"]
    changed = await client.put(path, json={"value": "new"})
    assert changed.status_code == 200 and changed.json()["value"] == "new"
    assert (await client.delete(path)).json() == {"deleted": True, "id": "a/../b"}
    assert (await client.get(BASE)).json()["configs"] == []


async def test_a_bad_last_event_id_is_400_naming_it(client: httpx.AsyncClient) -> None:
    for accept in ("application/json", "text/event-stream"):
        response = await client.get(
            f"{BASE}:watch", headers={"Last-Event-ID": "abc", "accept": accept}
        )
        assert fields(response) == ["Last-Event-ID"]
    streamed = await client.get(f"{BASE}:watch?timeoutSeconds=400", headers=EVENTS)
    assert fields(streamed) == ["timeoutSeconds"]


async def test_an_unauthenticated_call_is_401(anon: httpx.AsyncClient) -> None:
    for response in (
        await anon.get(BASE),
        await anon.put(f"{BASE}/k", json={"value": "v"}),
        await anon.get(f"{BASE}:watch"),
    ):
        assert response.status_code == 401 and response.json()["code"] == "UNAUTHENTICATED"


# --- ownership -------------------------------------------------------------------------------


async def test_a_member_cannot_reach_another_members_namespace_but_an_admin_can(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    _, bob_token = await new_member(client, "bob")
    async with acting_as(app, alice_token) as alice, acting_as(app, bob_token) as bob:
        assert (await alice.put(f"{BASE}/k", json={"value": "a"})).status_code == 201
        # To Bob, Alice's namespace reads as one never written (test_config_ownership.py).
        assert (await bob.get(BASE)).json() == {"revision": 0, "configs": []}
        for response in (
            await bob.get(f"{BASE}/k"),
            await bob.delete(f"{BASE}/k"),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["code"] == "NOT_FOUND"
        for response in (
            await bob.put(f"{BASE}/k", json={"value": "b"}),
            await bob.put(f"{BASE}/new", json={"value": "b"}),
        ):
            assert response.status_code == 409, response.text
        # Bob's own namespace is his.
        assert (await bob.put(f"{OTHER}/k", json={"value": "b"})).status_code == 201
        assert (await alice.get(f"{OTHER}/k")).status_code == 404
        # The admin reads both, and writes into Alice's naming her.
        alices = {"ownerId": alice_id}
        admin_put = await client.put(f"{BASE}/k", json={"value": "admin"}, params=alices)
        assert admin_put.status_code == 200, admin_put.text
        assert (await client.get(f"{OTHER}/k")).json()["value"] == "b"
        assert (await alice.get(f"{BASE}/k")).json()["value"] == "admin"
        history = (await alice.get(f"{BASE}/k/history")).json()["changes"]
        assert [c["value"] for c in history] == ["admin", "a"]
        assert history[0]["actorId"] != history[1]["actorId"]


# --- history ---------------------------------------------------------------------------------


async def test_history_is_newest_first_outlives_a_delete_and_honours_limit(
    client: httpx.AsyncClient,
) -> None:
    await put(client, "k", "1")
    await put(client, "other", "x")
    await put(client, "k", "2")
    await client.delete(f"{BASE}/k")
    of_key = (await client.get(f"{BASE}/k/history")).json()["changes"]
    assert [(c["revision"], c["kind"], c["value"]) for c in of_key] == [
        (4, "delete", None),
        (3, "update", "2"),
        (1, "create", "1"),
    ]
    assert all(
        set(c) == {"revision", "key", "kind", "value", "format", "actorId", "at"} for c in of_key
    )
    limited = (await client.get(f"{BASE}/k/history", params={"limit": 2})).json()["changes"]
    assert [c["revision"] for c in limited] == [4, 3]
    everything = (await client.get(f"{BASE}:history")).json()["changes"]
    assert [(c["revision"], c["key"]) for c in everything] == [
        (4, "k"),
        (3, "k"),
        (2, "other"),
        (1, "k"),
    ]
    newest = (await client.get(f"{BASE}:history", params={"limit": 1})).json()["changes"]
    assert [c["revision"] for c in newest] == [4]
    assert (await client.get(f"{OTHER}:history")).json() == {"changes": []}


# --- long-poll watch -------------------------------------------------------------------------


async def test_a_watch_already_past_its_revision_answers_at_once(
    client: httpx.AsyncClient,
) -> None:
    await put(client, "k", "v")
    started = time.monotonic()
    answer = await client.get(f"{BASE}:watch", params={"sinceRevision": 0, "timeoutSeconds": 30})
    assert time.monotonic() - started < 2
    body = answer.json()
    assert answer.status_code == 200
    assert body["changed"] is True and body["revision"] == 1
    assert [(c["key"], c["value"]) for c in body["configs"]] == [("k", "v")]


async def test_a_watch_returns_on_a_change_made_while_it_waits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await put(client, "k", "v1")
    waiting = asyncio.create_task(
        client.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 20})
    )
    await watchers_become(app, 1)
    assert not waiting.done()
    started = time.monotonic()
    await put(client, "k", "v2")
    answer = await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - started < 2
    body = answer.json()
    assert body["changed"] is True and body["revision"] == 2
    assert body["configs"][0]["value"] == "v2"
    await watchers_become(app, 0)


async def test_a_watch_answers_no_change_at_its_timeout(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await put(client, "k", "v")
    started = time.monotonic()
    answer = await client.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 0.3})
    waited = time.monotonic() - started
    assert answer.status_code == 200 and answer.json() == {"changed": False, "revision": 1}
    assert 0.25 < waited < 3
    assert app.state.store.feed.watchers() == 0
    # A change to another namespace does not wake it.
    waiting = asyncio.create_task(
        client.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 0.5})
    )
    await watchers_become(app, 1)
    await put(client, "k", "elsewhere", base=OTHER)
    assert (await waiting).json() == {"changed": False, "revision": 1}


async def test_last_event_id_takes_the_place_of_since_revision(
    client: httpx.AsyncClient,
) -> None:
    await put(client, "k", "1")
    await put(client, "k", "2")
    resumed = await client.get(
        f"{BASE}:watch",
        params={"sinceRevision": 0, "timeoutSeconds": 0.1},
        headers={"Last-Event-ID": "2"},
    )
    assert resumed.json() == {"changed": False, "revision": 2}


# --- server-sent events ----------------------------------------------------------------------


async def test_an_event_stream_sends_an_event_per_change_with_its_revision_as_id(
    app: FastAPI, live: tuple[str, DrainingServer]
) -> None:
    url, _ = live
    async with live_client(url) as http:
        await put(http, "model/primary", '{"name": "gpt-4"}')
        async with http.stream("GET", f"{BASE}:watch", headers=EVENTS) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-cache"
            events = sse(stream.aiter_lines())
            first = state_of(await next_event(events))  # the current state
            assert first["revision"] == 1 and first["configs"][0]["key"] == "model/primary"
            await watchers_become(app, 1)
            for n, value in enumerate(["10", "20", "30"], start=2):
                await put(http, "rate_limit", value)
                state = state_of(await next_event(events))
                assert state["revision"] == n and state["deleted"] == []
                # Only what changed: the untouched parameter is not sent again.
                assert [(c["key"], c["value"]) for c in state["configs"]] == [("rate_limit", value)]
            await http.delete(f"{BASE}/rate_limit")
            state = state_of(await next_event(events))
            assert (state["revision"], state["configs"], state["deleted"]) == (
                5,
                [],
                ["rate_limit"],
            )
    await watchers_become(app, 0)  # the client left: the stream's watch went too


async def test_an_event_stream_resumes_after_last_event_id(
    live: tuple[str, DrainingServer],
) -> None:
    url, _ = live
    async with live_client(url) as http:
        for value in ("1", "2", "3"):
            await put(http, "k", value)
        async with http.stream(
            "GET", f"{BASE}:watch", headers={**EVENTS, "Last-Event-ID": "3"}
        ) as stream:
            events = sse(stream.aiter_lines())
            waiting = asyncio.ensure_future(next_event(events))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # nothing past revision 3 yet
            await put(http, "k", "4")
            state = state_of(await waiting)
            assert state["revision"] == 4 and state["configs"][0]["value"] == "4"
        # Behind: the current state comes at once.
        async with http.stream(
            "GET",
            f"{BASE}:watch",
            params={"timeoutSeconds": 5},
            headers={**EVENTS, "Last-Event-ID": "1"},
        ) as stream:
            state = state_of(await next_event(sse(stream.aiter_lines())))
            assert state["revision"] == 4


async def test_an_event_stream_sends_heartbeats_and_ends_at_its_timeout(
    live: tuple[str, DrainingServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watching, "HEARTBEAT_SECONDS", 0.2)
    url, _ = live
    async with live_client(url) as http:
        await put(http, "k", "v")
        started = time.monotonic()
        async with http.stream(
            "GET",
            f"{BASE}:watch",
            params={"sinceRevision": 1, "timeoutSeconds": 1.1},
            headers=EVENTS,
        ) as stream:
            seen = [e async for e in sse(stream.aiter_lines())]
        took = time.monotonic() - started
    assert 1.0 < took < 4
    assert [e for e in seen if "comment" not in e] == []
    assert 3 <= len([e for e in seen if e.get("comment") == "heartbeat"]) <= 6


async def test_server_shutdown_ends_open_streams_and_watches_at_once(
    app: FastAPI, live: tuple[str, DrainingServer]
) -> None:
    url, server = live
    async with live_client(url) as http:
        await put(http, "k", "v")
        async with http.stream("GET", f"{BASE}:watch", headers=EVENTS) as stream:
            events = sse(stream.aiter_lines())
            state_of(await next_event(events))
            poll = asyncio.create_task(
                http.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 300})
            )
            await watchers_become(app, 2)
            started = time.monotonic()
            server.should_exit = True  # what SIGTERM does
            rest = [e async for e in events]  # the stream ends
            answer = await asyncio.wait_for(poll, 5)
        assert time.monotonic() - started < 3
    assert [e for e in rest if "comment" not in e] == []
    assert answer.status_code == 200 and answer.json() == {"changed": False, "revision": 1}
    await watchers_become(app, 0)


async def test_a_long_poll_from_beyond_the_namespaces_revision_answers_the_real_one_at_once(
    client: httpx.AsyncClient,
) -> None:
    base = "/v1/configs/cn-ahead/service/ahead"
    assert (await client.put(f"{base}/k", json={"value": "v"})).status_code == 201
    started = time.monotonic()
    answer = await client.get(f"{base}:watch", params={"sinceRevision": 9, "timeoutSeconds": 5})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"changed": False, "revision": 1}
    assert time.monotonic() - started < 2  # not after the timeout
    nothing = await client.get(
        "/v1/configs/cn-ahead/service/never:watch", params={"sinceRevision": 3, "timeoutSeconds": 5}
    )
    assert nothing.json() == {"changed": False, "revision": 0}
