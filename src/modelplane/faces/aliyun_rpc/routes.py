"""`POST /`: the Alibaba RPC endpoint (appstream-center 2021-09-01), as plain ASGI.

Per request: read the body within the app's size limit, decode query and form, check
the access-key signature, the version and the action, run the operation, and answer
`{"RequestId": …, …}`. Every failure is an Alibaba error body (see errors.py). Errors of
the envelope (size, content type, a malformed query or form) come before the signature
check, since the older signature covers the form's parameters.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from modelplane.faces.aliyun_rpc import (
    llm_templates,
    model_templates,
    provider_endpoints,
    provider_templates,
    runtimes,
)
from modelplane.faces.aliyun_rpc.call import Call, Operation
from modelplane.faces.aliyun_rpc.errors import RpcError, missing, render
from modelplane.faces.aliyun_rpc.wire import merged, parse_pairs
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.security.signatures import SignedRequest
from modelplane.services.signed_requests import authenticate_signed

VERSION = "2021-09-01"
FORM = "application/x-www-form-urlencoded"
OPERATIONS: dict[str, Operation] = {
    **llm_templates.OPERATIONS,
    **provider_templates.OPERATIONS,
    **model_templates.OPERATIONS,
    **runtimes.OPERATIONS,
    **provider_endpoints.OPERATIONS,
}


async def read_body(receive: Receive) -> bytes:
    """The whole request body (the app's middleware stops it at the size limit)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def received_headers(scope: Scope) -> dict[str, list[str]]:
    """Header values by lower-case name, in the order sent."""
    headers: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


def first(headers: dict[str, list[str]], name: str) -> str | None:
    """The first value of a header, if sent."""
    values = headers.get(name)
    return values[0] if values else None


def form_of(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """The form parameters of a body; an empty body has none."""
    if not body:
        return []
    media = (content_type or "").partition(";")[0].strip().lower()
    if media != FORM:
        raise RpcError(
            415, "UnsupportedMediaType", f"the body must be {FORM}, not {media or 'untyped'}"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RpcError(400, "InvalidParameter", "Body: malformed: not UTF-8") from None
    return parse_pairs(text, "Body")


class RpcEndpoint:
    """The ASGI app behind `POST /`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state["face"] = "aliyun_rpc"
        request_id = state.get("request_id") or os.urandom(16).hex()
        headers = received_headers(scope)
        try:
            body = await self.handle(scope, receive, headers)
            response = JsonResponse({"RequestId": request_id, **body})
        except Exception as exc:
            host = (first(headers, "host") or "modelplane")[:255]
            response = render(exc, request_id=request_id, host=host)
        await response(scope, receive, send)

    async def handle(
        self, scope: Scope, receive: Receive, headers: dict[str, list[str]]
    ) -> dict[str, Any]:
        """Authenticate, dispatch and run one call; its body without `RequestId`."""
        body = await read_body(receive)
        query = parse_pairs(scope.get("query_string", b"").decode("latin-1"), "Query")
        form = form_of(body, first(headers, "content-type"))
        raw_path = scope.get("raw_path") or scope["path"].encode()
        signed = SignedRequest(
            method=scope["method"],
            raw_path=raw_path.partition(b"?")[0].decode("latin-1"),
            query=query,
            headers=headers,
            body=body,
            form=form,
        )
        app_state = scope["app"].state
        actor = await authenticate_signed(
            store=app_state.store, secrets=app_state.secrets, request=signed
        )
        scope["state"]["principal_id"] = actor.principal_id
        params = merged(query, form)
        version = first(headers, "x-acs-version") or params.text("Version")
        if not version:
            raise missing("Version")
        if version != VERSION:
            raise RpcError(
                400, "InvalidVersion", f"version {version[:64]!r} is not served; use {VERSION}"
            )
        action = first(headers, "x-acs-action") or params.text("Action")
        if not action:
            raise missing("Action")
        operation = OPERATIONS.get(action)
        if operation is None:
            raise RpcError(
                404, "InvalidAction.NotFound", f"the action {action[:64]!r} is not served"
            )
        call = Call(params=params, actor=actor, store=app_state.store, secrets=app_state.secrets)
        return await operation(call)


route = Route("/", endpoint=RpcEndpoint(), methods=["POST"], include_in_schema=False)
