"""The RPC face's one error table and the Alibaba error body.

Every error answers `{RequestId, HostId, Code, Message, Recommend}` as JSON:

| cause                                  | status | Code                                   |
|----------------------------------------|--------|----------------------------------------|
| InvalidArgument, malformed query/form  | 400    | InvalidParameter (`field: rule; …`)    |
| a required parameter is missing        | 400    | MissingParameter                       |
| a version other than 2021-09-01        | 400    | InvalidVersion                         |
| unknown action                         | 404    | InvalidAction.NotFound                 |
| Unauthenticated                        | 401    | InvalidAccessKeyId.NotFound            |
| PermissionDenied                       | 403    | Forbidden                              |
| NotFound                               | 404    | `<Entity>.NotFound`                    |
| AlreadyExists                          | 409    | `<Entity>.AlreadyExists`               |
| FailedPrecondition                     | 409    | OperationDenied                        |
| ResourceExhausted                      | 429    | Throttling                             |
| body over the limit                    | 413    | PayloadTooLarge                        |
| a body that is not a form              | 415    | UnsupportedMediaType                   |
| Unavailable                            | 503    | ServiceUnavailable                     |
| anything else (logged, nothing leaked) | 500    | InternalError                          |

Signature errors keep their own code. `InvalidAccessKeyId.NotFound` and
`SignatureDoesNotMatch` answer 401: the credentials are wrong, and sending the request
again cannot help. The others (`MissingParameter`, `IncompleteSignature`,
`InvalidTimeStamp.*`, `SignatureNonceUsed`, `InvalidParameter`) answer 400: the request
itself is incomplete, stale or replayed.
"""

from __future__ import annotations

import logging

from modelplane.domain import errors as domain
from modelplane.faces.aliyun_transport import signature_status
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.middleware import BodyTooLarge
from modelplane.security.signatures import SignatureError

log = logging.getLogger("modelplane.aliyun_rpc")

RECOMMEND = {
    400: "Check the parameters named in Message and send the request again.",
    401: "Check the AccessKeyId and AccessKeySecret the request is signed with.",
    403: "Use an access key of a principal that may do this.",
    404: "Check the action and the resource id; members see only their own resources.",
    409: "The resource exists or is in use; read it before changing it.",
    413: "Send a smaller request.",
    415: "Send parameters in the query or as application/x-www-form-urlencoded.",
    429: "Wait a moment and send the request again.",
    500: "Send the request again; if it keeps failing, report the RequestId.",
    503: "The store is unreachable; send the request again later.",
}


class RpcError(Exception):
    """An error of the RPC envelope (not of a use case), with its own status and code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def missing(name: str) -> RpcError:
    """A required parameter that was not given."""
    return RpcError(400, "MissingParameter", f"the required parameter {name} is missing")


def _domain(exc: domain.DomainError) -> tuple[int, str]:
    if isinstance(exc, domain.InvalidArgument):
        return 400, "InvalidParameter"
    if isinstance(exc, domain.Unauthenticated):
        return 401, "InvalidAccessKeyId.NotFound"
    if isinstance(exc, domain.PermissionDenied):
        return 403, "Forbidden"
    if isinstance(exc, domain.NotFound):
        return 404, f"{exc.entity}.NotFound"
    if isinstance(exc, domain.AlreadyExists):
        return 409, f"{exc.entity}.AlreadyExists"
    if isinstance(exc, domain.FailedPrecondition):
        return 409, "OperationDenied"
    if isinstance(exc, domain.ResourceExhausted):
        return 429, "Throttling"
    if isinstance(exc, domain.Unavailable):
        return 503, "ServiceUnavailable"
    return 500, "InternalError"


def describe(exc: Exception) -> tuple[int, str, str]:
    """Status, Code and Message for any exception raised while serving a call."""
    if isinstance(exc, RpcError):
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
    return 500, "InternalError", "an internal error occurred"


def render(exc: Exception, *, request_id: str, host: str) -> JsonResponse:
    """The Alibaba error response for `exc`."""
    status, code, message = describe(exc)
    body = {
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": RECOMMEND.get(status, ""),
    }
    headers = None
    if isinstance(exc, domain.ResourceExhausted):
        headers = {"Retry-After": str(max(1, round(exc.retry_after_seconds)))}
    return JsonResponse(body, status, headers=headers)
