"""Open watches are capped per principal and per replica (SQLite, PostgreSQL): beyond a cap
a watch is refused with 429 `RESOURCE_EXHAUSTED` and `Retry-After`, and every watch gives
its slot back however it ends (a change, its timeout, an error, the client leaving, the
server shutting down).

The app runs with 2 watches per principal and 3 in all. Event streams and disconnects
are read from a real uvicorn server in this process (`live`, from test_configs_api).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.security.secretbox import new_master_key_text
from modelplane.security.watch_slots import WatchSlots
from modelplane.serving import DrainingServer
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN, new_member
from tests.integration.test_configs_api import (
    BASE,
    EVENTS,
    OTHER,
    acting_as,
    live,
    live_client,
    next_event,
    put,
    sse,
    watchers_become,
)

__all__ = ["live"]  # a fixture of this module too

PER_PRINCIPAL, TOTAL = 2, 3


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The test settings, with small caps of open watches."""
    return Settings(
        database_url=database_url,
        secret_key=new_master_key_text(),
        bootstrap_token=ADMIN_TOKEN,
        access_log=False,
        rate_limit_per_second=0,
        max_watches_per_principal=PER_PRINCIPAL,
        max_watches=TOTAL,
    )


async def slots_become(app: FastAPI, count: int) -> None:
    """Wait until `count` watch slots are taken."""
    slots: WatchSlots = app.state.watch_slots
    for _ in range(500):
        if slots.open() == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"open watches: {slots.open()}, expected {count}")


def watch(http: httpx.AsyncClient, since: int, timeout: float = 20) -> asyncio.Task[httpx.Response]:
    params: dict[str, Any] = {"sinceRevision": since, "timeoutSeconds": timeout}
    return asyncio.create_task(http.get(f"{BASE}:watch", params=params))


def refused(response: httpx.Response, setting: str) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "RESOURCE_EXHAUSTED" and f"{setting}=" in body["message"], body
    assert response.headers["retry-after"] == "2"


async def test_watches_beyond_a_cap_get_429_with_retry_after_until_a_change_ends_them(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await put(client, "k", "v1")
    _, bob_token = await new_member(client, "bob")
    _, carol_token = await new_member(client, "carol")
    async with acting_as(app, bob_token) as bob, acting_as(app, carol_token) as carol:
        await put(bob, "k", "b", base=OTHER)
        mine = [watch(client, 1), watch(client, 1)]
        await slots_become(app, 2)
        for accept in ("application/json", "text/event-stream"):
            extra = await client.get(f"{BASE}:watch", headers={"accept": accept})
            refused(extra, "MODELPLANE_MAX_WATCHES_PER_PRINCIPAL")
        # Another principal still gets a watch, up to the total.
        bobs = asyncio.create_task(
            bob.get(f"{OTHER}:watch", params={"sinceRevision": 1, "timeoutSeconds": 20})
        )
        await slots_become(app, 3)
        refused(await carol.get(f"{OTHER}:watch"), "MODELPLANE_MAX_WATCHES")
        assert not any(task.done() for task in [*mine, bobs])
        # A change ends the admin's watches, and gives their slots back.
        await put(client, "k", "v2")
        for task in mine:
            assert (await asyncio.wait_for(task, 5)).json()["changed"] is True
        await slots_become(app, 1)
        await put(bob, "k", "b2", base=OTHER)
        assert (await asyncio.wait_for(bobs, 5)).json()["changed"] is True
        await slots_become(app, 0)
    # Nothing is held for the refused ones: the admin has both slots again.
    again = [watch(client, 2, timeout=0.2), watch(client, 2, timeout=0.2)]
    assert [(await task).json()["changed"] for task in again] == [False, False]
    await slots_become(app, 0)


async def test_a_refused_or_ended_watch_holds_no_slot(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await put(client, "k", "v")
    _, member_token = await new_member(client, "dave")
    async with acting_as(app, member_token) as dave:
        for _ in range(PER_PRINCIPAL + 1):  # another's namespace reads as never written
            for headers in ({}, EVENTS):
                answer = await dave.get(
                    f"{BASE}:watch", params={"timeoutSeconds": 0}, headers=headers
                )
                assert answer.status_code == 200, answer.text
                if not headers:
                    assert answer.json() == {"changed": False, "revision": 0}
        for _ in range(PER_PRINCIPAL + 1):  # refused: every time
            bad = await dave.get(f"{BASE}:watch", params={"sinceRevision": -1})
            assert bad.status_code == 400
    await slots_become(app, 0)


async def test_a_slot_comes_back_at_the_timeout_when_the_client_leaves_and_at_shutdown(
    app: FastAPI, live: tuple[str, DrainingServer]
) -> None:
    url, server = live
    async with live_client(url) as http:
        await put(http, "k", "v")
        # The timeout.
        answer = await http.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 0.2})
        assert answer.json() == {"changed": False, "revision": 1}
        await slots_become(app, 0)
        # The client leaves: a long poll and an event stream.
        poll = watch(http, 1)
        async with http.stream("GET", f"{BASE}:watch", headers=EVENTS) as stream:
            events = sse(stream.aiter_lines())  # held: dropping it would close the stream
            await next_event(events)
            await slots_become(app, 2)
            poll.cancel()  # httpx closes its connection
            await slots_become(app, 1)
        await slots_become(app, 0)
        # The server shuts down while both are open.
        poll = watch(http, 1, timeout=300)
        async with http.stream("GET", f"{BASE}:watch", headers=EVENTS) as stream:
            events = sse(stream.aiter_lines())
            await next_event(events)
            await watchers_become(app, 2)
            await slots_become(app, 2)
            server.should_exit = True
            rest = [e async for e in events]
        assert [e for e in rest if "comment" not in e] == []
        assert (await asyncio.wait_for(poll, 5)).json() == {"changed": False, "revision": 1}
    await slots_become(app, 0)
