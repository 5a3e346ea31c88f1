"""Watching dynamic parameters on real `modelplane serve` processes: a watcher on one
replica learns of a change made through another, and SIGTERM ends open watches and event
streams at once instead of waiting for them."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support.databases import database
from tests.support.server import Server, instance_env, replicas

TOKEN = "mp_watch_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
NS = "/v1/configs/cn-hangzhou/service/my_llm_service"
EVENTS = {"accept": "text/event-stream"}


async def events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    """Server-sent events as dicts of their fields (comments skipped)."""
    found: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if found:
                yield found
                found = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            found[name] = value.removeprefix(" ")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_watcher_on_one_replica_learns_of_a_change_made_through_another(
    tmp_path: Path,
) -> None:
    with database("postgres", tmp_path) as url:
        env = instance_env(url, TOKEN)
        with replicas(env, cwd=tmp_path) as (first, second):
            asyncio.run(watch_a_and_change_through_b(first.url, second.url))


async def watch_a_and_change_through_b(a: str, b: str) -> None:
    async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:
        created = await http.put(f"{b}{NS}/rate_limit", json={"value": "10"})
        assert created.status_code == 201, created.text
        # Long-poll on A, change through B.
        for n, value in enumerate(["20", "30", "40"], start=2):
            waiting = asyncio.create_task(
                http.get(f"{a}{NS}:watch", params={"sinceRevision": n - 1, "timeoutSeconds": 30})
            )
            await asyncio.sleep(0.3)
            assert not waiting.done()
            started = time.monotonic()
            changed = await http.put(f"{b}{NS}/rate_limit", json={"value": value})
            assert changed.status_code == 200, changed.text
            answer = await asyncio.wait_for(waiting, 30)
            lag = time.monotonic() - started
            body = answer.json()
            assert body["changed"] is True and body["revision"] == n, body
            assert body["configs"][0]["value"] == value
            assert lag < 3, lag  # woken by NOTIFY, far before the 30 s timeout
        # An event stream on A, changes through B.
        async with http.stream("GET", f"{a}{NS}:watch", headers=EVENTS) as stream:
            seen = events(stream.aiter_lines())
            current = await asyncio.wait_for(anext(seen), 10)
            assert current["id"] == "4"
            started = time.monotonic()
            await http.put(f"{b}{NS}/model", json={"value": "qwen-max"})
            found = await asyncio.wait_for(anext(seen), 10)
            assert time.monotonic() - started < 3
            assert (found["event"], found["id"]) == ("change", "5")
            state = orjson.loads(found["data"])
            # What changed after the previous event, not the untouched `rate_limit`.
            assert {c["key"]: c["value"] for c in state["configs"]} == {"model": "qwen-max"}
            assert state["deleted"] == []


@pytest.mark.slow
def test_sigterm_ends_open_event_streams_and_watches_instead_of_waiting_for_them(
    tmp_path: Path,
) -> None:
    # The graceful shutdown waits up to 20 s for open responses; these must not hold it.
    server = Server(cwd=tmp_path, env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}).start()
    server.wait_ready()
    try:
        answer, stream_rest, signalled = asyncio.run(stream_poll_and_terminate(server))
        assert server.process is not None
        server.process.wait(10)
        exited = time.monotonic() - signalled
        assert exited < 5, exited
        assert answer == {"changed": False, "revision": 1}
        assert stream_rest == []  # the stream ended, with no event after the first
        assert server.stop_cleanly(), server.stderr()
        assert "timeout graceful shutdown exceeded" not in server.stderr()
    finally:
        server.stop()


async def stream_poll_and_terminate(server: Server) -> tuple[object, list[object], float]:
    async with httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=60) as http:
        await http.put(f"{NS}/k", json={"value": "v"})
        async with http.stream("GET", f"{NS}:watch", headers=EVENTS) as stream:
            seen = events(stream.aiter_lines())
            first = await asyncio.wait_for(anext(seen), 10)
            assert first["id"] == "1"
            poll = asyncio.create_task(
                http.get(f"{NS}:watch", params={"sinceRevision": 1, "timeoutSeconds": 300})
            )
            await asyncio.sleep(0.5)
            assert not poll.done()
            assert server.process is not None
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            rest: list[object] = [e async for e in seen]
            answer = (await asyncio.wait_for(poll, 10)).json()
    return answer, rest, signalled
