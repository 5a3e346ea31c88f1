"""What of a call's time is the upstream's: from the moment its request's body was handed
to the connection to the moment the answer's bytes came in.

Everything else, aiohttp's work included (building the request, taking a connection,
writing, parsing the answer and waking the call), is modelplane's and counts in
`x-modelplane-overhead-ms`. The connection's protocol notes when bytes last came in; the
body notes when it was written and on which connection. Imported with aiohttp, off the
start-up path (`relay.py`).
"""

from __future__ import annotations

import asyncio
import functools
import time

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.client_proto import ResponseHandler


class HeardHandler(ResponseHandler):
    """aiohttp's protocol of an upstream connection, noting when bytes last came in."""

    heard_at = 0.0

    def data_received(self, data: bytes) -> None:
        """Note the moment, then aiohttp's."""
        self.heard_at = time.perf_counter()
        super().data_received(data)


def _heard_handler(loop: asyncio.AbstractEventLoop) -> ResponseHandler:
    return HeardHandler(loop)


def heard_connector(*, limit: int, limit_per_host: int) -> aiohttp.TCPConnector:
    """aiohttp's connector, whose connections are `HeardHandler`s. aiohttp has no public
    way to give the protocol: its factory is set here (pinned by
    `tests/unit/test_upstream_clock.py`, which fails if aiohttp renames it)."""
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit_per_host)
    connector._factory = functools.partial(_heard_handler, loop=connector._loop)
    return connector


class SentBody(aiohttp.BytesPayload):
    """A request's JSON body; once written, when (`sent_at`) and on which connection."""

    sent_at: float | None = None
    connection: HeardHandler | None = None

    def __init__(self, content: bytes) -> None:
        super().__init__(content, content_type="application/json")

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        """Write the bytes, then note the moment and the connection."""
        await super().write_with_length(writer, content_length)
        self.sent_at = time.perf_counter()
        protocol = getattr(writer, "protocol", None)
        self.connection = protocol if isinstance(protocol, HeardHandler) else None

    def waited(self, since: float) -> float:
        """The upstream's part of the time from `since` to now: until bytes last came in on
        the body's connection; all of it when none came after `since` (a wait that failed,
        or bytes already there: then it is next to nothing), when the connection notes
        nothing, or when the body was never written."""
        now = time.perf_counter()
        if self.connection is None or self.connection.heard_at < since:
            return now - since
        return min(now, self.connection.heard_at) - since
