"""PAI-EAS (2021-07-01, ROA) dynamic parameters, as the official SDK calls them.

| SDK operation | method | path                                                    | input     |
|---------------|--------|---------------------------------------------------------|-----------|
| CreateConfig  | POST   | `/api/v2/configs/{ClusterId}/{ConfigType}/{Name}/{Key}` | `{Value}` |
| UpdateConfig  | PUT    | the same (`{Key}` is the `ConfigKey`)                   | `{Value}` |
| DeleteConfig  | DELETE | the same                                                |           |
| ListConfigs   | GET    | `/api/v2/configs/{ClusterId}/{ConfigType}/{Name}`       | `Page`,   |
|               |        |                                                         | `PageSize`|

Create and Update answer `{Key, Value, CreatedAt, UpdatedAt}` (UTC, `2024-01-01T00:00:00Z`),
Delete `{"message": "Successfully deleted 1 configs", "deleted": 1}`, List `{Type, Name,
Configs, Page, PageSize, Total, HasMore}`: exactly the keys of the SDK's response models.
The request id travels in the `x-request-id` header of every response, and in the body
of every error (`{RequestId, Code, Message}`, see eas_errors.py).

A `ConfigKey` with `/` arrives as `%2F` inside its one segment: the route matches the
raw path and decodes each parameter afterwards (routing.py). The shared ROA envelope
(endpoint.py) checks the signature; since Create and Update read the body, an ROA
HMAC-SHA1 signature must cover it with `content-md5` (ACS3 always does). The rules
(`ConfigType` is `service`, the key grammar, `Value` a string, page limits, who owns a
namespace, and that an admin's write into another principal's namespace must name its
owner, which this face cannot) live in the domain and the services: the face only
parses and renders.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from modelplane.domain.configs import CONFIG_TYPE, Config
from modelplane.domain.errors import InvalidArgument
from modelplane.faces.aliyun.roa.eas_errors import render
from modelplane.faces.aliyun.roa.endpoint import RoaCall, RoaFace
from modelplane.faces.json_input import parse_json_body
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.services import configs

VERSION = "2021-07-01"
NAMESPACE = "/api/v2/configs/{ClusterId}/{ConfigType}/{Name}"
ITEM = NAMESPACE + "/{ConfigKey}"
BODY_RULE = 'must be a JSON object such as {"Value": "..."}'


class Call(RoaCall):
    """A dynamic-parameter request: the namespace (and key) of its path, its body."""

    __slots__ = ()

    @property
    def cluster_id(self) -> str:
        return self.path["ClusterId"]

    @property
    def config_type(self) -> str:
        return self.path["ConfigType"]

    @property
    def name(self) -> str:
        return self.path["Name"]

    @property
    def key(self) -> str:
        return self.path["ConfigKey"]

    async def value(self) -> object:
        """`Value` from the JSON body, unchecked (None when absent; empty body is `{}`)."""
        if not self.body.strip():
            return None
        document = await parse_json_body(self.body)
        if not isinstance(document, dict):
            raise InvalidArgument.of("body", BODY_RULE)
        return document.get("Value")


def timestamp(epoch_ms: int) -> str:
    """Epoch milliseconds as EAS writes times: UTC ISO 8601 to the second."""
    return datetime.fromtimestamp(epoch_ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rendered(config: Config) -> dict[str, Any]:
    """One parameter as Create, Update and List answer it."""
    return {
        "Key": config.key,
        "Value": config.value,
        "CreatedAt": timestamp(config.created_at),
        "UpdatedAt": timestamp(config.updated_at),
    }


async def create(call: Call) -> dict[str, Any]:
    """CreateConfig."""
    config = await configs.create_config(
        store=call.store,
        actor=call.actor,
        cluster_id=call.cluster_id,
        config_type=call.config_type,
        name=call.name,
        key=call.key,
        value=await call.value(),
    )
    return rendered(config)


async def update(call: Call) -> dict[str, Any]:
    """UpdateConfig."""
    config = await configs.update_config(
        store=call.store,
        actor=call.actor,
        cluster_id=call.cluster_id,
        config_type=call.config_type,
        name=call.name,
        key=call.key,
        value=await call.value(),
    )
    return rendered(config)


async def delete(call: Call) -> dict[str, Any]:
    """DeleteConfig."""
    deleted = await configs.delete_config(
        store=call.store,
        actor=call.actor,
        cluster_id=call.cluster_id,
        config_type=call.config_type,
        name=call.name,
        key=call.key,
    )
    return {"message": f"Successfully deleted {deleted} configs", "deleted": deleted}


async def list_configs(call: Call) -> dict[str, Any]:
    """ListConfigs: one page in key order."""
    page = await configs.list_configs(
        store=call.store,
        actor=call.actor,
        cluster_id=call.cluster_id,
        config_type=call.config_type,
        name=call.name,
        page=call.integer("Page"),
        page_size=call.integer("PageSize"),
    )
    return {
        "Type": CONFIG_TYPE,
        "Name": call.name,
        "Configs": [rendered(c) for c in page.items],
        "Page": page.page,
        "PageSize": page.page_size,
        "Total": page.total,
        "HasMore": page.has_more,
    }


FACE = RoaFace(
    name="eas",
    version=VERSION,
    operations={
        ("GET", NAMESPACE): list_configs,
        ("POST", ITEM): create,
        ("PUT", ITEM): update,
        ("DELETE", ITEM): delete,
    },
    call_type=Call,
    reads_body=True,
    answer=lambda body, _request_id: JsonResponse(body),
    fail=render,
)
route = FACE.route()
