"""Routes of /v1/provider-templates and the built-in /v1/provider-endpoints catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from modelplane.domain.catalog import ProviderFilter
from modelplane.domain.paging import page_request
from modelplane.domain.provider_endpoints import provider_endpoints
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.catalog_schemas import (
    ListProviderTemplatesOut,
    ProviderCreate,
    ProviderPatch,
    ProviderTemplateOut,
    VerifyApiKeyIn,
    render_page,
    render_provider,
    split_ids,
)
from modelplane.faces.native.deps import context
from modelplane.faces.native.llm_schemas import MatchOut
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.faces.native.runtime_schemas import ListProviderEndpointsOut, render_endpoints
from modelplane.services import catalog as service

router = native_router("/v1", ["provider-templates"])


@router.post("/provider-templates", status_code=201, response_model=ProviderTemplateOut)
async def create_provider_template(body: ProviderCreate, request: Request) -> Response:
    """Add a provider template to a model group; its API key is sealed and never returned."""
    ctx = context(request)
    provider = await service.create_provider(
        store=ctx.store,
        secrets=ctx.secrets,
        actor=ctx.principal,
        group_id=body.model_template_id,
        name=body.name,
        provider_name=body.provider_name,
        provider_type=body.provider_type.value,
        config=body.config.config_fields(only_given=False) if body.config else None,
        description=body.description,
        enable_wuying_proxy=body.enable_wuying_proxy,
    )
    return JsonResponse(render_provider(provider), status_code=201)


@router.get("/provider-templates", response_model=ListProviderTemplatesOut)
async def list_provider_templates(
    request: Request,
    model_template_id: Annotated[str | None, Query(alias="modelTemplateId")] = None,
    provider_name: Annotated[str | None, Query(alias="providerName")] = None,
    ids: Annotated[list[str] | None, Query(description="Repeated or comma-separated")] = None,
    page_number: Annotated[int | None, Query(alias="pageNumber")] = None,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
) -> Response:
    """A page of the provider templates the caller may read, oldest first."""
    ctx = context(request)
    flt = ProviderFilter(
        model_template_id=model_template_id, provider_name=provider_name, ids=split_ids(ids)
    )
    page = await service.list_providers(
        store=ctx.store, actor=ctx.principal, flt=flt, page=page_request(page_number, page_size)
    )
    items = [render_provider(p) for p in page.items]
    return JsonResponse(render_page(page, "providerTemplates", items))


@router.get("/provider-templates/{provider_template_id}", response_model=ProviderTemplateOut)
async def get_provider_template(provider_template_id: str, request: Request) -> Response:
    """One provider template, its API key masked."""
    ctx = context(request)
    provider = await service.get_provider(
        store=ctx.store, actor=ctx.principal, provider_template_id=provider_template_id
    )
    return JsonResponse(render_provider(provider))


@router.patch("/provider-templates/{provider_template_id}", response_model=ProviderTemplateOut)
async def update_provider_template(
    provider_template_id: str, body: ProviderPatch, request: Request
) -> Response:
    """Change only what is given; in `config`, `null` or `""` clears a key."""
    ctx = context(request)
    provider = await service.update_provider(
        store=ctx.store,
        secrets=ctx.secrets,
        actor=ctx.principal,
        provider_template_id=provider_template_id,
        name=body.name,
        description=body.description,
        enable_wuying_proxy=body.enable_wuying_proxy,
        config=body.config.config_fields(only_given=True) if body.config else None,
    )
    return JsonResponse(render_provider(provider))


@router.post("/provider-templates/{provider_template_id}:verifyApiKey", response_model=MatchOut)
async def verify_provider_api_key(
    provider_template_id: str, body: VerifyApiKeyIn, request: Request
) -> Response:
    """Whether the key given equals the stored one (needs UPDATE on the group)."""
    ctx = context(request)
    matches = await service.verify_provider_api_key(
        store=ctx.store,
        secrets=ctx.secrets,
        actor=ctx.principal,
        provider_template_id=provider_template_id,
        api_key=body.api_key,
    )
    return JsonResponse({"matches": matches})


@router.delete("/provider-templates/{provider_template_id}", response_model=DeletedOut)
async def delete_provider_template(provider_template_id: str, request: Request) -> Response:
    """Delete a provider template and its LLM templates (a default pointer to one goes too)."""
    ctx = context(request)
    await service.delete_provider(
        store=ctx.store, actor=ctx.principal, provider_template_id=provider_template_id
    )
    return JsonResponse({"deleted": True, "id": provider_template_id})


@router.get("/provider-endpoints", response_model=ListProviderEndpointsOut)
async def list_provider_endpoints(
    provider_name: Annotated[
        str | None, Query(alias="providerName", description="Only this provider")
    ] = None,
) -> Response:
    """Well-known providers and their API base URLs (a built-in catalog)."""
    return JsonResponse(render_endpoints(provider_endpoints(provider_name)))
