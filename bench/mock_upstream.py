"""A mock OpenAI-compatible upstream for the gateway benchmarks: fixed answers, fast.

    python bench/mock_upstream.py --port 9000 [--framework asyncio|fastapi]

`POST …/chat/completions` answers a fixed chat completion with `usage`; with
`"stream": true` in the body, the same answer as server-sent events (a role chunk, a
content chunk, the finish chunk, a usage chunk, `data: [DONE]`), sent chunked in one
write. Anything else: 404. HTTP/1.1 with keep-alive, request bodies by Content-Length.
One asyncio process and no framework, so that what it costs stays small next to what is
measured through it. With `--framework fastapi`, the same answers from a FastAPI app on
uvicorn (httptools, uvloop): the kind of mock most Python projects write, thousands of
requests a second rather than tens of thousands. Not part of the product.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

MODEL = "mock-1"
ANSWER = "Hello from the mock."
USAGE = {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}


def _completion() -> bytes:
    return orjson.dumps(
        {
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": 1_764_806_400,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    )


def _events() -> list[bytes]:
    def chunk(choices: list[object], **extra: object) -> bytes:
        body = {
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": 1_764_806_400,
            "model": MODEL,
            "choices": choices,
            **extra,
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    return [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        chunk([{"index": 0, "delta": {"content": ANSWER}}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        chunk([], usage=USAGE),
        b"data: [DONE]\n\n",
    ]


def _chunked(parts: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


_BODY = _completion()
COMPLETION = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\n\r\n%b" % (len(_BODY), _BODY)
)
STREAM = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n" + _chunked(_events())
)
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"


class MockProtocol(asyncio.Protocol):
    """One connection: parse each request's head and body, answer from the fixed bytes."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    self._refuse()
                    return
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(_answer(head, body))
            if b"\r\nconnection: close" in head:
                self.transport.close()
                self.transport = None

    def _refuse(self) -> None:
        assert self.transport is not None
        self.transport.write(BAD)
        self.transport.close()
        self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _answer(head: bytes, body: bytes) -> bytes:
    method, _, rest = head.partition(b" ")
    path = rest.partition(b" ")[0].partition(b"?")[0]
    if method != b"post" or not path.endswith(b"/chat/completions"):
        return NOT_FOUND
    if b'"stream"' in body:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return BAD
        if isinstance(parsed, dict) and parsed.get("stream") is True:
            return STREAM
    return COMPLETION


async def serve(host: str, port: int) -> None:
    """Serve until cancelled."""
    server = await asyncio.get_running_loop().create_server(MockProtocol, host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def fastapi_app() -> FastAPI:
    """The same answers from a FastAPI app: `POST /v1/chat/completions`."""
    app = FastAPI(openapi_url=None)
    stream = b"".join(_events())

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.body()
        if b'"stream"' in body:
            parsed = orjson.loads(body)
            if isinstance(parsed, dict) and parsed.get("stream") is True:
                headers = {"cache-control": "no-cache"}
                return Response(stream, media_type="text/event-stream", headers=headers)
        return Response(_BODY, media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--framework", choices=("asyncio", "fastapi"), default="asyncio")
    args = parser.parse_args()
    if args.framework == "fastapi":
        import uvicorn

        uvicorn.run(
            fastapi_app(),
            host=args.host,
            port=args.port,
            http="httptools",
            loop="uvloop",
            log_level="warning",
            access_log=False,
        )
        return
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
