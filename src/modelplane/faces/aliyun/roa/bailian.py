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

The shared ROA envelope (`endpoint.py`) finds the operation, checks the access-key
signature (ACS3-HMAC-SHA256 or ROA HMAC-SHA1) and the version; this face answers
`{"requestId": …, …}` in lowerCamelCase. The operations only read the query and the
path, never the body (which the older signature does not cover). Every failure is a
`{requestId, code, message}` body (see bailian_errors.py). The rules live in the
services: the face only parses and renders.
"""

from __future__ import annotations

from typing import Any

from modelplane.domain.prompts import PromptTemplate
from modelplane.faces.aliyun.roa.bailian_errors import render
from modelplane.faces.aliyun.roa.endpoint import RoaCall, RoaFace
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.services import prompts

VERSION = "2023-12-29"
COLLECTION = "/{workspaceId}/promptTemplates"
ITEM = "/{workspaceId}/promptTemplates/{promptTemplateId}"


class Call(RoaCall):
    """A prompt-template request: the workspace and template of its path."""

    __slots__ = ()

    @property
    def workspace_id(self) -> str:
        return self.path["workspaceId"]

    @property
    def template_id(self) -> str:
        return self.path["promptTemplateId"]


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


FACE = RoaFace(
    name="bailian",
    version=VERSION,
    operations={
        ("POST", COLLECTION): create,
        ("GET", COLLECTION): list_templates,
        ("GET", ITEM): get,
        ("PATCH", ITEM): update,
        ("DELETE", ITEM): delete,
    },
    call_type=Call,
    reads_body=False,
    answer=lambda body, request_id: JsonResponse({"requestId": request_id, **body}),
    fail=lambda exc, request_id: render(exc, request_id=request_id),
)
route = FACE.route()
