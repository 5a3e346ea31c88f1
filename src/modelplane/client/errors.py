"""The SDK's errors: one class per native error code, mapped in one table.

Every error the SDK raises is a `ModelplaneError`:

    ModelplaneError
    ├── InvalidArgument        400 INVALID_ARGUMENT
    ├── Unauthenticated        401 UNAUTHENTICATED
    ├── PermissionDenied       403 PERMISSION_DENIED
    ├── NotFound               404 NOT_FOUND
    ├── AlreadyExists          409 ALREADY_EXISTS
    ├── FailedPrecondition     412 FAILED_PRECONDITION
    ├── ResourceExhausted      429 RESOURCE_EXHAUSTED
    ├── Unavailable            503 UNAVAILABLE
    └── TransportError         no answer: connection refused or reset, timeout

Any other error answer (e.g. 413 `PAYLOAD_TOO_LARGE`, 500 `INTERNAL`) is raised as a plain
`ModelplaneError` carrying the server's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class FieldViolation:
    """One broken rule on one field, from the error body's `details`."""

    field: str
    rule: str


class ModelplaneError(Exception):
    """Base of every SDK error.

    `code` is the server's error code (`"TRANSPORT"` when no answer came), `status_code`
    the HTTP status (None without an answer), `request_id` the `x-request-id` header,
    `retry_after` the seconds its `Retry-After` header asked to wait (None without one;
    set on `ResourceExhausted` when a rate limit was hit).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int | None = None,
        details: tuple[FieldViolation, ...] = (),
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.details = details
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        head = f"{self.code}: {self.message}" if self.message else self.code
        return f"{head} (request {self.request_id})" if self.request_id else head


class InvalidArgument(ModelplaneError):
    """400: the input broke a rule; `details` names each field and rule."""


class Unauthenticated(ModelplaneError):
    """401: the API key is missing, unknown or revoked."""


class PermissionDenied(ModelplaneError):
    """403: the caller lacks the permission."""


class NotFound(ModelplaneError):
    """404: it does not exist, or the caller may not see it."""


class AlreadyExists(ModelplaneError):
    """409: it exists already (a duplicate LLM, a reused id, an existing key)."""


class FailedPrecondition(ModelplaneError):
    """412: the resource is not in a state that allows the operation."""


class ResourceExhausted(ModelplaneError):
    """429: a limit was reached; retry after `retry_after` seconds."""


class Unavailable(ModelplaneError):
    """503: the server or its store is unavailable; retry later."""


class TransportError(ModelplaneError):
    """No answer: the connection failed or timed out (wraps the httpx exception)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="TRANSPORT")


# The one table: error class, native code, HTTP status.
ERROR_TABLE: tuple[tuple[type[ModelplaneError], str, int], ...] = (
    (InvalidArgument, "INVALID_ARGUMENT", 400),
    (Unauthenticated, "UNAUTHENTICATED", 401),
    (PermissionDenied, "PERMISSION_DENIED", 403),
    (NotFound, "NOT_FOUND", 404),
    (AlreadyExists, "ALREADY_EXISTS", 409),
    (FailedPrecondition, "FAILED_PRECONDITION", 412),
    (ResourceExhausted, "RESOURCE_EXHAUSTED", 429),
    (Unavailable, "UNAVAILABLE", 503),
)
_BY_CODE = {code: cls for cls, code, _ in ERROR_TABLE}
_BY_STATUS = {status: cls for cls, _, status in ERROR_TABLE}


def _details(raw: Any) -> tuple[FieldViolation, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        FieldViolation(field=str(d.get("field", "")), rule=str(d.get("rule", "")))
        for d in raw
        if isinstance(d, dict)
    )


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds; None when absent or not a number (an HTTP date)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def error_from_response(response: httpx.Response) -> ModelplaneError:
    """The error for an error answer: by its body's `code`, else by its HTTP status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        code: str = body["code"]
        message = str(body.get("message", ""))
        details = _details(body.get("details"))
        cls = _BY_CODE.get(code, ModelplaneError)
    else:  # not a native error body, e.g. from a proxy in front
        cls = _BY_STATUS.get(response.status_code, ModelplaneError)
        code = next((c for k, c, _ in ERROR_TABLE if k is cls), f"HTTP_{response.status_code}")
        message = response.text[:500] or response.reason_phrase
        details = ()
    return cls(
        message,
        code=code,
        status_code=response.status_code,
        details=details,
        request_id=response.headers.get("x-request-id"),
        retry_after=_retry_after(response.headers.get("retry-after")),
    )
