"""The EAS face's one error table and its error body `{RequestId, Code, Message}`.

| cause                                         | status | Code                            |
|-----------------------------------------------|--------|---------------------------------|
| InvalidArgument (the message names the field: | 400    | InvalidParameter                |
| `ConfigType`, `ConfigKey`, `Value`, `Page`,   |        |                                 |
| `PageSize`, …), a malformed query or body     |        |                                 |
| an `x-acs-version` other than 2021-07-01      | 400    | InvalidVersion                  |
| Unauthenticated                               | 401    | InvalidAccessKeyId.NotFound     |
| PermissionDenied                              | 403    | Forbidden                       |
| NotFound: the parameter, or (on an update or  | 404    | Config.NotFound,                |
| a delete) a namespace never written or that   |        | ConfigNamespace.NotFound        |
| the caller may not reach                      |        |                                 |
| a method the path does not serve              | 405    | MethodNotAllowed (with Allow)   |
| AlreadyExists: the key exists; a member's     | 409    | Config.AlreadyExists,           |
| create in another owner's namespace (taken)   |        | ConfigNamespace.AlreadyExists   |
| FailedPrecondition: an admin's write into     | 409    | OperationDenied                 |
| another principal's namespace (EAS cannot     |        |                                 |
| name its owner)                               |        |                                 |
| body over the limit                           | 413    | PayloadTooLarge                 |
| ResourceExhausted (rate limit)                | 429    | Throttling.User (with           |
|                                               |        | x-acs-retry-after, Retry-After) |
| Unavailable                                   | 503    | ServiceUnavailable              |
| anything else (logged, nothing leaked)        | 500    | InternalError                   |

Domain errors name fields as the core does (`cluster`, `key`, `value`); this face spells
them as EAS does (`ClusterId`, `ConfigKey`, `Value`) by its one table, `FIELD_NAMES`.

Signature errors keep their own code with the other faces' statuses (401 for a wrong key
or signature, 400 for an incomplete, stale or replayed request, such as an ROA HMAC-SHA1
signature that does not cover the body).

The keys are PascalCase like every other EAS 2021-07-01 body (`RequestId`, `Message`);
the SDK reads `Code`/`code`, `Message`/`message` and `RequestId`/`requestId` alike, so
`ClientException.code`, `.message` and `.request_id` come out filled in.
"""

from __future__ import annotations

import logging

from modelplane.domain import errors as domain
from modelplane.faces.aliyun.errors import ErrorTable, describe
from modelplane.faces.aliyun.field_names import FieldNames
from modelplane.faces.jsonresponse import JsonResponse

log = logging.getLogger("modelplane.eas")

ERROR_TABLE: ErrorTable = {
    domain.InvalidArgument: (400, "InvalidParameter"),
    domain.Unauthenticated: (401, "InvalidAccessKeyId.NotFound"),
    domain.PermissionDenied: (403, "Forbidden"),
    domain.NotFound: (404, lambda exc: f"{exc.entity}.NotFound"),
    domain.AlreadyExists: (409, lambda exc: f"{exc.entity}.AlreadyExists"),
    domain.FailedPrecondition: (409, "OperationDenied"),
    domain.ResourceExhausted: (429, "Throttling.User"),
    domain.Unavailable: (503, "ServiceUnavailable"),
}
INTERNAL = ("InternalError", "an internal error occurred")
FIELD_NAMES = FieldNames(
    {
        "cluster": "ClusterId",
        "configType": "ConfigType",
        "name": "Name",
        "key": "ConfigKey",
        "value": "Value",
        "page": "Page",
        "pageSize": "PageSize",
    }
)


def render(exc: Exception, request_id: str) -> JsonResponse:
    """The EAS error response for `exc`."""
    answer = describe(FIELD_NAMES.error(exc), ERROR_TABLE, internal=INTERNAL, log=log)
    body = {"RequestId": request_id, "Code": answer.code, "Message": answer.message}
    return JsonResponse(body, answer.status, answer.headers)
