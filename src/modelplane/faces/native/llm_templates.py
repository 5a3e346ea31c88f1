"""Routes of /v1/llm-templates. Each handler parses, calls one service function, renders."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from modelplane.domain.catalog import TemplateFilter
from modelplane.domain.paging import page_request
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.catalog_schemas import (
    BatchCreate,
    BatchCreateOut,
    ListLlmTemplatesOut,
    LlmTemplateOut,
    LlmTemplatePatch,
    render_page,
    render_template,
    split_ids,
)
from modelplane.faces.native.deps import context
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.services import catalog as service

router = native_router("/v1/llm-templates", ["llm-templates"])


@router.post(":batchCreate", response_model=BatchCreateOut)
async def batch_create_llm_templates(body: BatchCreate, request: Request) -> Response:
    """Create the new codes of a batch at once; existing codes and repeats are skipped."""
    ctx = context(request)
    result = await service.batch_create_llm_templates(
        store=ctx.store,
        actor=ctx.principal,
        provider_template_id=body.provider_template_id,
        items=[item.to_domain() for item in body.items],
        model_template_id=body.model_template_id,
    )
    content = {
        "llmTemplateIds": result.llm_template_ids,
        "successCount": len(result.llm_template_ids),
        "totalCount": result.total,
        "skippedItems": [{"llmCode": s.llm_code, "reason": s.reason} for s in result.skipped],
    }
    return JsonResponse(content)


@router.get("", response_model=ListLlmTemplatesOut)
async def list_llm_templates(
    request: Request,
    model_template_id: Annotated[str | None, Query(alias="modelTemplateId")] = None,
    provider_template_id: Annotated[str | None, Query(alias="providerTemplateId")] = None,
    llm_code: Annotated[str | None, Query(alias="llmCode")] = None,
    ids: Annotated[list[str] | None, Query(description="Repeated or comma-separated")] = None,
    page_number: Annotated[int | None, Query(alias="pageNumber")] = None,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
) -> Response:
    """A page of the LLM templates the caller may read, oldest first."""
    ctx = context(request)
    flt = TemplateFilter(
        model_template_id=model_template_id,
        provider_template_id=provider_template_id,
        llm_code=llm_code,
        ids=split_ids(ids),
    )
    page = await service.list_llm_templates(
        store=ctx.store, actor=ctx.principal, flt=flt, page=page_request(page_number, page_size)
    )
    items = [render_template(t) for t in page.items]
    return JsonResponse(render_page(page, "llmTemplates", items))


@router.get("/{llm_template_id}", response_model=LlmTemplateOut)
async def get_llm_template(llm_template_id: str, request: Request) -> Response:
    """One LLM template."""
    ctx = context(request)
    template = await service.get_llm_template(
        store=ctx.store, actor=ctx.principal, llm_template_id=llm_template_id
    )
    return JsonResponse(render_template(template))


@router.patch("/{llm_template_id}", response_model=LlmTemplateOut)
async def update_llm_template(
    llm_template_id: str, body: LlmTemplatePatch, request: Request
) -> Response:
    """Change the fields given in place (the id, code and default flag stay); `config`
    replaces the whole object. A different `llmCode` is refused (400)."""
    ctx = context(request)
    template = await service.update_llm_template(
        store=ctx.store,
        actor=ctx.principal,
        llm_template_id=llm_template_id,
        llm_code=body.llm_code,
        name=body.name,
        description=body.description,
        config=body.config,
    )
    return JsonResponse(render_template(template))


@router.delete("/{llm_template_id}", response_model=DeletedOut)
async def delete_llm_template(llm_template_id: str, request: Request) -> Response:
    """Delete an LLM template; deleting the default also clears the group's default."""
    ctx = context(request)
    await service.delete_llm_template(
        store=ctx.store, actor=ctx.principal, llm_template_id=llm_template_id
    )
    return JsonResponse({"deleted": True, "id": llm_template_id})
