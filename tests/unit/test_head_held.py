"""A response's head waits for its body's first write and leaves with it, in one send.

`connections.HeadHeld` sits between uvicorn's response cycle and the socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

from modelplane.connections import HeadHeld

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Recorded:
    """A transport that notes what is written and whether it was closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


def held(transport: Recorded) -> HeadHeld:
    return HeadHeld(transport, asyncio.get_running_loop())  # type: ignore[arg-type]


async def test_a_head_and_its_body_leave_in_one_write() -> None:
    transport = Recorded()
    writer = held(transport)
    writer.write(HEAD)
    writer.write(b"{}")
    assert transport.writes == [HEAD + b"{}"]
    await asyncio.sleep(0)
    assert transport.writes == [HEAD + b"{}"]


async def test_a_head_without_a_body_yet_leaves_at_the_end_of_the_loops_turn() -> None:
    transport = Recorded()
    writer = held(transport)
    writer.write(HEAD)
    assert transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [HEAD]
    writer.write(b"data: 1\n\n")  # a stream's events go out as they come
    assert transport.writes == [HEAD, b"data: 1\n\n"]


async def test_closing_sends_the_held_head_first() -> None:
    transport = Recorded()
    writer = held(transport)
    writer.write(HEAD)
    writer.close()
    assert (transport.writes, transport.closed) == ([HEAD], True)


async def test_what_is_not_a_head_is_never_held() -> None:
    transport = Recorded()
    writer = held(transport)
    writer.write(b"0\r\n\r\n")
    assert transport.writes == [b"0\r\n\r\n"]
    assert writer.get_extra_info("peername") == ("127.0.0.1", 1)
    assert not writer.is_closing()
