"""The published OpenAPI document: the native routes plus their security schemes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer mp_…`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
}
_PUBLIC = {"/healthz", "/readyz"}


def install(app: FastAPI) -> None:
    """Replace `app.openapi` with one that declares how every /v1 route authenticates."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = _SCHEMES
            for path, operations in schema.get("paths", {}).items():
                if path in _PUBLIC:
                    continue
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
