"""Routes of /v1/workspaces/{ws}/prompt-templates. Each handler parses, calls one service,
renders.

Domain errors already name fields as this face spells them (`name`, `content`,
`variables.<name>`, `nextToken`), so they pass through unchanged: variable names keep
their case.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from starlette.responses import Response

from modelplane.domain.prompts import TemplateType
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context
from modelplane.faces.native.owner_query import NamedOwner
from modelplane.faces.native.prompt_schemas import (
    MAX_RESULTS,
    VARIABLE_GRAMMAR,
    DiffOut,
    PromptTemplateListOut,
    PromptTemplateOut,
    RenderIn,
    RenderOut,
    TemplateCreate,
    TemplatePatch,
    VersionListOut,
    render_diff,
    render_rendered,
    render_template,
    render_template_page,
)
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.services import prompts as service

router = native_router("/v1/workspaces/{workspace_id}/prompt-templates", ["prompt-templates"])

_VERSION = "A version number (1 is the first); the current version when absent"
_LABEL = (
    "The version this label points at (`production`, `staging`, …; `latest`: the current "
    "one); not with `version`. A label that is not set is 404."
)
# Every item route takes a template's id or its name (names are unique in a workspace).
TemplateRef = Annotated[
    str,
    Path(
        description="The template's id, or its name (an id is looked up first; a name "
        "holding `/` is reached by its id)"
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=PromptTemplateOut,
    description="Create a `Custom` template (version 1) holding a text (`content`) or chat "
    "`messages`, with an optional `config`, in a workspace the caller may write "
    "into: its owner, its `author` and `editor` members (403 for a `reader`), admins "
    "naming its owner with `ownerId` (412 otherwise). `name` 1..255 and `content` "
    "1..100,000 characters.\n\n" + VARIABLE_GRAMMAR,
)
async def create_prompt_template(
    workspace_id: str, body: TemplateCreate, request: Request, owner_id: NamedOwner = None
) -> Response:
    """Create a prompt template."""
    ctx = context(request)
    template = await service.create_prompt_template(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        name=body.name,
        content=body.content,
        messages=body.chat(),
        config=body.config,
        owner_id=owner_id,
        prompt_template_id=body.prompt_template_id,
    )
    return JsonResponse(render_template(template), status_code=201)


@router.get("", response_model=PromptTemplateListOut)
async def list_prompt_templates(
    workspace_id: str,
    request: Request,
    name: Annotated[str | None, Query(description="Part of the name, any case")] = None,
    template_type: Annotated[
        TemplateType | None,
        Query(alias="type", description="`Custom` (the default: the workspace's own) or `System`"),
    ] = None,
    max_results: Annotated[int | None, Query(alias="maxResults", description=MAX_RESULTS)] = None,
    next_token: Annotated[
        str | None,
        Query(alias="nextToken", description="From the previous page; valid while rows are added"),
    ] = None,
) -> Response:
    """A page of a workspace's templates, oldest first; `nextToken` continues after it."""
    ctx = context(request)
    page = await service.list_prompt_templates(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        name=name,
        template_type=template_type.value if template_type is not None else None,
        max_results=max_results,
        next_token=next_token,
    )
    return JsonResponse(render_template_page(page))


@router.get("/{prompt_template_id}", response_model=PromptTemplateOut)
async def get_prompt_template(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    request: Request,
    version: Annotated[int | None, Query(description=_VERSION)] = None,
    label: Annotated[str | None, Query(description=_LABEL)] = None,
) -> Response:
    """A template: current, at `version`, or at the version `label` points at; the
    built-in `System` ones are in every workspace."""
    ctx = context(request)
    template = await service.get_prompt_template(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        version=version,
        label=label,
    )
    return JsonResponse(render_template(template))


@router.patch(
    "/{prompt_template_id}",
    response_model=PromptTemplateOut,
    description="Write a new version with the fields given; the old text stays as a version "
    "(`/versions`, `?version=N`). `System` templates are read-only (403). Who may: as for "
    "a create.\n\n" + VARIABLE_GRAMMAR,
)
async def update_prompt_template(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    body: TemplatePatch,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Update a prompt template."""
    ctx = context(request)
    template = await service.update_prompt_template(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        name=body.name,
        content=body.content,
        messages=body.chat(),
        config=body.config,
        owner_id=owner_id,
    )
    return JsonResponse(render_template(template))


@router.delete("/{prompt_template_id}", response_model=DeletedOut)
async def delete_prompt_template(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Delete a template with all its versions and labels (`System` templates are read-only:
    403); who may: its owner, its `editor` members, admins naming its owner."""
    ctx = context(request)
    deleted = await service.delete_prompt_template(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        owner_id=owner_id,
    )
    return JsonResponse({"deleted": True, "id": deleted})


@router.get("/{prompt_template_id}/versions", response_model=VersionListOut)
async def list_versions(
    workspace_id: str, prompt_template_id: TemplateRef, request: Request
) -> Response:
    """Every version of a template, oldest first."""
    ctx = context(request)
    versions = await service.list_versions(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
    )
    return JsonResponse({"versions": [render_template(v) for v in versions]})


@router.post(
    "/{prompt_template_id}:render",
    response_model=RenderOut,
    description="Fill the template's variables with `variables`. A variable without a value "
    "is 400 `INVALID_ARGUMENT` whose `details` name every missing one (`variables.<name>`), "
    "unless `allowPartial` is set: then its placeholder stays as written and it is listed "
    "in `missing`. Values are not rendered again; `$${x}` becomes `${x}`. A text that would be "
    "over the server's limit (`MODELPLANE_MAX_RENDERED_BYTES`, 1 MiB of UTF-8 by default) is "
    "400 `INVALID_ARGUMENT` naming `variables`, refused before it is built.\n\n" + VARIABLE_GRAMMAR,
)
async def render_prompt_template(
    workspace_id: str, prompt_template_id: TemplateRef, body: RenderIn, request: Request
) -> Response:
    """Render a prompt template."""
    ctx = context(request)
    template, rendered = await service.render_prompt_template(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        variables=body.variables,
        allow_partial=body.allow_partial,
        version=body.version,
        label=body.label,
        max_rendered_bytes=request.app.state.settings.max_rendered_bytes,
    )
    return JsonResponse(render_rendered(template, rendered))


@router.get(
    "/{prompt_template_id}/diff",
    response_model=DiffOut,
    description="The unified diff of the template's text from one version to another. "
    "`from` and `to` each name a version number or a label (`latest`: the current "
    "version, the default of `to`). `diff` is empty when the texts are the same. When "
    "the changed block of each side holds so many lines that comparing them would take "
    "more than about a tenth of a second, the block is shown whole (every old line "
    "removed, every new one added) and `exact` is false.",
)
async def diff_prompt_template(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    request: Request,
    old: Annotated[str, Query(alias="from", description="A version number or a label")],
    new: Annotated[
        str, Query(alias="to", description="A version number or a label; `latest` when absent")
    ] = "latest",
) -> Response:
    """Diff two versions of a template."""
    ctx = context(request)
    found = await service.diff_prompt_template(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        old=old,
        new=new,
    )
    return JsonResponse(render_diff(found))
