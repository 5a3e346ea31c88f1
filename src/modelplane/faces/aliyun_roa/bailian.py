"""Model Studio (bailian 2023-12-29, ROA) prompt templates, as the official SDK calls them.

| SDK operation        | method and path                               | query               |
|----------------------|-----------------------------------------------|---------------------|
| CreatePromptTemplate | `POST /{workspaceId}/promptTemplates`         | `name`, `content`   |
| ListPromptTemplates  | `GET /{workspaceId}/promptTemplates`          | `name`, `type`,     |
|                      |                                               | `maxResults`,       |
|                      |                                               | `nextToken`         |
| GetPromptTemplate    | `GET /{workspaceId}/promptTemplates/{id}`     |                     |
| UpdatePromptTemplate | `PATCH /{workspaceId}/promptTemplates/{id}`   | `name`, `content`   |
| DeletePromptTemplate | `DELETE /{workspaceId}/promptTemplates/{id}`  |                     |

Per request: find the operation from the method and the path shape, read the body and
the query, check the access-key signature (ACS3-HMAC-SHA256 or ROA HMAC-SHA1) and the
version, run the operation and answer `{"requestId": …, …}` in lowerCamelCase. The
operations only read the query and the path, never the body (which the older signature
does not cover). Every failure is a `{requestId, code, message}` body (see
bailian_errors.py). The rules live in the services: the face only parses and renders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.principals import Principal
from modelplane.domain.prompts import PromptTemplate
from modelplane.faces.aliyun_roa.bailian_errors import BailianError, render
from modelplane.faces.aliyun_roa.routing import SHAPE_KEY, RawPathRoute
from modelplane.faces.aliyun_transport import (
    authenticate,
    first,
    query_pairs,
    read_body,
    received_headers,
    signed_request,
    single_values,
)
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.services import prompts
from modelplane.store.uow import Store

VERSION = "2023-12-29"
COLLECTION = "/{workspaceId}/promptTemplates"
ITEM = "/{workspaceId}/promptTemplates/{promptTemplateId}"
_INTEGER = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request: its path parameters, its query, who sent it."""

    path: dict[str, str]
    query: dict[str, str]
    actor: Principal
    store: Store

    @property
    def workspace_id(self) -> str:
        return self.path["workspaceId"]

    @property
    def template_id(self) -> str:
        return self.path["promptTemplateId"]

    def required(self, name: str) -> str:
        """A query parameter that must be sent (its rules are the domain's)."""
        value = self.query.get(name)
        if value is None:
            raise InvalidArgument.of(name, "required")
        return value

    def integer(self, name: str) -> int | None:
        """A decimal integer query parameter; absent is None."""
        value = self.query.get(name)
        if value is None:
            return None
        if not _INTEGER.match(value):
            raise InvalidArgument.of(name, f"must be a decimal integer, not {value[:40]!r}")
        return int(value)


Operation = Callable[[Call], Awaitable[dict[str, Any]]]


def _listed(template: PromptTemplate) -> dict[str, Any]:
    return {
        "promptTemplateId": template.prompt_template_id,
        "name": template.name,
        "content": template.content,
        "variables": list(template.variables),
        "type": template.type.value,
    }


async def create(call: Call) -> dict[str, Any]:
    """CreatePromptTemplate."""
    template = await prompts.create_prompt_template(
        store=call.store,
        actor=call.actor,
        workspace_id=call.workspace_id,
        name=call.required("name"),
        content=call.required("content"),
    )
    return {"promptTemplateId": template.prompt_template_id}


async def list_templates(call: Call) -> dict[str, Any]:
    """ListPromptTemplates: one page, oldest first; `nextToken` continues after it."""
    page = await prompts.list_prompt_templates(
        store=call.store,
        actor=call.actor,
        workspace_id=call.workspace_id,
        name=call.query.get("name") or None,
        template_type=call.query.get("type") or None,
        max_results=call.integer("maxResults"),
        next_token=call.query.get("nextToken") or None,
    )
    return {
        "workspaceId": call.workspace_id,
        "maxResults": page.max_results,
        "nextToken": page.next_token,
        "totalCount": page.total,
        "promptTemplates": [_listed(t) for t in page.items],
    }


async def get(call: Call) -> dict[str, Any]:
    """GetPromptTemplate."""
    template = await prompts.get_prompt_template(
        store=call.store,
        actor=call.actor,
        workspace_id=call.workspace_id,
        template_id=call.template_id,
    )
    return {
        "promptTemplateId": template.prompt_template_id,
        "name": template.name,
        "content": template.content,
        "variables": list(template.variables),
        "workspaceId": call.workspace_id,
    }


async def update(call: Call) -> dict[str, Any]:
    """UpdatePromptTemplate: a new version with the fields sent."""
    await prompts.update_prompt_template(
        store=call.store,
        actor=call.actor,
        workspace_id=call.workspace_id,
        template_id=call.template_id,
        name=call.query.get("name"),
        content=call.query.get("content"),
    )
    return {}


async def delete(call: Call) -> dict[str, Any]:
    """DeletePromptTemplate."""
    await prompts.delete_prompt_template(
        store=call.store,
        actor=call.actor,
        workspace_id=call.workspace_id,
        template_id=call.template_id,
    )
    return {}


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", COLLECTION): create,
    ("GET", COLLECTION): list_templates,
    ("GET", ITEM): get,
    ("PATCH", ITEM): update,
    ("DELETE", ITEM): delete,
}


def _allowed(shape: str) -> str:
    return ", ".join(method for method, served in OPERATIONS if served == shape)


class BailianEndpoint:
    """The ASGI app behind the prompt-template paths."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state["face"] = "bailian"
        request_id = state.get("request_id") or os.urandom(16).hex()
        try:
            body = await self.handle(scope, receive)
            response = JsonResponse({"requestId": request_id, **body})
        except Exception as exc:
            response = render(exc, request_id=request_id)
        await response(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        """Authenticate and run one request; its body without `requestId`."""
        shape = scope[SHAPE_KEY]
        operation = OPERATIONS.get((scope["method"], shape))
        if operation is None:
            allowed = _allowed(shape)
            raise BailianError(
                405,
                "MethodNotAllowed",
                f"{scope['method'][:16]} is not served on {shape}; use {allowed}",
                headers={"Allow": allowed},
            )
        headers = received_headers(scope)
        body = await read_body(receive)
        pairs = query_pairs(scope)
        query = single_values(pairs)
        signed = signed_request(scope, headers, pairs, body)
        actor = await authenticate(scope, signed, reads_body=False)
        version = first(headers, "x-acs-version")
        if version is not None and version != VERSION:
            raise BailianError(
                400, "InvalidVersion", f"version {version[:64]!r} is not served; use {VERSION}"
            )
        store = scope["app"].state.store
        call = Call(path=scope["path_params"], query=query, actor=actor, store=store)
        return await operation(call)


route = RawPathRoute([COLLECTION, ITEM], BailianEndpoint())
