"""What of a call's time is the upstream's: the body notes when it was written and on which
connection, the connection when bytes came in (against a real local server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from modelplane.faces.gateway.upstream_clock import HeardHandler, SentBody, heard_connector

DELAY = 0.05


async def slow_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read one request, wait DELAY, answer; then the same again while the client stays."""
    while await reader.readuntil(b"\r\n\r\n"):
        await reader.readexactly(2)  # the body: {}
        await asyncio.sleep(DELAY)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()


@pytest.fixture
async def url() -> AsyncIterator[str]:
    server = await asyncio.start_server(slow_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()


async def test_the_upstream_waits_from_the_bodys_write_to_the_answers_bytes(url: str) -> None:
    connector = heard_connector(limit=10, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(2):  # a new connection, then the same one again
            body = SentBody(b"{}")
            before = time.perf_counter()
            async with session.post(url, data=body) as response:
                assert await response.read() == b"{}"
            assert isinstance(body.connection, HeardHandler)
            assert body.sent_at is not None and before < body.sent_at
            waited = body.waited(body.sent_at)
            assert DELAY <= waited < time.perf_counter() - body.sent_at
            assert body.connection.heard_at - body.sent_at == pytest.approx(waited)


async def test_a_wait_that_heard_nothing_is_all_the_upstreams() -> None:
    body = SentBody(b"{}")
    since = time.perf_counter()
    await asyncio.sleep(0.01)
    assert body.waited(since) >= 0.01  # never written: no connection to ask
    body.connection = HeardHandler(asyncio.get_running_loop())
    body.connection.heard_at = since - 1  # bytes last came before the wait began
    assert body.waited(since) >= 0.01
