"""What every ROA face does with a request before and after its operation.

Find the operation from the method and the path shape (405 with `Allow` otherwise),
refuse a path parameter that is empty or not UTF-8 (400), read the body and the query,
check the access-key signature (ACS3-HMAC-SHA256 or ROA HMAC-SHA1; the RPC HMAC-SHA1
signature does not cover these paths) and the `x-acs-version` (which must be signed),
run the operation, and render its result or its error in the face's own format. A face
declares its version, its operations by `(method, shape)`, the type of the call its
operations take and its two renderers; the rules stay in the services.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from starlette.types import Receive, Scope, Send

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.principals import Principal
from modelplane.faces.aliyun.roa.routing import MALFORMED_KEY, SHAPE_KEY, RawPathRoute
from modelplane.faces.aliyun.transport import (
    authenticate,
    query_pairs,
    received_headers,
    signed_request,
    signed_setting,
    single_values,
)
from modelplane.faces.envelope import EnvelopeError
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.middleware import read_body
from modelplane.services import request_context
from modelplane.store.uow import Store

_INTEGER = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True, slots=True)
class RoaCall:
    """One authenticated request: its decoded path parameters, query and body, its sender."""

    path: dict[str, str]
    query: dict[str, str]
    body: bytes
    actor: Principal
    store: Store

    def required(self, name: str) -> str:
        """A query parameter that must be sent (its rules are the domain's)."""
        value = self.query.get(name)
        if value is None:
            raise InvalidArgument.of(name, "required")
        return value

    def integer(self, name: str) -> int | None:
        """A decimal integer query parameter; absent is None."""
        value = self.query.get(name)
        if value is None:
            return None
        if not _INTEGER.match(value):
            raise InvalidArgument.of(name, f"must be a decimal integer, not {value[:40]!r}")
        return int(value)


CallT = TypeVar("CallT", bound=RoaCall)
Answer = dict[str, Any]


@dataclass(frozen=True)
class RoaFace(Generic[CallT]):
    """One ROA face: what varies from face to face.

    `reads_body` says whether an operation takes parameters from the body; such a face
    refuses a signature that does not cover the body (ROA HMAC-SHA1 without
    `content-md5`). `answer` renders a result (with the request id where the face puts
    it), `fail` any error.
    """

    name: str
    version: str
    operations: Mapping[tuple[str, str], Callable[[CallT], Awaitable[Answer]]]
    call_type: type[CallT]
    reads_body: bool
    answer: Callable[[Answer, str], JsonResponse]
    fail: Callable[[Exception, str], JsonResponse]

    def allowed(self, shape: str) -> str:
        """The methods served on `shape`, for `Allow`."""
        return ", ".join(method for method, served in self.operations if served == shape)

    def route(self) -> RawPathRoute:
        """The route sending every request whose raw path fits one of its shapes here."""
        shapes = list(dict.fromkeys(shape for _, shape in self.operations))
        return RawPathRoute(shapes, RoaEndpoint(self))


class RoaEndpoint(Generic[CallT]):
    """The ASGI app behind a ROA face's paths."""

    def __init__(self, face: RoaFace[CallT]) -> None:
        self.face = face

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state["face"] = self.face.name
        request_context.set_face(self.face.name)
        request_id = state.get("request_id") or os.urandom(16).hex()
        try:
            response = self.face.answer(await self.handle(scope, receive), request_id)
        except Exception as exc:
            response = self.face.fail(exc, request_id)
        await response(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        """Authenticate and run one request; the operation's result."""
        face = self.face
        shape = scope[SHAPE_KEY]
        operation = face.operations.get((scope["method"], shape))
        if operation is None:
            allowed = face.allowed(shape)
            raise EnvelopeError(
                405,
                "MethodNotAllowed",
                f"{scope['method'][:16]} is not served on {shape}; use {allowed}",
                headers={"Allow": allowed},
            )
        malformed = scope.get(MALFORMED_KEY)
        if malformed:
            raise InvalidArgument.of(
                malformed[0], "must be a non-empty path segment of UTF-8 text without NUL"
            )
        headers = received_headers(scope)
        body = await read_body(receive)
        pairs = query_pairs(scope)
        query = single_values(pairs)
        signed = signed_request(scope, headers, pairs, body)
        actor = await authenticate(scope, signed, reads_body=face.reads_body)
        version = signed_setting(signed, "x-acs-version")
        if version is not None and version != face.version:
            raise EnvelopeError(
                400, "InvalidVersion", f"version {version[:64]!r} is not served; use {face.version}"
            )
        call = face.call_type(
            path=scope["path_params"],
            query=query,
            body=body,
            actor=actor,
            store=scope["app"].state.store,
        )
        return await operation(call)
