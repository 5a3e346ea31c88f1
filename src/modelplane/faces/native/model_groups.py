"""Routes of /v1/model-groups. Each handler parses, calls one service function, renders."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from modelplane.domain.catalog import GroupFilter
from modelplane.domain.paging import page_request
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.catalog_schemas import (
    GroupCreate,
    GroupPatch,
    ListModelGroupsOut,
    ModelGroupOut,
    ModelGroupSummaryOut,
    render_group,
    render_group_summary,
    render_page,
    split_ids,
)
from modelplane.faces.native.deps import context
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.services import catalog as service

router = native_router("/v1/model-groups", ["model-groups"])


@router.post("", status_code=201, response_model=ModelGroupOut)
async def create_model_group(body: GroupCreate, request: Request) -> Response:
    """Create a model group owned by the caller (or by `ownerId`), its id chosen by the
    client or generated."""
    ctx = context(request)
    group = await service.create_group(
        store=ctx.store,
        actor=ctx.principal,
        name=body.name,
        description=body.description,
        agent_platform=body.agent_platform,
        agent_provider=body.agent_provider,
        biz_type=body.biz_type,
        ref_scope=body.ref_scope,
        model_template_id=body.model_template_id,
        owner_id=body.owner_id,
    )
    return JsonResponse(render_group(group), status_code=201)


@router.get("", response_model=ListModelGroupsOut)
async def list_model_groups(
    request: Request,
    ids: Annotated[list[str] | None, Query(description="Repeated or comma-separated")] = None,
    name: Annotated[str | None, Query(description="Part of the name, any case")] = None,
    ref_scope: Annotated[str | None, Query(alias="refScope")] = None,
    has_model: Annotated[bool | None, Query(alias="hasModel")] = None,
    page_number: Annotated[int | None, Query(alias="pageNumber")] = None,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
) -> Response:
    """A page of the model groups the caller may read, oldest first, with model counts."""
    ctx = context(request)
    flt = GroupFilter(ids=split_ids(ids), name=name, ref_scope=ref_scope, has_model=has_model)
    page = await service.list_groups(
        store=ctx.store, actor=ctx.principal, flt=flt, page=page_request(page_number, page_size)
    )
    items = [render_group_summary(s) for s in page.items]
    return JsonResponse(render_page(page, "modelGroups", items))


@router.get("/{model_template_id}", response_model=ModelGroupSummaryOut)
async def get_model_group(model_template_id: str, request: Request) -> Response:
    """One model group, with its model count (as in the list)."""
    ctx = context(request)
    summary = await service.get_group(
        store=ctx.store, actor=ctx.principal, group_id=model_template_id
    )
    return JsonResponse(render_group_summary(summary))


@router.patch("/{model_template_id}", response_model=ModelGroupOut)
async def update_model_group(
    model_template_id: str, body: GroupPatch, request: Request
) -> Response:
    """Change the fields given. A new default model must be a model of the group."""
    ctx = context(request)
    group = await service.update_group(
        store=ctx.store,
        actor=ctx.principal,
        group_id=model_template_id,
        name=body.name,
        description=body.description,
        ref_scope=body.ref_scope,
        config=body.config,
        default_model=body.default_model,
    )
    return JsonResponse(render_group(group))


@router.delete("/{model_template_id}", response_model=DeletedOut)
async def delete_model_group(model_template_id: str, request: Request) -> Response:
    """Delete a model group with its provider templates, LLM templates and bindings."""
    ctx = context(request)
    await service.delete_group(store=ctx.store, actor=ctx.principal, group_id=model_template_id)
    return JsonResponse({"deleted": True, "id": model_template_id})
