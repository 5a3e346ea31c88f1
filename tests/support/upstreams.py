"""LLM upstreams for the gateway's tests, on 127.0.0.1: our own scripted one, and llmock.

`FixtureUpstream` speaks OpenAI's API (chat completions, completions, embeddings,
responses) and Anthropic's Messages API. What it does is named by the first segment of
the path, so that an LLM connection's `endpointUrl` picks it and pool members of one
model behave differently: `{url}/{behaviour}/v1/chat/completions`. A behaviour is one or
more parts joined by `+`:

- `ok` (or `ok-WORD`, to keep its requests apart): a normal answer (streams: a few
  events with usage, then the end event);
- `status-N`: answers N with an error body; `retry-after-S` adds `Retry-After: S`;
- `once-…` (with any word after it to keep it apart): only its first request fails as the
  rest of the behaviour says, later ones are `ok`;
- `only-OP`: fails only for that operation (`chat`, `responses`, …); others are `ok`;
- streams: `cut-N` sends N events and ends without the end event; `malformed-N` sends N
  events and then one whose data is not JSON; `stall-N` sends N events and then nothing;
  `drop-N` sends N events and then drops the connection; `trickle` sends an event every
  50 ms for a minute and notes when the client leaves;
- `latency-MS`: waits that long before answering (and notes it if the client leaves).

Each request is noted in `seen` (path, headers, body) for the tests to check what the
gateway sent. `llmocks` starts `llmock serve` (PyPI) processes with their fault flags.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.types import Receive, Scope, Send

from tests.support.processes import terminate

START_SECONDS = 20.0
ANSWER = ["Hello", " from", " the", " fixture", " upstream", "."]
USAGE = {"prompt_tokens": 7, "completion_tokens": 6, "total_tokens": 13}


@dataclass(frozen=True)
class Seen:
    """One request as the upstream received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Behaviour:
    """What one request does, read from its path's first segment."""

    status: int = 200
    retry_after: str | None = None
    latency: float = 0.0
    cut: int | None = None
    malformed: int | None = None
    stall: int | None = None
    drop: int | None = None
    trickle: bool = False

    @classmethod
    def parse(cls, text: str) -> Behaviour:
        """The behaviour a path segment names (unknown parts are refused loudly)."""
        found = cls()
        for part in text.split("+"):
            word, _, value = part.partition("-")
            if word in ("ok", "once", "only"):
                continue
            if word == "status":
                found.status = int(value)
            elif word == "retry" and value.startswith("after-"):
                found.retry_after = value.removeprefix("after-")
            elif word == "latency":
                found.latency = int(value) / 1000
            elif word in ("cut", "malformed", "stall", "drop"):
                setattr(found, word, int(value))
            elif word == "trickle":
                found.trickle = True
            else:
                raise ValueError(f"unknown upstream behaviour {part!r}")
        return found


@dataclass
class FixtureUpstream:
    """Our own scripted upstream, served by uvicorn in a thread (see the module's doc)."""

    seen: list[Seen] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # behaviours whose client went away
    _once_done: set[str] = field(default_factory=set)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    url: str = ""

    def start(self) -> FixtureUpstream:
        """Listen on a free port of 127.0.0.1 and wait until it serves."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self, lifespan="off", log_config=None, http="h11", loop="asyncio"
        )  # log_config=None: the process's logging stays as the tests configure it
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "upstream failed"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def reset(self) -> None:
        """Forget every request seen (and which `once-` behaviours already failed)."""
        self.seen.clear()
        self.left.clear()
        self._once_done.clear()

    def base(self, behaviour: str = "ok") -> str:
        """The `endpointUrl` (OpenAI's `/v1`) of a behaviour."""
        return f"{self.url}/{behaviour}/v1"

    def requests_to(self, behaviour: str) -> list[Seen]:
        """The requests that came for a behaviour."""
        return [s for s in self.seen if s.path.startswith(f"/{behaviour}/")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        payload = orjson.loads(body) if body else {}
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.seen.append(Seen(path, headers, payload))
        segment, _, rest = path.lstrip("/").partition("/")
        operation = _operation(rest)
        behaviour = Behaviour.parse(segment)
        if segment.startswith("once-"):
            if segment in self._once_done:
                behaviour = Behaviour()
            self._once_done.add(segment)
        for part in segment.split("+"):
            if part.startswith("only-") and part.removeprefix("only-") != operation:
                behaviour = Behaviour()
        if behaviour.latency:
            left = asyncio.ensure_future(receive())  # http.disconnect if the client goes
            done, _ = await asyncio.wait({left}, timeout=behaviour.latency)
            if done:
                self.left.append(segment)
                return
            left.cancel()
        if behaviour.status != 200:
            await _error(send, behaviour, operation)
        elif payload.get("stream") is True:
            await self._stream(send, receive, behaviour, operation, segment, payload)
        else:
            await _json(send, 200, _whole(operation, payload))

    async def _stream(
        self,
        send: Send,
        receive: Receive,
        behaviour: Behaviour,
        operation: str,
        segment: str,
        payload: dict[str, Any],
    ) -> None:
        head = [(b"content-type", b"text/event-stream"), (b"x-request-id", b"req-fixture")]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        if behaviour.trickle:
            await self._trickle(send, receive, operation, segment)
            return
        events = _events(operation, payload)
        limit = next(
            (
                n
                for n in (behaviour.cut, behaviour.malformed, behaviour.stall, behaviour.drop)
                if n is not None
            ),
            None,
        )
        for event in events[:limit]:
            await send({"type": "http.response.body", "body": event, "more_body": True})
            await asyncio.sleep(0.005)
        if limit:  # the fault well after the events before it: the gateway has passed them on
            await asyncio.sleep(0.2)
        if behaviour.malformed is not None:
            bad = b'data: {"choices": [{"delta": \n\n'
            await send({"type": "http.response.body", "body": bad, "more_body": True})
            await asyncio.sleep(3600)
        if behaviour.stall is not None:
            await asyncio.sleep(3600)
        if behaviour.drop is not None:
            raise ConnectionAbortedError("the fixture upstream drops its connection")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _trickle(self, send: Send, receive: Receive, operation: str, segment: str) -> None:
        left = asyncio.ensure_future(receive())  # http.disconnect when the client goes
        event = _events(operation, {})[1]
        for _ in range(1200):
            if left.done():
                self.left.append(segment)
                return
            await send({"type": "http.response.body", "body": event, "more_body": True})
            await asyncio.sleep(0.05)
        left.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@contextmanager
def fixture_upstream() -> Iterator[FixtureUpstream]:
    """Our own upstream, served until the block ends."""
    upstream = FixtureUpstream().start()
    try:
        yield upstream
    finally:
        upstream.stop()


@contextmanager
def llmocks(flags: Mapping[str, Sequence[str]]) -> Iterator[dict[str, str]]:
    """A `llmock serve` process for each entry of `flags` (its command-line flags), on
    free ports of 127.0.0.1, started together; their root URLs by name (OpenAI's API is
    below `/v1`, Anthropic's below `/anthropic`)."""
    command = str(Path(sys.executable).with_name("llmock"))
    processes: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for name, extra in flags.items():
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = str(probe.getsockname()[1])
            process = subprocess.Popen(
                [command, "serve", "--host", "127.0.0.1", "--port", port, *extra],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes[name] = (process, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + START_SECONDS
        for name, (process, url) in processes.items():
            while not _serving(url):
                assert process.poll() is None, f"llmock {name} exited: {process.returncode}"
                assert time.monotonic() < deadline, f"llmock {name} did not start"
                time.sleep(0.05)
        yield {name: url for name, (_, url) in processes.items()}
    finally:
        for process, _ in processes.values():
            process.terminate()  # all at once, then each waited for
        for process, _ in processes.values():
            terminate(process, grace=10)


def _serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _operation(rest: str) -> str:
    """The operation a path below the behaviour names: chat, completions, …, messages."""
    for suffix, name in (
        ("chat/completions", "chat"),
        ("completions", "completions"),
        ("embeddings", "embeddings"),
        ("responses", "responses"),
        ("messages", "messages"),
    ):
        if rest.endswith(suffix):
            return name
    return "unknown"


async def _json(
    send: Send, status: int, body: Any, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    data = orjson.dumps(body)
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*head, *headers]})
    await send({"type": "http.response.body", "body": data})


async def _error(send: Send, behaviour: Behaviour, operation: str) -> None:
    message = f"the fixture upstream answers {behaviour.status}"
    if operation == "messages":
        body: dict[str, Any] = {"type": "error", "error": {"type": "api_error", "message": message}}
    else:
        body = {"error": {"message": message, "type": "server_error", "code": None}}
    after = behaviour.retry_after
    extra = () if after is None else ((b"retry-after", after.encode()),)
    await _json(send, behaviour.status, body, extra)


def _whole(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    model = payload.get("model", "")
    text = "".join(ANSWER)
    if operation == "chat":
        return {
            "id": "chatcmpl-fixture",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    if operation == "completions":
        return {
            "id": "cmpl-fixture",
            "object": "text_completion",
            "created": 1,
            "model": model,
            "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
            "usage": USAGE,
        }
    if operation == "embeddings":
        return {
            "object": "list",
            "model": model,
            "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 1.0]}],
            "usage": {"prompt_tokens": 4, "total_tokens": 4},
        }
    if operation == "responses":
        return _response(model, text, "completed")
    return {
        "id": "msg_fixture",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 7, "output_tokens": 6},
    }


def _response(model: str, text: str, status: str) -> dict[str, Any]:
    return {
        "id": "resp_fixture",
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": model,
        "output": [
            {
                "id": "msg_fixture",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 7,
            "output_tokens": 6,
            "total_tokens": 13,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def _sse(data: Any, event: str | None = None) -> bytes:
    named = b"" if event is None else b"event: " + event.encode() + b"\n"
    return named + b"data: " + orjson.dumps(data) + b"\n\n"


def _events(operation: str, payload: dict[str, Any]) -> list[bytes]:
    """A whole stream of `operation`'s family, its end event last."""
    model = payload.get("model", "")
    if operation in ("chat", "completions"):
        return _openai_events(operation, model, payload)
    if operation == "responses":
        created = _response(model, "", "in_progress") | {"output": [], "usage": None}
        events = [_sse({"type": "response.created", "response": created}, "response.created")]
        for n, piece in enumerate(ANSWER):
            delta = {
                "type": "response.output_text.delta",
                "item_id": "msg_fixture",
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
                "sequence_number": n + 1,
            }
            events.append(_sse(delta, "response.output_text.delta"))
        whole = _response(model, "".join(ANSWER), "completed")
        done = {"type": "response.completed", "response": whole}
        return [*events, _sse(done, "response.completed")]
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_fixture",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 7, "output_tokens": 1},
        },
    }
    empty = {"type": "text", "text": ""}
    block = {"type": "content_block_start", "index": 0, "content_block": empty}
    events = [_sse(start, "message_start"), _sse(block, "content_block_start")]
    for piece in ANSWER:
        text = {"type": "text_delta", "text": piece}
        delta = {"type": "content_block_delta", "index": 0, "delta": text}
        events.append(_sse(delta, "content_block_delta"))
    ending = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 6},
    }
    return [
        *events,
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse(ending, "message_delta"),
        _sse({"type": "message_stop"}, "message_stop"),
    ]


def _openai_events(operation: str, model: str, payload: dict[str, Any]) -> list[bytes]:
    kind = "chat.completion.chunk" if operation == "chat" else "text_completion"

    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> bytes:
        data = {"id": "fixture", "object": kind, "created": 1, "model": model, "choices": choices}
        return _sse(data | ({"usage": usage} if usage is not None else {}))

    def piece(text: str, finish: str | None = None) -> dict[str, Any]:
        if operation == "chat":
            return {"index": 0, "delta": {"content": text}, "finish_reason": finish}
        return {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}

    events = []
    if operation == "chat":
        role = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
        events.append(chunk([role]))
    events += [chunk([piece(text)]) for text in ANSWER]
    events.append(chunk([piece("", "stop")]))
    if (payload.get("stream_options") or {}).get("include_usage"):
        events.append(chunk([], USAGE))
    return [*events, b"data: [DONE]\n\n"]
