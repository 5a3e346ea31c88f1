"""Routes binding runtimes to model groups, and the model config a bound runtime reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from modelplane.domain.paging import page_request
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context
from modelplane.faces.native.routing import router as native_router
from modelplane.faces.native.runtime_schemas import (
    BindingsOut,
    BoundRuntimesOut,
    RuntimeModelConfigOut,
    RuntimesIn,
    render_bound,
    render_model_config,
    render_outcomes,
)
from modelplane.faces.public_url import gateway_public_url
from modelplane.services import runtimes as service

router = native_router("/v1", ["runtimes"])


@router.post("/model-groups/{model_template_id}/runtimes", response_model=BindingsOut)
async def bind_runtimes(model_template_id: str, body: RuntimesIn, request: Request) -> Response:
    """Bind runtimes to a model group (moving them from another group); one result each."""
    ctx = context(request)
    outcomes = await service.bind_runtimes(
        store=ctx.store,
        actor=ctx.principal,
        group_id=model_template_id,
        runtime_ids=body.runtime_ids,
        runtime_type=body.runtime_type,
    )
    return JsonResponse(render_outcomes(outcomes))


@router.get("/model-groups/{model_template_id}/runtimes", response_model=BoundRuntimesOut)
async def list_bound_runtimes(
    model_template_id: str,
    request: Request,
    page_number: Annotated[int | None, Query(alias="pageNumber")] = None,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
) -> Response:
    """A page of the runtimes bound to a model group, by type and then id."""
    ctx = context(request)
    page = await service.list_bindings(
        store=ctx.store,
        actor=ctx.principal,
        group_id=model_template_id,
        page=page_request(page_number, page_size),
    )
    return JsonResponse(render_bound(page))


@router.post("/model-groups/{model_template_id}/runtimes:remove", response_model=BindingsOut)
async def unbind_runtimes(model_template_id: str, body: RuntimesIn, request: Request) -> Response:
    """Unbind runtimes from a model group; one result each."""
    ctx = context(request)
    outcomes = await service.unbind_runtimes(
        store=ctx.store,
        actor=ctx.principal,
        group_id=model_template_id,
        runtime_ids=body.runtime_ids,
        runtime_type=body.runtime_type,
    )
    return JsonResponse(render_outcomes(outcomes))


@router.get(
    "/runtimes/{runtime_type}/{runtime_id:path}/model-config",
    response_model=RuntimeModelConfigOut,
)
async def runtime_model_config(
    runtime_type: str,
    runtime_id: str,
    request: Request,
    gateway: Annotated[
        bool,
        Query(
            description="Also hand the runtime the gateway's base URL and its binding's API "
            "key (limited to the gateway and the group; made on the first ask, the same "
            "token after)"
        ),
    ] = False,
) -> Response:
    """The model group bound to a runtime, its providers and models, and the default model;
    with `gateway=true`, how to call them through the gateway."""
    ctx = context(request)
    if gateway:
        config = await service.runtime_gateway_config(
            store=ctx.store,
            secrets=ctx.secrets,
            actor=ctx.principal,
            runtime_id=runtime_id,
            runtime_type=runtime_type,
            public_url=gateway_public_url(request.scope),
            actor_scope=ctx.key_scope,
        )
    else:
        config = await service.runtime_model_config(
            store=ctx.store, actor=ctx.principal, runtime_id=runtime_id, runtime_type=runtime_type
        )
    return JsonResponse(render_model_config(config))
