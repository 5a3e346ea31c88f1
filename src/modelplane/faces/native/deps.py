"""Who is calling the native face: authenticated once per request, before routing.

`NativeAuth` is ASGI middleware for `/v1`: it resolves the API key to a principal before
FastAPI parses anything, so an unauthenticated request is 401 whatever its body, and it
costs one cached lookup. Handlers take the result with `context(request)`. (A FastAPI
dependency would do the same but costs about 90 µs per request in dependency solving,
a third of the whole read path.) The security schemes are declared in the OpenAPI
document by `openapi.py`.

A known principal over its rate limit (`app.state.rate_limits`) is answered 429
`RESOURCE_EXHAUSTED` with `Retry-After` here too, before any parsing; a key limited to
the gateway is 403 `PERMISSION_DENIED`, and an expired one 401.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from modelplane.domain.errors import DomainError, Unauthenticated
from modelplane.domain.key_scopes import UNSCOPED, KeyScope
from modelplane.domain.principals import Principal
from modelplane.faces.native.errors import render
from modelplane.security.secretbox import SecretBox
from modelplane.services import principals as principal_service
from modelplane.store.uow import Store

PREFIX = "/v1"
_CONTEXT_KEY = "native_context"

# Set in the context of a request that calls this app in-process on its caller's behalf
# (a stack apply's own calls): those are counted once, as the one request that made them.
IN_PROCESS: ContextVar[bool] = ContextVar("modelplane_native_in_process", default=False)


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler needs: the authenticated caller, the store, the secret box, and
    the scope of the key the caller presented."""

    principal: Principal
    store: Store
    secrets: SecretBox
    key_scope: KeyScope = UNSCOPED


def presented_token(authorization: str | None, api_key: str | None) -> str:
    """The one API key a request presents, from `Authorization: Bearer` or `x-api-key`."""
    bearer = None
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("the Authorization header must be `Bearer <key>`")
        bearer = value.strip()
    if bearer is not None and api_key and api_key != bearer:
        raise Unauthenticated("two different API keys were sent; send exactly one")
    token = bearer or api_key
    if not token:
        raise Unauthenticated(
            "an API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`"
        )
    return token


class NativeAuth:
    """Authenticates every request under /v1 before it reaches a route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        authorization = api_key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
        state = scope["app"].state
        request_state = scope.setdefault("state", {})
        try:
            token = presented_token(authorization, api_key)
            caller = await principal_service.authenticate_key(store=state.store, token=token)
            request_state["principal_id"] = caller.principal.principal_id
            caller.scope.require_management()  # 403 for a key limited to the gateway
            if not IN_PROCESS.get():
                state.rate_limits.check(caller.principal.principal_id)  # 429, Retry-After
        except DomainError as exc:
            await render(exc)(scope, receive, send)
            return
        request_state[_CONTEXT_KEY] = Context(
            principal=caller.principal,
            store=state.store,
            secrets=state.secrets,
            key_scope=caller.scope,
        )
        await self.app(scope, receive, send)


ME = "me"  # in the principal routes' paths: the caller itself


def whose(principal_id: str, ctx: Context) -> str:
    """The principal a route's path names: `me` is the caller."""
    return ctx.principal.principal_id if principal_id == ME else principal_id


def context(request: Request) -> Context:
    """The context `NativeAuth` established for this request."""
    found: Context = request.scope["state"][_CONTEXT_KEY]
    return found
