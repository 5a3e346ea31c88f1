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
| ResourceExhausted (rate limit)         | 429    | Throttling.User (x-acs-retry-after ms) |
| body over the limit                    | 413    | PayloadTooLarge                        |
| a body that is not a form              | 415    | UnsupportedMediaType                   |
| Unavailable                            | 503    | ServiceUnavailable                     |
| anything else (logged, nothing leaked) | 500    | InternalError                          |

Domain errors name fields as the core does (`providerName`, `items.0.llmCode`); this face
spells them as its parameters (`ProviderName`, `LlmTemplateItems.1.LlmCode`) by its one
table, `FIELD_NAMES`.

Signature errors keep their own code. `InvalidAccessKeyId.NotFound` and
`SignatureDoesNotMatch` answer 401: the credentials are wrong, and sending the request
again cannot help. The others (`MissingParameter`, `IncompleteSignature`,
`InvalidTimeStamp.*`, `SignatureNonceUsed`, `InvalidParameter`) answer 400: the request
itself is incomplete, stale or replayed.
"""

from __future__ import annotations

import logging

from modelplane.domain import errors as domain
from modelplane.faces.aliyun.errors import ErrorTable, describe
from modelplane.faces.aliyun.field_names import FieldNames
from modelplane.faces.envelope import EnvelopeError
from modelplane.faces.jsonresponse import JsonResponse

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
_ITEM_FIELDS = {
    "llmCode": "LlmCode",
    "name": "Name",
    "description": "Description",
    "config": "Config",
    "isDefaultModel": "IsDefaultModel",
}
FIELD_NAMES = FieldNames(
    {
        "name": "Name",
        "description": "Description",
        "agentPlatform": "AgentPlatform",
        "agentProvider": "AgentProvider",
        "bizType": "BizType",
        "refScope": "RefScope",
        "config": "Config",
        "modelTemplateId": "ModelTemplateId",
        "providerName": "ProviderName",
        "providerType": "ProviderType",
        "items": "LlmTemplateItems",
        "pageNumber": "PageNumber",
        "pageSize": "PageSize",
        "runtimeType": "RuntimeType",
        "runtimeIds": "RuntimeIds",
        "runtimeId": "RuntimeId",
    },
    one_based={"items": _ITEM_FIELDS, "runtimeIds": {}},
)


class RpcError(EnvelopeError):
    """An error of the RPC envelope (not of a use case), with its own status and code."""


def missing(name: str) -> RpcError:
    """A required parameter that was not given."""
    return RpcError(400, "MissingParameter", f"the required parameter {name} is missing")


def render(exc: Exception, *, request_id: str, host: str) -> JsonResponse:
    """The Alibaba error response for `exc`."""
    answer = describe(FIELD_NAMES.error(exc), ERROR_TABLE, internal=INTERNAL, log=log)
    body = {
        "RequestId": request_id,
        "HostId": host,
        "Code": answer.code,
        "Message": answer.message,
        "Recommend": RECOMMEND.get(answer.status, ""),
    }
    return JsonResponse(body, answer.status, headers=answer.headers)
