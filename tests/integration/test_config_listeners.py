"""Who is listening to a namespace, on SQLite and PostgreSQL: every open watch (long-poll
and event stream) is listed with its client label, replica and the revision it holds while
it is open, on every replica of the database; it leaves the list when it ends, and the
watchers of a replica that stopped saying it is alive leave it after the bound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.client import AsyncClient
from modelplane.domain.configs import Listener, ListenMode, NamespaceKey
from modelplane.serving import DrainingServer
from modelplane.settings import Settings
from modelplane.store.uow import Store
from tests.conftest import ADMIN_TOKEN, new_member
from tests.integration.test_configs_api import EVENTS, acting_as, live_client, next_event, sse
from tests.support.in_process import serving

BASE = "/v1/configs/cn-hangzhou/service/heard"
STALE_SECONDS = 1.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Watchers written at once, and a replica dropped after a second of silence."""
    return settings.model_copy(
        update={
            "replica_id": "replica-a",
            "listeners_flush_seconds": 0.02,
            "listeners_stale_seconds": STALE_SECONDS,
        }
    )


@pytest.fixture
async def replica_b(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A second application instance on the same database."""
    app = create_app(settings.model_copy(update={"replica_id": "replica-b"}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://replica-b.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as http,
    ):
        yield app, http


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[tuple[str, DrainingServer]]:
    async with serving(app, graceful_seconds=20) as url_and_server:
        yield url_and_server


async def listeners(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(f"{BASE}:listeners")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["listeners"])
    found: list[dict[str, Any]] = body["listeners"]
    return found


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("not seen in time")
        await asyncio.sleep(0.02)


async def listed(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    """The listeners once there are `count` of them."""
    found: list[dict[str, Any]] = []

    async def check() -> bool:
        nonlocal found
        found = await listeners(client)
        return len(found) == count

    await until(check)
    return found


async def test_a_long_poll_is_listed_with_its_label_replica_and_revision_until_it_ends(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.put(f"{BASE}/a", json={"value": "1"})
    assert await listeners(client) == []
    watch = asyncio.create_task(
        client.get(
            f"{BASE}:watch",
            params={"sinceRevision": 1, "timeoutSeconds": 0.6, "clientLabel": "canary"},
        )
    )
    (found,) = await listed(client, 1)
    assert found["clientLabel"] == "canary" and found["replicaId"] == "replica-a"
    assert found["revision"] == 1 and found["candidateVersion"] == 0
    assert found["mode"] == "long-poll" and found["since"] > 1_600_000_000_000
    async with AsyncClient(
        "http://modelplane.test", ADMIN_TOKEN, transport=httpx.ASGITransport(app=app)
    ) as sdk:
        (seen,) = await sdk.configs.listeners("cn-hangzhou", "heard")
        assert (seen.client_label, seen.replica_id, seen.revision) == ("canary", "replica-a", 1)
    assert (await watch).json()["changed"] is False
    await listed(client, 0)


async def test_an_event_stream_is_listed_and_its_revision_follows_the_events(
    client: httpx.AsyncClient, live: tuple[str, DrainingServer]
) -> None:
    url, _ = live
    await client.put(f"{BASE}/a", json={"value": "1"})
    async with (
        live_client(url) as http,
        http.stream("GET", f"{BASE}:watch", params={"sinceRevision": 1}, headers=EVENTS) as s,
    ):
        events = sse(s.aiter_lines())
        (found,) = await listed(client, 1)
        assert found["mode"] == "events" and found["clientLabel"] is None
        assert found["revision"] == 1
        await client.put(f"{BASE}/a", json={"value": "2"})
        assert (await next_event(events))["id"] == "2"

        async def advanced() -> bool:
            return [w["revision"] for w in await listeners(client)] == [2]

        await until(advanced)
    await listed(client, 0)


async def test_another_replica_lists_this_ones_watchers(
    client: httpx.AsyncClient, replica_b: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    _, other = replica_b
    await client.put(f"{BASE}/a", json={"value": "1"})
    watch = asyncio.create_task(
        other.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 1})
    )
    (seen_here,) = await listed(client, 1)
    assert seen_here["replicaId"] == "replica-b"
    assert await listeners(other) == [seen_here]
    assert (await watch).json()["changed"] is False  # it ends on replica B...
    await listed(client, 0)  # ...and leaves the list here


async def test_the_watchers_of_a_replica_that_went_silent_leave_after_the_bound(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A replica that crashed says nothing more: its rows are ignored, then deleted."""
    await client.put(f"{BASE}/a", json={"value": "1"})
    store: Store = app.state.store
    now = store.listeners._now_ms()
    ghost = Listener(
        "0" * 32,
        "replica-dead",
        NamespaceKey("cn-hangzhou", "heard"),
        "canary",
        1,
        0,
        "p-gone",
        ListenMode.LONG_POLL,
        now,
    )
    async with store.writer(invalidates=False) as uow:
        await uow.listeners.beat("replica-dead", now_ms=now)
        await uow.listeners.write([ghost], [], [])
        await uow.commit()
    (found,) = await listeners(client)
    assert found["replicaId"] == "replica-dead"

    async def forgotten() -> bool:
        async with store.reader() as uow:
            return await uow.listeners.count() == 0

    await asyncio.sleep(STALE_SECONDS)
    assert await listeners(client) == []  # ignored once stale
    await until(forgotten, 3 * STALE_SECONDS)  # and deleted by the live replica


async def test_only_the_owner_and_admins_may_list_who_is_listening(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner_id, token = await new_member(client, "listened-owner")
    _, other_token = await new_member(client, "listened-other")
    async with acting_as(app, token) as owner, acting_as(app, other_token) as other:
        await owner.put(f"{BASE}/a", json={"value": "1"})
        watch = asyncio.create_task(
            owner.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 0.6})
        )
        (found,) = await listed(owner, 1)
        assert found["principalId"] == owner_id
        assert await listeners(client) == [found]  # an admin
        refused = await other.get(f"{BASE}:listeners")
        assert refused.status_code == 404 and refused.json()["code"] == "NOT_FOUND"
        never = await other.get("/v1/configs/cn-hangzhou/service/never-written:listeners")
        assert never.status_code == 404
        await watch
