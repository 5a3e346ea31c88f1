"""HTTP/1.1 connections that cannot be held for nothing: deadlines, a cap, an exact head limit.

uvicorn's h11 protocol, with what it lacks against slow or idle clients:

- the head of a request (request line and header lines) must arrive within
  `head_seconds`, counted from the connection's opening or from the first byte of a later
  request; a connection that sent nothing is closed silently, one that sent part of a head
  gets 408;
- the body must arrive within `body_seconds` after the head (while this side reads it);
  otherwise 408 when no answer has begun, and the connection is closed;
- an idle keep-alive connection is closed after uvicorn's `timeout_keep_alive`;
- beyond `max_connections` open connections a new one gets 503 and is closed at once;
- a head over `head_bytes` gets 431, counted to the byte however it arrives (h11's own
  limit applies only while a head is incomplete, so a big head that arrives whole passes).

No deadline runs while a response is being sent: watches and event streams are answers,
not slow requests. Every refusal is a JSON error in the native format naming the limit and
its setting, and is logged on `modelplane.connections` (held to one line a second by
`logs.configure`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any, ClassVar

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from modelplane.faces.native.errors import error_body
from modelplane.logs import CONNECTIONS_LOGGER
from modelplane.settings import Settings

log = logging.getLogger(CONNECTIONS_LOGGER)
RETRY_AFTER_SECONDS = 1  # for a connection refused at the cap
REASON_CHARS = 200  # of h11's reason for refusing a request (it may quote the request)
# After an error answer, how long to read and drop what the client still sends: closing
# with unread data sends a reset, which may destroy the answer before the client reads it.
LINGER_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection may take, and how many may be open."""

    head_bytes: int
    head_seconds: float
    body_seconds: float
    max_connections: int

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        """The limits of `settings`."""
        return cls(
            head_bytes=settings.max_request_head_bytes,
            head_seconds=settings.head_timeout_seconds,
            body_seconds=settings.body_timeout_seconds,
            max_connections=settings.max_connections,
        )


class HeadLimitedConnection(h11.Connection):
    """h11's server side, refusing a request head of more than `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=limit)
        self.limit = limit
        self.refusal: h11.RemoteProtocolError | None = None
        self.head_too_large = False

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        """h11's next event; a head over the limit raises `RemoteProtocolError` (431)."""
        reading_head = self.their_state is h11.IDLE
        buffered = len(self._receive_buffer)
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as exc:  # incomplete and already over: h11's 431
            self.refusal = exc
            self.head_too_large = reading_head and exc.error_status_hint == 431
            raise
        # A head is consumed from the buffer only once complete, all of it at once.
        if isinstance(event, h11.Request) and buffered - len(self._receive_buffer) > self.limit:
            self.head_too_large = True
            self.refusal = h11.RemoteProtocolError("request head too large", error_status_hint=431)
            raise self.refusal
        return event


class _Phase(Enum):
    HEAD = "head"
    BODY = "body"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str,
    rule: str,
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, with a native JSON error body."""
    request_id = os.urandom(16).hex()
    body = orjson.dumps(
        {**error_body(code, message, [{"field": field, "rule": rule}]), "requestId": request_id}
    )
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        f"x-request-id: {request_id}",
        "connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the deadlines, the cap and the head limit of `limits`."""

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_limited = HeadLimitedConnection(self.limits.head_bytes)
        self.conn = self.head_limited
        # One timer per connection, moved lazily: arming a phase only notes its deadline,
        # and the timer, when it fires early, waits again for what is left. A request then
        # costs no timer of its own (keep-alive connections serve thousands).
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0  # loop time at which the phase's wait ends
        self._phase: _Phase | None = None
        self._heard = False  # whether a byte of the awaited head came
        self._lingering = False  # answered with an error: what comes is dropped

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Count the connection; refuse it beyond the cap, else start waiting for a head."""
        super().connection_made(transport)  # type: ignore[arg-type]
        limit = self.limits.max_connections
        if len(self.connections) > limit:
            log.warning(
                "connection refused: too many open connections",
                extra={"fields": {"limit": limit, "setting": "MODELPLANE_MAX_CONNECTIONS"}},
            )
            self.transport.write(
                error_response(
                    503,
                    "UNAVAILABLE",
                    f"too many open connections: this server holds at most {limit} "
                    "(MODELPLANE_MAX_CONNECTIONS); retry later",
                    field="connections",
                    rule=f"at most {limit} open",
                    headers=(("retry-after", str(RETRY_AFTER_SECONDS)),),
                )
            )
            self.transport.close()
            return
        self._arm(_Phase.HEAD, heard=False)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timer, then uvicorn's cleanup."""
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Start the head's deadline at a request's first byte, then follow the request."""
        if self._lingering:
            return
        if self._phase is None and self.conn.their_state is h11.IDLE:
            self._arm(_Phase.HEAD, heard=True)
        elif self._phase is _Phase.HEAD:
            self._heard = True
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        """uvicorn's (keep-alive timer, pipelined requests), then follow the next request."""
        super().on_response_complete()
        self._follow()

    def shutdown(self) -> None:
        """At server shutdown: close a connection that is already being let go (its error
        answer went around h11, which would refuse uvicorn's way); else uvicorn's."""
        if self._lingering or self.transport.is_closing():
            self.transport.close()
            return
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        """Refuse a request h11 could not take: 431 for a head over the limit, else 400."""
        limited = self.head_limited
        if limited.head_too_large:
            answer = error_response(
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                f"the request head (request line and headers) exceeds {limited.limit} bytes "
                "(MODELPLANE_MAX_REQUEST_HEAD_BYTES)",
                field="head",
                rule=f"at most {limited.limit} bytes",
            )
        else:
            reason = str(limited.refusal) if limited.refusal is not None else msg
            if len(reason) > REASON_CHARS:
                reason = reason[:REASON_CHARS] + "…"
            answer = error_response(
                400,
                "INVALID_ARGUMENT",
                f"invalid HTTP request: {reason}",
                field="request",
                rule="HTTP/1.1 (RFC 9112)",
            )
        self._answer_and_close(answer)

    def _follow(self) -> None:
        """The body's deadline while it is awaited; none once the request is read."""
        if self._lingering:
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self._phase is not _Phase.BODY:
                self._arm(_Phase.BODY, heard=True)
        elif state is not h11.IDLE:
            self._disarm()

    def _arm(self, phase: _Phase, *, heard: bool) -> None:
        self._phase, self._heard = phase, heard
        seconds = self.limits.head_seconds if phase is _Phase.HEAD else self.limits.body_seconds
        self._deadline = self.loop.time() + seconds
        if self._timer is not None and self._timer.when() > self._deadline:
            self._timer.cancel()  # a shorter wait than the one it times (a head after a body)
            self._timer = None
        if self._timer is None:
            self._timer = self.loop.call_at(self._deadline, self._on_timer)

    def _disarm(self) -> None:
        self._phase = None  # the timer, if any, finds nothing to wait for and stops

    def _on_timer(self) -> None:
        self._timer = None
        if self._phase is None:
            return
        if self.loop.time() < self._deadline:  # re-armed since: wait for what is left
            self._timer = self.loop.call_at(self._deadline, self._on_timer)
            return
        self._expired()

    def _expired(self) -> None:
        phase = self._phase
        self._phase = None
        if phase is None or self.transport.is_closing():
            return
        if phase is _Phase.BODY and self.flow.read_paused:
            self._arm(_Phase.BODY, heard=True)  # this side stopped reading, not the client
            return
        seconds = self.limits.head_seconds if phase is _Phase.HEAD else self.limits.body_seconds
        setting = f"MODELPLANE_{phase.value.upper()}_TIMEOUT_SECONDS"
        log.warning(
            f"connection closed: the request {phase.value} did not arrive in time",
            extra={"fields": {"seconds": seconds, "setting": setting}},
        )
        answered = False
        cycle = self.cycle if phase is _Phase.BODY else None  # else the one before, done
        if cycle is not None:
            answered = cycle.response_started
            if not cycle.response_complete:
                cycle.disconnected = True  # the application reads the end, writes nothing
                cycle.message_event.set()
        if not self._heard or answered:
            self.transport.close()
            return
        self._answer_and_close(
            error_response(
                408,
                "REQUEST_TIMEOUT",
                f"the request {phase.value} did not arrive within {seconds:g} s ({setting})",
                field=phase.value,
                rule=f"within {seconds:g} s",
            )
        )

    def _answer_and_close(self, answer: bytes) -> None:
        """Write `answer` and the end of the stream, then read and drop what the client
        still sends until it closes or `LINGER_SECONDS` pass, and close."""
        self._disarm()
        if self.transport.is_closing():
            return
        self.transport.write(answer)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = True
        self.flow.resume_reading()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)


def protocol_class(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """The protocol class for uvicorn's `http=` (it makes one protocol per connection)."""

    class Guarded(GuardedH11Protocol):
        pass

    Guarded.limits = limits
    return Guarded
