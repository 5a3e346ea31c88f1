"""A relayed stream gives its upstream connection back to the pool once it has ended."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import Message

from modelplane.domain.gateway import ApiFamily, Operation, Route, Target
from modelplane.faces.gateway.health import Health
from modelplane.faces.gateway.metrics import GatewayMetrics
from modelplane.faces.gateway.relay import Call, Limits, Relay

EVENTS = (
    b'data: {"choices": [{"index": 0, "delta": {"content": "hi"}}]}\n\n',
    b'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}\n\n',
    b"data: [DONE]\n\n",
)
# The events in one chunk, then the chunked encoding's last chunk: what the relay reads
# after the end event.
ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    + b"%x\r\n%b\r\n" % (len(b"".join(EVENTS)), b"".join(EVENTS))
    + b"0\r\n\r\n"
)


async def test_streams_one_after_another_share_one_upstream_connection() -> None:
    opened = 0

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:  # the relay closed the connection
                writer.close()
                return
            length = next(
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            )
            await reader.readexactly(length)
            writer.write(ANSWER)
            await writer.drain()

    server = await asyncio.start_server(upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    relay = Relay(
        Limits(deadline_seconds=10, connect_seconds=5, idle_seconds=5, max_attempts=1),
        Health(failures=3, rest_seconds=30),
        GatewayMetrics(),
    )
    target = Target("llm/up", ApiFamily.OPENAI, f"http://127.0.0.1:{port}/v1", "mock-1")
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        for _ in range(3):
            sent.clear()
            body: dict[str, Any] = {"model": "mock-1", "messages": [], "stream": True}
            call = Call(Operation.CHAT, Route("mock-1", (target,)), body, {}, time.perf_counter())
            await relay.answer(call, send)
            relayed = b"".join(m.get("body", b"") for m in sent)
            assert relayed == b"".join(EVENTS)
            assert call.usage.output_tokens == 1
    finally:
        await relay.close()
        server.close()
        await server.wait_closed()
    assert opened == 1
