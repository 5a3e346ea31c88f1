"""ASGI middleware shared by every face: request ids, body limit, one JSON log line."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelplane.faces.metrics import HttpMetrics
from modelplane.logs import AccessLog
from modelplane.services import request_context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class BodyTooLarge(HTTPException):
    """Raised while reading a body that passes the limit; rendered as 413 by each face."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")


GATEWAY_PATHS = ("/openai/", "/anthropic/")


class RequestContext:
    """Assigns `x-request-id`, enforces the body limit, logs and counts each request once."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        access_log: AccessLog | None,
        metrics: HttpMetrics | None = None,
        gateway_max_body_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.gateway_max_body = gateway_max_body_bytes or max_body_bytes
        self.access_log = access_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given, declared = "", None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
        request_id = given if given and _REQUEST_ID.match(given) else os.urandom(16).hex()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["arrived"] = started  # for a face that reports its own time (the gateway)
        status = {"code": 500}
        if self.metrics is not None:
            self.metrics.in_flight += 1  # until _log
        gateway = scope["path"].startswith(GATEWAY_PATHS)  # LLM calls carry long contexts
        limit = self.gateway_max_body if gateway else self.max_body

        if declared is not None and declared.isdigit() and int(declared) > limit:
            if int(declared) <= 2 * limit:  # clients send a body before reading an answer
                await _drain(receive, 2 * limit)
            await _send_too_large(send, request_id, limit)
            self._log(scope, request_id, 413, started)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        origin = request_context.enter("native", request_id)  # the Alibaba faces rename it
        try:
            await self.app(scope, limited_receive, send_with_id)
        finally:
            request_context.leave(origin)
            self._log(scope, request_id, status["code"], started)

    def _log(self, scope: Scope, request_id: str, status: int, started: float) -> None:
        if self.metrics is not None:
            self.metrics.in_flight -= 1
            self.metrics.observe(scope, status, time.perf_counter() - started)
        if self.access_log is None:
            return
        state: dict[str, Any] = scope.get("state", {})
        self.access_log.log(
            {
                "requestId": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "durationMs": round((time.perf_counter() - started) * 1000, 2),
                "principalId": state.get("principal_id"),
                "face": state.get("face", "native"),
                **state.get("log_fields", {}),
            }
        )


async def read_body(receive: Receive) -> bytes:
    """The whole request body (`RequestContext` stops it at the size limit)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _drain(receive: Receive, most: int) -> None:
    """Read and drop a request body of at most `most` bytes, so that a client still
    sending it reads the refusal instead of a reset connection."""
    read = 0
    while read <= most:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        read += len(message.get("body", b""))


async def _send_too_large(send: Send, request_id: str, limit: int) -> None:
    body = orjson.dumps(
        {
            "code": "PAYLOAD_TOO_LARGE",
            "message": f"request body exceeds {limit} bytes",
            "details": [{"field": "body", "rule": f"at most {limit} bytes"}],
            "requestId": request_id,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
