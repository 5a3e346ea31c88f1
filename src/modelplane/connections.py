"""HTTP/1.1 connections that cannot be held for nothing: deadlines, a cap, an exact head limit.

uvicorn's httptools protocol (llhttp, the parser of Node.js), with what it lacks against
slow or idle clients:

- the head of a request (request line and header lines) must arrive within
  `head_seconds`, counted from the connection's opening or from the first byte of a later
  request; a connection that sent nothing is closed silently, one that sent part of a head
  gets 408;
- the body must arrive within `body_seconds` after the head (while this side reads it);
  otherwise 408 when no answer has begun, and the connection is closed;
- an idle keep-alive connection is closed after uvicorn's `timeout_keep_alive`;
- beyond `max_connections` open connections a new one gets 503 and is closed at once;
- a head over `head_bytes` gets 431, counted to the byte however it arrives (llhttp has
  no limit of its own: `Framing` counts);
- a request the parser refuses gets 400.

No deadline runs while a response is being sent: watches and event streams are answers,
not slow requests. Every refusal is a JSON error in the native format naming the limit and
its setting. Refused and timed-out connections are logged on `modelplane.connections`,
refused requests as uvicorn's "Invalid HTTP request received." on `uvicorn.error` (each
held to one line a second by `logs.configure`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import urllib.parse
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any, ClassVar

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from modelplane.faces.native.errors import error_body
from modelplane.logs import BAD_REQUEST, CONNECTIONS_LOGGER
from modelplane.settings import Settings

log = logging.getLogger(CONNECTIONS_LOGGER)
LOOP = "asyncio"  # uvicorn's event loop for `GuardedProtocol` (see BENCHMARKS.md)
URL_PARSER_BYTES = 65535  # the longest URL httptools' URL parser takes
RETRY_AFTER_SECONDS = 1  # for a connection refused at the cap
REASON_CHARS = 200  # of the parser's reason for refusing a request
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


class HeadTooLarge(Exception):
    """A request head longer than the limit."""


class _Stage(Enum):
    HEAD = "head"  # a head is awaited or arriving
    HEAD_FED = "head fed"  # a whole head went to the parser, which says what follows
    LENGTH = "length"  # a body of known length
    CHUNKED = "chunked"  # a chunked body


class Framing:
    """Where each request head begins and ends in what one connection receives, so that a
    head is counted to the byte however it arrives (httptools has no limit of its own).

    The parser (llhttp) requires CRLF line ends, so a head ends at its first empty line;
    empty lines before a request line are skipped (as llhttp skips them) and not counted.
    `next_piece` cuts the data so that no piece runs past the end of a head or a body: the
    parser ends a request only at the end of a piece, and the next head is counted from
    the next piece. A chunked body ends at an empty line too (after its last chunk and
    trailers), so it is cut after each empty line.
    """

    __slots__ = ("count", "limit", "remaining", "stage", "tail")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stage = _Stage.HEAD
        self.count = 0  # bytes of the head arriving
        self.tail = b""  # its last bytes (at most 3), for an empty line split across data
        self.remaining = 0  # bytes of the body still to come

    @property
    def in_head(self) -> bool:
        """Whether part of a head came, and not all of it."""
        return self.stage is _Stage.HEAD and self.count > 0

    @property
    def head_fed(self) -> bool:
        """Whether a whole head went to the parser, which has not ended the request: then
        `body` must be told its headers."""
        return self.stage is _Stage.HEAD_FED

    @property
    def in_body(self) -> bool:
        """Whether a body is being read."""
        return self.stage is _Stage.LENGTH or self.stage is _Stage.CHUNKED

    def next_piece(self, data: bytes, start: int) -> int:
        """Where the next piece of `data` from `start` ends; raises `HeadTooLarge`."""
        stage = self.stage
        if stage is _Stage.LENGTH and self.remaining:
            end = min(len(data), start + self.remaining)
            self.remaining -= end - start
            return end
        if stage is _Stage.CHUNKED:
            end = self._after_empty_line(data, start)
            return len(data) if end < 0 else end
        if stage is not _Stage.HEAD:  # the parser did not say what follows: a head
            self.request_ended()
        if not self.count and data[start] in b"\r\n":
            rest = len(data) - start - len(data[start:].lstrip(b"\r\n"))
            return start + rest
        end = self._after_empty_line(data, start)
        if end < 0:
            self.count += len(data) - start
            if self.count > self.limit:
                raise HeadTooLarge
            return len(data)
        if self.count + end - start > self.limit:
            raise HeadTooLarge
        self.stage, self.count = _Stage.HEAD_FED, 0
        return end

    def body(self, headers: list[tuple[bytes, bytes]]) -> None:
        """After a head the parser took without ending the request: its body follows."""
        if self.stage is not _Stage.HEAD_FED:
            return
        length = 0
        for name, value in headers:
            if name == b"transfer-encoding":
                self.stage = _Stage.CHUNKED
                return
            if name == b"content-length" and value.isdigit():  # llhttp checked it
                length = int(value)
        self.stage, self.remaining = _Stage.LENGTH, length

    def request_ended(self) -> None:
        """The parser read a whole request: what comes next is a head."""
        self.stage, self.count, self.tail = _Stage.HEAD, 0, b""

    def _after_empty_line(self, data: bytes, start: int) -> int:
        """The index after the first CRLF CRLF from `start`, counting `tail`; else -1, and
        `tail` becomes the last bytes."""
        tail = self.tail
        if tail:
            found = (tail + data[start : start + 3]).find(b"\r\n\r\n")
            if found >= 0:
                self.tail = b""
                return start + found + 4 - len(tail)
        found = data.find(b"\r\n\r\n", start)
        if found >= 0:
            self.tail = b""
            return found + 4
        self.tail = (tail + data[max(start, len(data) - 3) :])[-3:]
        return -1


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


class HeadHeld:
    """The transport as one response's cycle sees it: the head waits for the body's first
    write, so that a small response leaves in one segment instead of two (one system call
    and one wake-up of the client fewer). A head with no body yet (a stream) leaves at the
    end of the loop's turn."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        """Hold the first write (the head); send it with the next one."""
        if self._held is not None:
            data, self._held = self._held + data, None
        elif data.startswith(b"HTTP/"):  # a head: wait for what follows it
            self._held = data
            self._loop.call_soon(self.flush)
            return
        self._transport.write(data)

    def flush(self) -> None:
        """Send what is held."""
        if self._held is not None:
            data, self._held = self._held, None
            self._transport.write(data)

    def close(self) -> None:
        """Send what is held, then close."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """The transport's."""
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's."""
        return self._transport.get_extra_info(name, default)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines, the cap and the head limit of
    `limits`."""

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.framing = Framing(self.limits.head_bytes)
        # One timer per connection, moved lazily: arming a phase only notes its deadline,
        # and the timer, when it fires early, waits again for what is left. A request then
        # costs no timer of its own (keep-alive connections serve thousands).
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0  # loop time at which the phase's wait ends
        self._phase: _Phase | None = None
        self._heard = False  # whether a byte of the awaited head came
        self._lingering = False  # answered with an error: what comes is dropped

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection; refuse it beyond the cap, else start waiting for a head."""
        super().connection_made(transport)
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
        """Start the head's deadline at a request's first byte, then parse `data` in pieces
        that end where heads and bodies end (`Framing`), refusing a head over the limit."""
        if self._lingering:
            return
        if self._phase is None:
            if not self._answering():
                self._arm(_Phase.HEAD, heard=True)
        elif self._phase is _Phase.HEAD:
            self._heard = True
        self._unset_keepalive_if_required()
        framing, start, size = self.framing, 0, len(data)
        while start < size:
            try:
                end = framing.next_piece(data, start)
            except HeadTooLarge:
                self.logger.warning(BAD_REQUEST)
                self._refuse_head()
                return
            if not self._parse(data if end - start == size else memoryview(data)[start:end]):
                return
            if framing.head_fed:
                framing.body(self.headers)
            start = end
        self._follow()

    def on_headers_complete(self) -> None:
        """uvicorn's; a URL longer than httptools' URL parser takes (the bailian SDK sends
        whole templates in the query) is split into path and query here."""
        url = self.url
        if len(url) <= URL_PARSER_BYTES:
            super().on_headers_complete()
            self._hold_head()
            return
        raw_path, _, query = url.partition(b"#")[0].partition(b"?")
        if raw_path.startswith((b"http://", b"https://")):  # absolute form
            slash = raw_path.find(b"/", raw_path.index(b"//") + 2)
            raw_path = raw_path[slash:] if slash >= 0 else b"/"
        path = raw_path.decode("ascii")  # as uvicorn: anything else is refused (400)
        self.url = b"/"
        super().on_headers_complete()  # the request's task is made, and runs later
        self._hold_head()
        self.url = url
        self.scope["path"] = self.root_path + (urllib.parse.unquote(path) if "%" in path else path)
        self.scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        self.scope["query_string"] = query

    def _hold_head(self) -> None:
        """The new request's cycle writes through `HeadHeld` (none was made for an upgrade)."""
        cycle = self.cycle
        if cycle is not None and cycle.transport is self.transport:
            cycle.transport = HeadHeld(self.transport, self.loop)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        """uvicorn's; the request is read: no deadline while it is answered. The moment is
        noted in the request's state (`received`): the gateway's overhead counts from it."""
        self.scope.setdefault("state", {})["received"] = time.perf_counter()
        super().on_message_complete()
        self.framing.request_ended()
        self._disarm()

    def on_response_complete(self) -> None:
        """uvicorn's (keep-alive timer, pipelined requests), then follow the next request."""
        super().on_response_complete()
        self._follow()

    def shutdown(self) -> None:
        """At server shutdown: close a connection that is already being let go; else
        uvicorn's."""
        if self._lingering or self.transport.is_closing():
            self.transport.close()
            return
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        """Refuse a request the parser could not take: 400, in JSON."""
        if len(msg) > REASON_CHARS:
            msg = msg[:REASON_CHARS] + "…"
        self._answer_and_close(
            error_response(
                400,
                "INVALID_ARGUMENT",
                f"invalid HTTP request: {msg}",
                field="request",
                rule="HTTP/1.1 (RFC 9112)",
            )
        )

    def _refuse_head(self) -> None:
        limit = self.limits.head_bytes
        self._answer_and_close(
            error_response(
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                f"the request head (request line and headers) exceeds {limit} bytes "
                "(MODELPLANE_MAX_REQUEST_HEAD_BYTES)",
                field="head",
                rule=f"at most {limit} bytes",
            )
        )

    def _parse(self, piece: bytes | memoryview) -> bool:
        """Feed the parser as uvicorn does; False when the rest must not be parsed (a
        refusal, or an upgrade)."""
        try:
            self.parser.feed_data(piece)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        except httptools.HttpParserError as exc:
            self.logger.warning(BAD_REQUEST)
            self.send_400_response(str(exc) or BAD_REQUEST)
            return False
        return True

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _follow(self) -> None:
        """The body's deadline while it is awaited; the head's once part of one came and
        the last request is answered."""
        if self._lingering:
            return
        if self.framing.in_body:
            if self._phase is not _Phase.BODY:
                self._arm(_Phase.BODY, heard=True)
        elif self.framing.in_head and self._phase is None and not self._answering():
            self._arm(_Phase.HEAD, heard=True)

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


def protocol_class(limits: ConnectionLimits) -> type[GuardedProtocol]:
    """The protocol class for uvicorn's `http=` (it makes one protocol per connection)."""

    class Guarded(GuardedProtocol):
        pass

    Guarded.limits = limits
    return Guarded
