"""What every native watch shares (a namespace's, a gray client's, a prompt template's):
the caller's watch slot, the long-poll's wait, and the event stream's loop.

A watch holds one of the caller's watch slots while it is open (429 beyond the caps), and
may be in the list of who is listening (`Listening`) for as long. A long-poll answers the
first of: what it waits for, the client leaving, the server shutting down (then None). An
event stream sends a `change` event each time the watched thing moves (the first at once
when it already has), a heartbeat comment every ~15 s between, and ends at its timeout or
after an `error` event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from fastapi import Request

from modelplane.domain.errors import DomainError
from modelplane.faces.event_stream import EventStream, comment, event
from modelplane.faces.native.errors import render
from modelplane.faces.shutdown import Shutdown, disconnected, first_of
from modelplane.security.watch_slots import WatchSlots

HEARTBEAT_SECONDS = 15.0
WATCH_SECONDS_DEFAULT = 30.0

T = TypeVar("T")


class Listening(Protocol):
    """A watch's entry in the list of who is listening; gone once closed."""

    def close(self) -> None:
        """Leave the list."""


class Moves(Protocol[T]):
    """What an event stream follows: waits for the next state, and tells news from it."""

    async def wait(self, seconds: float) -> T | None:
        """The watched thing once it moves past what was sent, within `seconds`; or None."""

    def news(self, found: T) -> tuple[bytes, str | int] | None:
        """The data and id of a `change` event for `found`, when it is news (and take it as
        sent); None when it is not."""


def _shutdown(request: Request) -> Shutdown:
    shutdown: Shutdown = request.app.state.shutdown
    return shutdown


async def long_poll(
    request: Request,
    principal_id: str,
    work: Callable[[], Coroutine[Any, Any, T]],
    *,
    listen: Callable[[], Listening] | None = None,
) -> T | None:
    """`work()`'s result within one of the caller's watch slots (listed by `listen` while it
    waits); None when the client leaves or the server shuts down first."""
    slots: WatchSlots = request.app.state.watch_slots
    slot = slots.take(principal_id)
    try:
        listener = listen() if listen is not None else None
        try:
            return await first_of(work(), disconnected(request.receive), _shutdown(request).wait())
        finally:
            if listener is not None:
                listener.close()
    finally:
        slot.release()


async def event_stream(
    request: Request,
    principal_id: str,
    first: Callable[[], Awaitable[T]],
    events: Callable[[T], AsyncIterator[bytes]],
    *,
    listen: Callable[[], Listening] | None = None,
) -> EventStream:
    """An event stream of `events(await first())`, holding one of the caller's watch slots
    (and listed by `listen`) until it ends; an error before it starts gives the slot back."""
    slots: WatchSlots = request.app.state.watch_slots
    slot = slots.take(principal_id)
    try:
        state = await first()
        listener = listen() if listen is not None else None
    except BaseException:
        slot.release()
        raise

    def close() -> None:
        if listener is not None:
            listener.close()
        slot.release()

    return EventStream(events(state), shutdown=_shutdown(request), on_close=close)


async def change_events(
    moves: Moves[T], first: T | None, timeout_seconds: float | None
) -> AsyncIterator[bytes]:
    """A `change` event for each news of `moves` (from `first` on), heartbeats between;
    ends at `timeout_seconds` (never when None) or after an `error` event."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout_seconds is None else loop.time() + timeout_seconds
    found = first
    try:
        while True:
            news = moves.news(found) if found is not None else None
            if news is not None:
                yield event("change", news[0], news[1])
            wait = HEARTBEAT_SECONDS
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return
                wait = min(wait, left)
            found = await moves.wait(wait)
            if found is None and (deadline is None or loop.time() < deadline):
                yield comment("heartbeat")
    except DomainError as exc:
        yield event("error", bytes(render(exc).body))
