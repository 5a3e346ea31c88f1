"""A server-sent event stream (`text/event-stream`) that ends cleanly.

The stream ends when its events end, when the client disconnects, or when the server
begins to shut down, whichever comes first; the event source is closed, and `on_close`
called, in every case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from modelplane.faces.shutdown import Shutdown, first_of

MEDIA_TYPE = "text/event-stream"


def wants_events(accept: str | None) -> bool:
    """Whether an `Accept` header asks for an event stream."""
    return accept is not None and MEDIA_TYPE in accept.lower()


def event(name: str, data: bytes, event_id: str | int | None = None) -> bytes:
    """One event: `event:`, `id:` and one `data:` line (`data` must hold no newline)."""
    head = f"event: {name}\n"
    if event_id is not None:
        head += f"id: {event_id}\n"
    return head.encode() + b"data: " + data + b"\n\n"


def comment(text: str) -> bytes:
    """A comment line, which clients ignore: a heartbeat that keeps proxies from timing out."""
    return f": {text}\n\n".encode()


class EventStream(StreamingResponse):
    """A response that sends each chunk of `events` as soon as it is made."""

    def __init__(
        self,
        events: AsyncIterator[bytes],
        *,
        shutdown: Shutdown,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(
            events,
            media_type=MEDIA_TYPE,
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )
        self.events = events
        self.shutdown = shutdown
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = False

        async def client_gone() -> None:
            nonlocal gone
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    gone = True
                    return

        async def pump() -> None:
            nonlocal gone
            try:
                async for chunk in self.events:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except OSError:  # servers of ASGI 2.4 report a client gone this way
                gone = True

        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": self.raw_headers,
                }
            )
            await first_of(pump(), client_gone(), self.shutdown.wait())
        finally:
            try:
                close = getattr(self.events, "aclose", None)
                if close is not None:
                    await close()
            finally:
                if self.on_close is not None:
                    self.on_close()
        if not gone:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
