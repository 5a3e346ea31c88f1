"""`Annotated` dependencies of the native face: the store, the secret box, the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from modelplane.domain.errors import Unauthenticated
from modelplane.domain.principals import Principal
from modelplane.security.secretbox import SecretBox
from modelplane.services import principals as principal_service
from modelplane.store.uow import Store

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer mp_…`")
_api_key = APIKeyHeader(name="x-api-key", auto_error=False, description="`x-api-key: mp_…`")


def get_store(request: Request) -> Store:
    """The store of this app."""
    store: Store = request.app.state.store
    return store


def get_secrets(request: Request) -> SecretBox:
    """The secret box of this app."""
    box: SecretBox = request.app.state.secrets
    return box


StoreDep = Annotated[Store, Depends(get_store)]
SecretsDep = Annotated[SecretBox, Depends(get_secrets)]


async def authenticate(
    request: Request,
    store: StoreDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The principal behind `Authorization: Bearer …` or `x-api-key: …`."""
    token = bearer.credentials if bearer is not None else api_key
    if bearer is not None and api_key and api_key != bearer.credentials:
        raise Unauthenticated("two different API keys were sent; send exactly one")
    if not token:
        raise Unauthenticated(
            "an API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`"
        )
    principal = await principal_service.authenticate_token(store=store, token=token)
    request.state.principal_id = principal.principal_id
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
