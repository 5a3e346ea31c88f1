"""The native face's one error table: domain error -> HTTP status and code."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from modelplane.domain import errors as domain
from modelplane.faces.jsonresponse import JsonResponse

log = logging.getLogger("modelplane.native")

ERROR_TABLE: dict[type[domain.DomainError], tuple[int, str]] = {
    domain.InvalidArgument: (400, "INVALID_ARGUMENT"),
    domain.Unauthenticated: (401, "UNAUTHENTICATED"),
    domain.PermissionDenied: (403, "PERMISSION_DENIED"),
    domain.NotFound: (404, "NOT_FOUND"),
    domain.AlreadyExists: (409, "ALREADY_EXISTS"),
    domain.FailedPrecondition: (412, "FAILED_PRECONDITION"),
    domain.ResourceExhausted: (429, "RESOURCE_EXHAUSTED"),
    domain.Unavailable: (503, "UNAVAILABLE"),
}
HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def retry_after_header(seconds: float) -> str:
    """`Retry-After` in whole seconds, rounded up (at least 1): waiting that long suffices."""
    return str(max(1, math.ceil(seconds)))


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The native error body `{code, message, details}`."""
    return {"code": code, "message": message, "details": details or []}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def _rule(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "malformed JSON"
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    return str(error.get("msg", "invalid"))


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """One `{field, rule}` per pydantic error."""
    return [{"field": _field_path(tuple(e.get("loc", ()))), "rule": _rule(e)} for e in exc.errors()]


def render(exc: domain.DomainError) -> JsonResponse:
    """The native response for a domain error, per the table above."""
    status, code = next(
        (v for k, v in ERROR_TABLE.items() if isinstance(exc, k)), (500, "INTERNAL")
    )
    details = [{"field": v.field, "rule": v.rule} for v in exc.violations]
    headers = None
    if isinstance(exc, domain.ResourceExhausted):
        headers = {"Retry-After": retry_after_header(exc.retry_after_seconds)}
    if isinstance(exc, domain.Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="modelplane"'}
    return JsonResponse(error_body(code, exc.message, details), status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that render every error in the native format."""

    async def on_domain(request: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, domain.DomainError)
        return render(exc)

    async def on_validation(request: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, RequestValidationError)
        details = validation_details(exc)
        message = "; ".join(f"{d['field']}: {d['rule']}" for d in details[:5])
        return JsonResponse(error_body("INVALID_ARGUMENT", message, details), 400)

    async def on_http(request: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, HTTPException)
        code = HTTP_CODES.get(exc.status_code, "INTERNAL" if exc.status_code >= 500 else "ERROR")
        return JsonResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> JsonResponse:
        log.error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__))
        return JsonResponse(error_body("INTERNAL", "internal error"), 500)

    app.add_exception_handler(domain.DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
