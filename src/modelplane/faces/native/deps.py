"""The native face's one dependency: who is calling, and the app's store and secret box.

One flat dependency on purpose: FastAPI resolves every nested dependency per request.
The security schemes are declared in the OpenAPI document by `openapi.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from modelplane.domain.errors import Unauthenticated
from modelplane.domain.principals import Principal
from modelplane.security.secretbox import SecretBox
from modelplane.services import principals as principal_service
from modelplane.store.uow import Store


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler needs: the authenticated caller, the store, the secret box."""

    principal: Principal
    store: Store
    secrets: SecretBox


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


async def authenticate(request: Request) -> Context:
    """Authenticate the request's API key and bundle the app's services."""
    headers = request.headers
    token = presented_token(headers.get("authorization"), headers.get("x-api-key"))
    state = request.app.state
    principal = await principal_service.authenticate_token(store=state.store, token=token)
    request.state.principal_id = principal.principal_id
    return Context(principal=principal, store=state.store, secrets=state.secrets)


Ctx = Annotated[Context, Depends(authenticate)]
