"""Sending a call to a pool and relaying the answer: attempts, rests, honest streams.

A call tries the pool's members in the order `attempt_order` gives (healthy ones first,
by weight; resting ones and those whose Retry-After runs last), at most `max_attempts`
times, all within the call's deadline. A connect error, a timeout, a 429 or a 5xx moves
on to the next member; a Retry-After is honoured before the same member is asked again
(a member that asks for longer than the call has left is skipped). Each failure counts
towards the member's rest for this operation (`health.py`).

Streams: an answer is held back only until its first whole event has arrived and read
well; until then a failure (no events, a malformed one, a stall, a dropped connection)
moves on to the next member like any other. From the first byte sent to the client on,
events are passed on as each completes; a stream that then ends without its end event,
sends a malformed event or stalls past the idle timeout is ended with an explicit error
event and no `[DONE]`: never a made-up `finish_reason`. A client that leaves cancels the
upstream request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from modelplane.domain.gateway import (
    ANTHROPIC_VERSION,
    ApiFamily,
    Operation,
    Route,
    Target,
    attempt_order,
    with_defaults,
)
from modelplane.faces.gateway.errors import UpstreamError, error_body
from modelplane.faces.gateway.health import Health
from modelplane.faces.gateway.metrics import GatewayMetrics
from modelplane.faces.gateway.sse import EventScanner, Usage

if TYPE_CHECKING:
    import aiohttp

    from modelplane.faces.gateway.upstream_clock import SentBody, heard_connector

RawHeaders = tuple[tuple[bytes, bytes], ...]  # as they came, names in their own case
RETRY_AFTER_MAX = 60.0  # a longer Retry-After is not waited out within a call
# What is read of a stream after its end event (the chunked encoding's last chunk), so that
# its connection goes back to the pool; an upstream that sends more or waits is closed.
DRAIN_BYTES = 65_536
DRAIN_SECONDS = 1.0
# Upstream headers passed on to the client; the rest (cookies, server, …) stay behind.
RELAYED = (
    "content-type",
    "retry-after",
    "retry-after-ms",
    "request-id",
    "openai-processing-ms",
)
RELAYED_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
# Client headers passed on to an upstream of each family.
FORWARDED = {ApiFamily.OPENAI: ("openai-beta",), ApiFamily.ANTHROPIC: ("anthropic-beta",)}


@dataclass(frozen=True)
class Limits:
    """How long a call may take and how often it is tried."""

    deadline_seconds: float
    connect_seconds: float
    idle_seconds: float
    max_attempts: int


@dataclass
class Call:
    """One call through the gateway, as it goes: for headers, metrics and the log."""

    operation: Operation
    route: Route
    body: dict[str, Any]
    client_headers: dict[str, str]
    started: float
    upstream_seconds: float = 0.0
    sent: SentBody | None = None  # the body of the attempt under way, once made
    attempts: int = 0
    member: str | None = None
    usage: Usage = field(default_factory=Usage)
    broken: str | None = None  # why a stream ended with an error event, if it did
    status: int = 0  # the status answered (0 until an answer began)
    received: float = 0.0  # when the request's last byte came in (0: not known, `started`)
    prompt: str | None = None  # `TEMPLATE_ID@VERSION` of the prompt template served, if any

    def overhead_ms(self) -> float:
        """The time spent in modelplane so far, from the request's last byte: all of it but
        waiting for upstreams (from a request's last byte written to its answer read)."""
        since = self.received or self.started
        return max(0.0, (time.perf_counter() - since - self.upstream_seconds) * 1000)

    def waited(self, since: float) -> float:
        """The upstream's part of the time from `since` to now (`upstream_clock.py`)."""
        if self.sent is None:
            return time.perf_counter() - since
        return self.sent.waited(since)

    def error_headers(self) -> dict[str, str]:
        """The gateway's own headers, for an error answer made by the gateway."""
        return {name.decode(): value.decode() for name, value in self.answer_headers()}

    def answer_headers(self) -> list[tuple[bytes, bytes]]:
        """The gateway's own response headers."""
        found = [
            (b"x-modelplane-target", (self.member or "").encode()),
            (b"x-modelplane-attempts", str(self.attempts).encode()),
            (b"x-modelplane-overhead-ms", f"{self.overhead_ms():.3f}".encode()),
        ]
        if self.prompt is not None:
            found.append((b"x-modelplane-prompt", self.prompt.encode()))
        return found


@dataclass(frozen=True)
class _Answer:
    """An upstream's complete answer, passed on as it came."""

    status: int
    headers: RawHeaders
    retry_after: float | None
    body: bytes

    async def send(self, call: Call, send: Send) -> None:
        """Send it, with the gateway's headers."""
        headers = [
            *_relayed(self.headers),
            (b"content-length", str(len(self.body)).encode()),
            *call.answer_headers(),
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class _Retry(Exception):
    """This attempt failed in a way the next member may not share; `answer` is what the
    upstream said, if it said anything (relayed when no attempt succeeds)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        answer: _Answer | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.answer = answer


def _import_aiohttp() -> None:
    """Import aiohttp as this module's `aiohttp` (and what uses it). It costs a tenth of the
    process's start, so `Relay.warm_up` imports it beside the serving loop once the server
    is ready, and `Relay._client` at the latest; every use of the names follows
    `Relay._client`."""
    global aiohttp, SentBody, heard_connector
    import aiohttp

    from modelplane.faces.gateway.upstream_clock import SentBody, heard_connector


class Relay:
    """The upstream connections, the members' health and the gateway's metrics.

    Upstreams are called with aiohttp (measured against httpx and httpx2 in
    BENCHMARKS.md: a third of httpx's latency, eight times its throughput). Its session is
    made on first use, on the loop that serves; it keeps no cookies (callers share it).
    """

    def __init__(self, limits: Limits, health: Health, metrics: GatewayMetrics) -> None:
        self.limits = limits
        self.health = health
        self.metrics = metrics
        self._session: aiohttp.ClientSession | None = None

    @staticmethod
    def warm_up() -> None:
        """Import the HTTP client in a thread of its own, while the loop serves."""
        threading.Thread(target=_import_aiohttp, name="import-aiohttp", daemon=True).start()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            _import_aiohttp()
            self._session = aiohttp.ClientSession(
                connector=heard_connector(limit=1000, limit_per_host=0),
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
                # No HTTP(S)_PROXY nor .netrc: reading them costs a tenth of a call's CPU.
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close every upstream connection."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def serve(self, call: Call, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer `call`; cancelled (and its upstream request with it) if the client leaves.

        The answer runs in the request's own task (no task of its own to start: one turn of
        the loop fewer before the upstream is asked); a watcher cancels it when the client
        disconnects before the answer is whole."""

        answering = asyncio.current_task()
        assert answering is not None  # always called from a task
        call.received = scope.get("state", {}).get("received", 0.0)  # see connections.py
        watcher = asyncio.ensure_future(_cancel_on_disconnect(receive, answering))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                call.status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                watcher.cancel()  # answered whole: what follows (a drain) is not the client's

        try:
            await self.answer(call, sending)
        except asyncio.CancelledError:
            if not watcher.done() or watcher.cancelled() or not watcher.result():
                raise  # cancelled from outside, not because the client left
            answering.uncancel()
        finally:
            watcher.cancel()
            self.metrics.observe(call, scope)

    async def answer(self, call: Call, send: Send) -> None:
        """Try the pool until a member answers, and send that answer; `UpstreamError` when
        none could (nothing sent then)."""
        stream = call.body.get("stream") is True
        targets = call.route.targets
        members = [t.member for t in targets]
        resting = self.health.resting(members, call.operation) | {
            m for m in members if self.health.wait_for(m, call.operation) > 0
        }
        order = attempt_order(targets, resting)
        deadline = call.started + self.limits.deadline_seconds
        last: _Retry | None = None
        for n in range(self.limits.max_attempts):
            target = order[n % len(order)]
            wait = self.health.wait_for(target.member, call.operation)
            if wait >= deadline - time.perf_counter():
                continue  # it asked for longer than the call has left: try another
            if wait > 0:
                await asyncio.sleep(wait)
                call.upstream_seconds += wait  # not time spent in modelplane
            call.attempts += 1
            call.member = target.member
            try:
                if stream:
                    await self._stream(call, target, deadline, send)
                else:
                    await self._once(call, target, deadline, send)
            except _Retry as failure:
                self.health.failed(target.member, call.operation, retry_after=failure.retry_after)
                self.metrics.failed(call, target.member, failure.code)
                last = failure
                continue
            self.health.succeeded(target.member, call.operation)
            return
        if last is not None and last.answer is not None:
            await last.answer.send(call, send)
            return
        if last is None:
            raise UpstreamError(
                504, "upstream_timeout", "the call's deadline passed", call.error_headers()
            )
        raise UpstreamError(last.status, last.code, last.message, call.error_headers())

    def _headers(self, call: Call, target: Target) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        for name in FORWARDED[target.family]:
            if name in call.client_headers:
                headers[name] = call.client_headers[name]
        if target.family is ApiFamily.ANTHROPIC:
            headers["anthropic-version"] = call.client_headers.get(
                "anthropic-version", ANTHROPIC_VERSION
            )
        if target.auth is not None:
            headers[target.auth[0]] = target.auth[1]
        return headers

    async def _upstream(
        self, call: Call, target: Target, deadline: float
    ) -> aiohttp.ClientResponse:
        """Send the call to `target` and read the answer's head; a connect error or a
        timeout is `_Retry`."""
        client = self._client()  # first: it imports aiohttp
        content = SentBody(orjson.dumps(with_defaults(call.body, target, call.operation)))
        call.sent = None
        left = deadline - time.perf_counter()
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=min(self.limits.connect_seconds, max(0.001, left)),
            sock_read=min(self.limits.idle_seconds, max(0.001, left)),
        )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(left):
                return await client.post(
                    target.url(call.operation),
                    data=content,
                    headers=self._headers(call, target),
                    timeout=timeout,
                    allow_redirects=False,
                )
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            raise _Retry(504, "upstream_timeout", f"{call.member} did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise _Retry(
                502,
                "upstream_unreachable",
                f"{call.member} could not be reached: {type(exc).__name__}",
            ) from exc
        finally:  # the upstream's from the body's write on
            if content.sent_at is None:  # not written: all of it was the upstream's
                call.upstream_seconds += time.perf_counter() - started
            else:
                call.sent = content
                call.upstream_seconds += content.waited(content.sent_at)

    async def _once(self, call: Call, target: Target, deadline: float, send: Send) -> None:
        response = await self._upstream(call, target, deadline)
        answer = await self._whole(call, target, response, deadline)
        if answer.status == 200 and b'"usage"' in answer.body:
            with contextlib.suppress(orjson.JSONDecodeError):
                parsed = orjson.loads(answer.body)
                call.usage.take(parsed.get("usage") if isinstance(parsed, dict) else None)
        await answer.send(call, send)

    async def _whole(
        self, call: Call, target: Target, response: aiohttp.ClientResponse, deadline: float
    ) -> _Answer:
        """The rest of `response`, read within the deadline; `_Retry` for a 429 or a 5xx."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(max(0.001, deadline - started)):
                body = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Retry(504, "upstream_timeout", f"{target.member} stopped answering") from exc
        finally:
            call.upstream_seconds += call.waited(started)
            response.release()
        status = response.status
        answer = _Answer(status, response.raw_headers, _retry_after(response.headers), body)
        if _retryable(status):
            raise _Retry(
                status,
                f"upstream_{status}",
                f"{target.member} answered {status}",
                retry_after=answer.retry_after,
                answer=answer,
            )
        return answer

    async def _stream(self, call: Call, target: Target, deadline: float, send: Send) -> None:
        response = await self._upstream(call, target, deadline)
        try:
            if response.status != 200:  # an error answers whole, not as a stream
                answer = await self._whole(call, target, response, deadline)
                await answer.send(call, send)
                return
            scanner = EventScanner(call.operation)
            call.usage = scanner.usage
            chunks = response.content.iter_any()
            first = await self._first_events(call, target, scanner, chunks)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        *_relayed(response.raw_headers),
                        (b"cache-control", b"no-cache"),
                        *call.answer_headers(),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": first, "more_body": True})
            ending = await self._rest(call, scanner, chunks, send)
            await send({"type": "http.response.body", "body": ending, "more_body": False})
            if scanner.ended:
                await self._drain(call, chunks)
        finally:
            response.release()  # an answer not read to its end closes its connection

    async def _first_events(
        self, call: Call, target: Target, scanner: EventScanner, chunks: AsyncIterator[bytes]
    ) -> bytes:
        """The stream's first whole events; any failure before them is `_Retry`."""
        while True:
            try:
                chunk = await self._next(call, chunks)
            except StopAsyncIteration:
                raise _Retry(
                    502, "upstream_stream_empty", f"{target.member} ended its stream at once"
                ) from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise _Retry(
                    504, "upstream_stream_failed", f"{target.member} failed before its first event"
                ) from exc
            events = scanner.feed(chunk)
            if scanner.malformed is not None:
                raise _Retry(502, "upstream_stream_malformed", scanner.malformed)
            if events:
                return events

    async def _rest(
        self, call: Call, scanner: EventScanner, chunks: AsyncIterator[bytes], send: Send
    ) -> bytes:
        """Pass the stream's events on as each completes, until its end event; the bytes
        that end the answer: nothing, or an error event when the stream broke."""
        while not scanner.ended:
            try:
                chunk = await self._next(call, chunks)
            except StopAsyncIteration:
                return _broken(call, "the upstream ended its stream without its end event")
            except TimeoutError:
                idle = self.limits.idle_seconds
                return _broken(call, f"the upstream sent nothing for {idle:g} s")
            except aiohttp.ClientError as exc:
                return _broken(call, f"the upstream stream broke: {type(exc).__name__}")
            events = scanner.feed(chunk)
            if events:
                await send({"type": "http.response.body", "body": events, "more_body": True})
            if scanner.malformed is not None:
                return _broken(call, scanner.malformed)
        return b""

    async def _drain(self, call: Call, chunks: AsyncIterator[bytes]) -> None:
        """Read what follows a stream's end event, usually just the end of the chunked
        encoding, already received: closing the response unread would close its upstream
        connection too, and the next call would open a new one."""
        started = time.perf_counter()
        read = 0
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                async for chunk in chunks:
                    read += len(chunk)
                    if read > DRAIN_BYTES:
                        return
        except (TimeoutError, aiohttp.ClientError):
            return
        finally:
            call.upstream_seconds += call.waited(started)

    async def _next(self, call: Call, chunks: AsyncIterator[bytes]) -> bytes:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.limits.idle_seconds):
                return await anext(chunks)
        finally:
            call.upstream_seconds += call.waited(started)


def _broken(call: Call, why: str) -> bytes:
    """The error event that ends a stream broken after its first byte (no `[DONE]`)."""
    call.broken = why
    message = f"the stream from {call.member} broke: {why}"
    if call.operation is Operation.MESSAGES:
        data = error_body(ApiFamily.ANTHROPIC, "api_error", message)
        return b"event: error\ndata: " + orjson.dumps(data) + b"\n\n"
    data = error_body(ApiFamily.OPENAI, "api_error", message, code="upstream_stream_broken")
    if call.operation is Operation.RESPONSES:
        event = {"type": "error", "code": "upstream_stream_broken", "message": message, **data}
        return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"
    return b"data: " + orjson.dumps(data) + b"\n\n"


def _relayed(headers: RawHeaders) -> list[tuple[bytes, bytes]]:
    return [
        (name, value)
        for name, value in headers
        if (lower := name.lower().decode("latin-1")) in RELAYED
        or lower.startswith(RELAYED_PREFIXES)
    ]


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """An upstream's Retry-After, in seconds (capped), if it sent a usable one (OpenAI's
    and Anthropic's `retry-after-ms` first, as their SDKs read it)."""
    with contextlib.suppress(KeyError, ValueError):
        return min(max(float(headers["retry-after-ms"]) / 1000, 0.0), RETRY_AFTER_MAX)
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


async def _cancel_on_disconnect(receive: Receive, answering: asyncio.Task[Any]) -> bool:
    """Cancel `answering` when the client disconnects; True once it did."""
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            answering.cancel()
            return True
