"""The bailian face's one error table and its error body `{requestId, code, message}`.

| cause                                        | status | code                              |
|----------------------------------------------|--------|-----------------------------------|
| InvalidArgument on `name`                    | 400    | PromptTemplate.NameInvalid        |
| InvalidArgument on `content`                 | 400    | PromptTemplate.ContentInvalid     |
| any other InvalidArgument, a malformed query | 400    | InvalidParameter                  |
| an `x-acs-version` other than 2023-12-29     | 400    | InvalidVersion                    |
| Unauthenticated                              | 401    | InvalidAccessKeyId.NotFound       |
| PermissionDenied (System templates, a        | 403    | Forbidden                         |
| `reader` member's write)                     |        |                                   |
| NotFound: the template, or a workspace that  | 404    | PromptTemplate.NotFound           |
| does not exist or that the caller may not    |        | (the message names which)         |
| reach                                        |        |                                   |
| a method the path does not serve             | 405    | MethodNotAllowed                  |
| AlreadyExists                                | 409    | `<Entity>.AlreadyExists`          |
| FailedPrecondition: an admin's write into    | 409    | OperationDenied                   |
| another principal's workspace (bailian       |        |                                   |
| cannot name its owner)                       |        |                                   |
| body over the limit                          | 413    | PayloadTooLarge                   |
| ResourceExhausted (rate limit)               | 429    | Throttling.User (with             |
|                                              |        | x-acs-retry-after, Retry-After)   |
| Unavailable                                  | 503    | ServiceUnavailable                |
| anything else (logged, nothing leaked)       | 500    | PromptTemplate.InternalError      |

Fields are spelled as the core spells them (`name`, `content`, `maxResults`, `nextToken`),
so this face needs no table of field names.

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
from modelplane.faces.aliyun.errors import ErrorTable, describe
from modelplane.faces.jsonresponse import JsonResponse

log = logging.getLogger("modelplane.bailian")

NOT_FOUND = "PromptTemplate.NotFound"
FIELD_CODES = {"name": "PromptTemplate.NameInvalid", "content": "PromptTemplate.ContentInvalid"}


def _invalid(exc: domain.InvalidArgument) -> str:
    field = exc.violations[0].field if exc.violations else ""
    return FIELD_CODES.get(field, "InvalidParameter")


ERROR_TABLE: ErrorTable = {
    domain.InvalidArgument: (400, _invalid),
    domain.Unauthenticated: (401, "InvalidAccessKeyId.NotFound"),
    domain.PermissionDenied: (403, "Forbidden"),
    domain.NotFound: (404, NOT_FOUND),
    domain.AlreadyExists: (409, lambda exc: f"{exc.entity}.AlreadyExists"),
    domain.FailedPrecondition: (409, "OperationDenied"),
    domain.ResourceExhausted: (429, "Throttling.User"),
    domain.Unavailable: (503, "ServiceUnavailable"),
}
INTERNAL = ("PromptTemplate.InternalError", "Prompt template service inner exception.")


def render(exc: Exception, *, request_id: str) -> JsonResponse:
    """The bailian error response for `exc`."""
    answer = describe(exc, ERROR_TABLE, internal=INTERNAL, log=log)
    body = {"requestId": request_id, "code": answer.code, "message": answer.message}
    return JsonResponse(body, answer.status, answer.headers)
