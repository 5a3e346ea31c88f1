"""Watching a prompt template's label, and the SDK's cached templates and namespaces, on
SQLite and PostgreSQL: a label move wakes a watcher at once (on another replica too), a
cached client follows it within a second, and starts from its file while the server
cannot be reached."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.client import AsyncClient, Client, InvalidArgument, NotFound, TransportError
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.integration.test_prompts_api import fields, make_workspace
from tests.support.in_process import served
from tests.support.server import free_port


async def versions_1_to_3(client: httpx.AsyncClient) -> tuple[str, str]:
    """A workspace with a template `greeting` at versions 1..3, production at 1; its url."""
    ws = await make_workspace(client)
    templates = f"/v1/workspaces/{ws}/prompt-templates"
    assert (
        await client.post(templates, json={"name": "greeting", "content": "v1 ${x}"})
    ).is_success
    url = f"{templates}/greeting"
    for n in (2, 3):
        assert (await client.patch(url, json={"content": f"v{n} ${{x}}"})).is_success
    assert (await client.put(f"{url}/labels/production", json={"version": 1})).is_success
    return ws, url


async def move(client: httpx.AsyncClient, url: str, version: int, after: float = 0.05) -> None:
    await asyncio.sleep(after)
    assert (await client.put(f"{url}/labels/production", json={"version": version})).is_success


async def test_a_long_poll_answers_when_the_label_moves_and_not_before(
    client: httpx.AsyncClient,
) -> None:
    _, url = await versions_1_to_3(client)
    watch = f"{url}/watch"
    # Holding another version than the label's: answered at once.
    at_once = await client.get(watch, params={"label": "production", "version": 3})
    assert at_once.json()["changed"] is True and at_once.json()["version"] == 1
    assert at_once.json()["template"]["content"] == "v1 ${x}"
    # Holding the label's version: answered when it moves.
    started = time.perf_counter()
    polled, _ = await asyncio.gather(
        client.get(watch, params={"label": "production", "version": 1, "timeoutSeconds": 10}),
        move(client, url, 2),
    )
    assert time.perf_counter() - started < 2
    assert (polled.json()["changed"], polled.json()["version"]) == (True, 2)
    assert polled.json()["template"]["labels"] == ["production"]
    # Nothing moves: `changed: false` at the timeout.
    quiet = await client.get(
        watch, params={"label": "production", "version": 2, "timeoutSeconds": 0.2}
    )
    assert quiet.json() == {"changed": False, "version": 2}
    # Without a label it follows the current version (a new version wakes it).
    latest, _ = await asyncio.gather(
        client.get(watch, params={"version": 3, "timeoutSeconds": 10}),
        client.patch(url, json={"content": "v4 ${x}"}),
    )
    assert latest.json()["version"] == 4
    # A removed label is 404; bad parameters are 400 naming them.
    assert (await client.delete(f"{url}/labels/production")).is_success
    gone = await client.get(
        watch, params={"label": "production", "version": 2, "timeoutSeconds": 1}
    )
    assert gone.status_code == 404
    for params, field in (
        ({"version": -1}, "version"),
        ({"timeoutSeconds": 301}, "timeoutSeconds"),
        ({"label": "Bad"}, "label"),
    ):
        response = await client.get(watch, params=params)
        assert response.status_code == 400, response.text
        assert fields(response) == [field]


async def test_an_event_stream_sends_each_move(client: httpx.AsyncClient) -> None:
    _, url = await versions_1_to_3(client)

    async def moves() -> None:
        await move(client, url, 2, after=0.2)
        await move(client, url, 3, after=0.1)

    streamed, _ = await asyncio.gather(
        client.get(
            f"{url}/watch",
            params={"label": "production", "version": 0, "timeoutSeconds": 1.5},
            headers={"accept": "text/event-stream"},
        ),
        moves(),
    )
    assert streamed.status_code == 200, streamed.text
    events = [block for block in streamed.text.split("\n\n") if block.startswith("event: change")]
    versions = [json.loads(e.split("data: ", 1)[1])["version"] for e in events]
    assert versions == [1, 2, 3]


async def test_a_move_on_one_replica_wakes_a_watcher_on_another(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    if not app.state.store.engines.is_postgres:
        pytest.skip("replicas share changes through PostgreSQL; SQLite watches are in-process")
    _, url = await versions_1_to_3(client)
    other = create_app(settings)
    async with (
        other.router.lifespan_context(other),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other),
            base_url="http://replica-b.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as replica_b,
    ):
        params: dict[str, Any] = {"label": "production", "version": 1, "timeoutSeconds": 10}
        started = time.perf_counter()
        polled, _ = await asyncio.gather(
            replica_b.get(f"{url}/watch", params=params), move(client, url, 3, after=0.2)
        )
        assert polled.json()["version"] == 3
        assert time.perf_counter() - started < 1.2  # 0.2 s before the move, then < 1 s


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


async def until(check: Any, seconds: float = 1.0) -> float:
    """Wait until `check()` is true; how long it took (AssertionError past `seconds`)."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > seconds:
            raise AssertionError("not seen in time")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def test_a_cached_template_follows_its_label_within_a_second_and_renders_locally(
    client: httpx.AsyncClient, live_url: str
) -> None:
    ws, url = await versions_1_to_3(client)
    async with AsyncClient(live_url, ADMIN_TOKEN) as sdk:
        cached = await sdk.prompts.cached(ws, "greeting", label="production")
        async with cached:
            assert cached.template.version == 1
            assert cached.render({"x": "a"}).text == "v1 a"
            await move(client, url, 3, after=0)
            assert await until(lambda: cached.template.version == 3) < 1.0
            assert cached.render({"x": "b"}).text == "v3 b"
            with pytest.raises(InvalidArgument) as missing:
                cached.render({})
            assert [d.field for d in missing.value.details] == ["variables.x"]


async def test_a_sync_cache_follows_in_a_thread_and_starts_from_its_file_offline(
    client: httpx.AsyncClient, live_url: str, tmp_path: Path
) -> None:
    ws, url = await versions_1_to_3(client)
    path = str(tmp_path / "greeting.json")

    def follow_then_close() -> int:
        with Client(live_url, ADMIN_TOKEN) as sdk:
            cached = sdk.prompts.cached(ws, "greeting", label="production", path=path)
            with cached:
                seen = cached.template.version
                httpx.put(
                    f"{live_url}{url}/labels/production",
                    json={"version": 2},
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                )
                deadline = time.perf_counter() + 1.0
                while cached.template.version == seen and time.perf_counter() < deadline:
                    time.sleep(0.005)
                return cached.template.version

    assert await asyncio.to_thread(follow_then_close) == 2

    def client_closed_under_it() -> None:
        with Client(live_url, ADMIN_TOKEN) as sdk:
            cached = sdk.prompts.cached(ws, "greeting", label="production", timeout_seconds=0.2)
        time.sleep(0.5)  # its thread polls again, on a closed client, and ends quietly
        assert cached.template.version == 2  # the last good one, still

    await asyncio.to_thread(client_closed_under_it)

    def offline(label: str) -> tuple[int, bool]:
        dead = f"http://127.0.0.1:{free_port()}"
        with Client(dead, ADMIN_TOKEN, max_retries=0) as sdk:
            cached = sdk.prompts.cached(ws, "greeting", label=label, path=path)
            with cached:
                return cached.template.version, cached.from_file

    assert await asyncio.to_thread(offline, "production") == (2, True)
    with pytest.raises(TransportError):  # the file holds another label: not used
        await asyncio.to_thread(offline, "staging")

    def refused() -> None:
        with Client(live_url, ADMIN_TOKEN) as sdk:
            sdk.prompts.cached(ws, "greeting", label="canary", path=path)

    with pytest.raises(NotFound):  # the server answered: its error, not the file
        await asyncio.to_thread(refused)


async def test_a_cached_namespace_follows_its_revisions_and_starts_from_its_file(
    client: httpx.AsyncClient, live_url: str, tmp_path: Path
) -> None:
    base = "/v1/configs/cn-cache/service/svc"
    assert (await client.put(f"{base}/mode", json={"value": "a"})).is_success
    path = str(tmp_path / "svc.json")
    async with AsyncClient(live_url, ADMIN_TOKEN) as sdk:
        cached = await sdk.configs.cached("cn-cache", "svc", path=path)
        async with cached:
            assert cached.values == {"mode": "a"}
            assert (await client.put(f"{base}/mode", json={"value": "b"})).is_success
            assert await until(lambda: cached.values == {"mode": "b"}) < 1.0
    dead = f"http://127.0.0.1:{free_port()}"
    async with AsyncClient(dead, ADMIN_TOKEN, max_retries=0) as offline:
        from_file = await offline.configs.cached("cn-cache", "svc", path=path)
        async with from_file:
            assert (from_file.values, from_file.from_file) == ({"mode": "b"}, True)
