"""The gateway's one error table, in each API family's own error shape.

OpenAI: `{"error": {"message", "type", "param", "code"}}`; Anthropic:
`{"type": "error", "error": {"type", "message"}}`. The official SDKs raise their own
exception class for each status (`openai.NotFoundError`, `anthropic.RateLimitError`, …).

| cause                                  | status | OpenAI type (code)    | Anthropic type        |
|----------------------------------------|--------|-----------------------|-----------------------|
| InvalidArgument: a bad body, a name of | 400    | invalid_request_error | invalid_request_error |
| another family                         |        |                       |                       |
| Unauthenticated                        | 401    | authentication_error  | authentication_error  |
|                                        |        | (invalid_api_key)     |                       |
| PermissionDenied                       | 403    | permission_error      | permission_error      |
| NotFound: no such model for the caller | 404    | invalid_request_error | not_found_error       |
|                                        |        | (model_not_found)     |                       |
| BudgetSpent: a budget cannot take the  | 429    | insufficient_quota    | billing_error         |
| call (`x-should-retry: false`)         |        | (insufficient_quota)  |                       |
| ResourceExhausted: the caller's limit  | 429    | rate_limit_error      | rate_limit_error      |
| Unavailable: the store                 | 503    | api_error             | api_error             |
| no upstream could be reached           | 502    | api_error (upstream_  | api_error             |
|                                        |        | unreachable)          |                       |
| no upstream answered before deadline   | 504    | api_error (upstream_  | api_error             |
|                                        |        | timeout)              |                       |
| anything else (logged, nothing leaked) | 500    | api_error             | api_error             |

An upstream's own error answer (a 400, or the last 429 or 5xx once every attempt failed)
is relayed as the upstream sent it, not rewritten.
"""

from __future__ import annotations

import logging
from typing import Any

from modelplane.domain import errors as domain
from modelplane.domain.gateway import ApiFamily
from modelplane.domain.spend_limits import BudgetSpent
from modelplane.faces.envelope import EnvelopeError
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.errors import retry_after_header

log = logging.getLogger("modelplane.gateway")


class UpstreamError(EnvelopeError):
    """No attempt got an answer: every upstream was unreachable, or the deadline passed
    (its headers: the gateway's own, target, attempts and overhead)."""


# domain error -> (status, OpenAI type, OpenAI code, Anthropic type)
ERROR_TABLE: dict[type[domain.DomainError], tuple[int, str, str | None, str]] = {
    domain.InvalidArgument: (400, "invalid_request_error", None, "invalid_request_error"),
    domain.Unauthenticated: (
        401,
        "authentication_error",
        "invalid_api_key",
        "authentication_error",
    ),
    domain.PermissionDenied: (403, "permission_error", None, "permission_error"),
    domain.NotFound: (404, "invalid_request_error", "model_not_found", "not_found_error"),
    domain.FailedPrecondition: (400, "invalid_request_error", None, "invalid_request_error"),
    BudgetSpent: (429, "insufficient_quota", "insufficient_quota", "billing_error"),
    domain.ResourceExhausted: (429, "rate_limit_error", "rate_limit_exceeded", "rate_limit_error"),
    domain.Unavailable: (503, "api_error", None, "api_error"),
}


def error_body(
    family: ApiFamily, kind: str, message: str, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """An error body of `family`'s shape."""
    if family is ApiFamily.ANTHROPIC:
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def render(exc: Exception, family: ApiFamily) -> JsonResponse:
    """The answer for `exc` in `family`'s shape, per the table above."""
    headers: dict[str, str] | None = None
    if isinstance(exc, UpstreamError):
        body = error_body(family, "api_error", exc.message, code=exc.code)
        return JsonResponse(body, exc.status, headers=exc.headers)
    if isinstance(exc, domain.DomainError):
        status, openai_type, code, anthropic_type = next(
            (row for kind, row in ERROR_TABLE.items() if isinstance(exc, kind)),
            (500, "api_error", None, "api_error"),
        )
        param = exc.violations[0].field if exc.violations else None
        kind = anthropic_type if family is ApiFamily.ANTHROPIC else openai_type
        if isinstance(exc, domain.ResourceExhausted):
            headers = {"retry-after": retry_after_header(exc.retry_after_seconds)}
            if isinstance(exc, BudgetSpent):  # the SDKs' retries would not help before then
                headers["x-should-retry"] = "false"
        if isinstance(exc, domain.Unauthenticated):
            headers = {"www-authenticate": 'Bearer realm="modelplane"'}
        return JsonResponse(
            error_body(family, kind, exc.message, code=code, param=param), status, headers=headers
        )
    log.error("unhandled error in the gateway", exc_info=(type(exc), exc, exc.__traceback__))
    return JsonResponse(error_body(family, "api_error", "internal error"), 500)
