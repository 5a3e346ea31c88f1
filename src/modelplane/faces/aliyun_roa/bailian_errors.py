"""The bailian face's one error table and its error body `{requestId, code, message}`.

| cause                                        | status | code                              |
|----------------------------------------------|--------|-----------------------------------|
| InvalidArgument on `name`                    | 400    | PromptTemplate.NameInvalid        |
| InvalidArgument on `content`                 | 400    | PromptTemplate.ContentInvalid     |
| any other InvalidArgument, a malformed query | 400    | InvalidParameter                  |
| an `x-acs-version` other than 2023-12-29     | 400    | InvalidVersion                    |
| Unauthenticated                              | 401    | InvalidAccessKeyId.NotFound       |
| PermissionDenied (System templates)          | 403    | Forbidden                         |
| NotFound: the template, or a workspace that  | 404    | PromptTemplate.NotFound           |
| does not exist or that the caller may not    |        | (the message names which)         |
| reach                                        |        |                                   |
| a method the path does not serve             | 405    | MethodNotAllowed                  |
| AlreadyExists                                | 409    | `<Entity>.AlreadyExists`          |
| FailedPrecondition                           | 409    | OperationDenied                   |
| body over the limit                          | 413    | PayloadTooLarge                   |
| ResourceExhausted                            | 429    | Throttling (with Retry-After)     |
| Unavailable                                  | 503    | ServiceUnavailable                |
| anything else (logged, nothing leaked)       | 500    | PromptTemplate.InternalError      |

Signature errors keep their own code with the RPC face's statuses (401 for a wrong key
or signature, 400 for an incomplete, stale or replayed request).

Model Studio documents only `PromptTemplate.*` codes for these operations, so a
workspace that is unknown or out of reach is `PromptTemplate.NotFound` too: clients that
test for that code need no second case, and the answer is the same whether the
workspace exists or not.
"""

from __future__ import annotations

import logging

from modelplane.domain import errors as domain
from modelplane.faces.aliyun_transport import signature_status
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.middleware import BodyTooLarge
from modelplane.security.signatures import SignatureError

log = logging.getLogger("modelplane.bailian")

NOT_FOUND = "PromptTemplate.NotFound"
FIELD_CODES = {"name": "PromptTemplate.NameInvalid", "content": "PromptTemplate.ContentInvalid"}


class BailianError(Exception):
    """An error of the ROA envelope (not of a use case), with its own status and code."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def _invalid(exc: domain.InvalidArgument) -> str:
    field = exc.violations[0].field if exc.violations else ""
    return FIELD_CODES.get(field, "InvalidParameter")


def _domain(exc: domain.DomainError) -> tuple[int, str]:
    if isinstance(exc, domain.InvalidArgument):
        return 400, _invalid(exc)
    if isinstance(exc, domain.Unauthenticated):
        return 401, "InvalidAccessKeyId.NotFound"
    if isinstance(exc, domain.PermissionDenied):
        return 403, "Forbidden"
    if isinstance(exc, domain.NotFound):
        return 404, NOT_FOUND
    if isinstance(exc, domain.AlreadyExists):
        return 409, f"{exc.entity}.AlreadyExists"
    if isinstance(exc, domain.FailedPrecondition):
        return 409, "OperationDenied"
    if isinstance(exc, domain.ResourceExhausted):
        return 429, "Throttling"
    if isinstance(exc, domain.Unavailable):
        return 503, "ServiceUnavailable"
    return 500, "PromptTemplate.InternalError"


def describe(exc: Exception) -> tuple[int, str, str]:
    """Status, code and message for any exception raised while serving a request."""
    if isinstance(exc, BailianError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, SignatureError):
        return signature_status(exc.code), exc.code, exc.message
    if isinstance(exc, domain.DomainError):
        status, code = _domain(exc)
        if status != 500:
            return status, code, exc.message
    elif isinstance(exc, BodyTooLarge):
        return 413, "PayloadTooLarge", str(exc.detail)
    log.error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__))
    return 500, "PromptTemplate.InternalError", "Prompt template service inner exception."


def render(exc: Exception, *, request_id: str) -> JsonResponse:
    """The bailian error response for `exc`."""
    status, code, message = describe(exc)
    headers = exc.headers if isinstance(exc, BailianError) else None
    if isinstance(exc, domain.ResourceExhausted):
        headers = {"Retry-After": str(max(1, round(exc.retry_after_seconds)))}
    return JsonResponse(
        {"requestId": request_id, "code": code, "message": message}, status, headers
    )
