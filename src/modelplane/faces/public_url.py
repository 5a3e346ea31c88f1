"""Where this service is reached from outside, as a runtime is told to call its gateway."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope


def gateway_public_url(scope: Scope) -> str | None:
    """`MODELPLANE_PUBLIC_URL`, else the request's own base URL when this replica serves
    the gateway; None when it knows no address of the gateway."""
    settings = scope["app"].state.settings
    if settings.public_url:
        return str(settings.public_url)
    if not settings.serves_gateway:
        return None
    return str(Request(scope).base_url).rstrip("/")
