"""`POST /`: the Alibaba RPC endpoint (appstream-center 2021-09-01), as plain ASGI.

Per request: read the body within the app's size limit, decode query and form, check
the access-key signature, the version and the action, run the operation, and answer
`{"RequestId": …, …}`. Every failure is an Alibaba error body (see errors.py). Errors of
the envelope (size, content type, a malformed query or form, a parameter given twice
with different values) come before the signature check, since the older signature
covers the form's parameters. The action and the version come from signed input only:
the `Action`/`Version` parameters, or the `x-acs-action`/`x-acs-version` headers where the
signature covers them (ACS3 when listed in `SignedHeaders`, ROA HMAC-SHA1), and a header
that disagrees with the parameter is refused.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from modelplane.faces.aliyun.rpc import (
    llm_templates,
    model_templates,
    provider_endpoints,
    provider_templates,
    runtimes,
)
from modelplane.faces.aliyun.rpc.call import Call, Operation
from modelplane.faces.aliyun.rpc.errors import RpcError, missing, render
from modelplane.faces.aliyun.rpc.wire import merged
from modelplane.faces.aliyun.transport import (
    authenticate,
    first,
    parse_pairs,
    query_pairs,
    received_headers,
    signed_request,
    signed_setting,
)
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.middleware import read_body
from modelplane.faces.public_url import gateway_public_url
from modelplane.services import request_context

VERSION = "2021-09-01"
FORM = "application/x-www-form-urlencoded"
OPERATIONS: dict[str, Operation] = {
    **llm_templates.OPERATIONS,
    **provider_templates.OPERATIONS,
    **model_templates.OPERATIONS,
    **runtimes.OPERATIONS,
    **provider_endpoints.OPERATIONS,
}


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
        request_context.set_face("rpc")
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
        query = query_pairs(scope)
        form = form_of(body, first(headers, "content-type"))
        params = merged(query, form)
        signed = signed_request(scope, headers, query, body, form)
        actor = await authenticate(scope, signed)
        version = signed_setting(signed, "x-acs-version", "Version", params.text("Version"))
        if not version:
            raise missing("Version")
        if version != VERSION:
            raise RpcError(
                400, "InvalidVersion", f"version {version[:64]!r} is not served; use {VERSION}"
            )
        action = signed_setting(signed, "x-acs-action", "Action", params.text("Action"))
        if not action:
            raise missing("Action")
        operation = OPERATIONS.get(action)
        if operation is None:
            raise RpcError(
                404, "InvalidAction.NotFound", f"the action {action[:64]!r} is not served"
            )
        app_state = scope["app"].state
        call = Call(
            params=params,
            actor=actor,
            store=app_state.store,
            secrets=app_state.secrets,
            public_url=gateway_public_url(scope),
        )
        return await operation(call)


route = Route("/", endpoint=RpcEndpoint(), methods=["POST"], include_in_schema=False)
