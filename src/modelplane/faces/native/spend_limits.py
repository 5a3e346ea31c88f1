"""Routes of the gateway's limits and budgets: `/v1/principals/{principalId}/limits` and
`/v1/principals/{principalId}/api-keys/{apiKeyId}/limits`.

An admin reads and sets anyone's; a member reads its principal's and its keys', and sets
its keys' within its principal's limits (`services/spend_limits.py`). The principal `me`
is the caller.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context, whose
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.faces.native.spend_limit_schemas import LimitsIn, LimitsOut, render_limits
from modelplane.services import spend_limits as service

router = native_router("/v1/principals", ["limits"])
KEY_LIMITS = "/{principal_id}/api-keys/{api_key_id}/limits"


async def _get(request: Request, principal_id: str, api_key_id: str | None) -> Response:
    ctx = context(request)
    view = await service.get_limits(
        store=ctx.store,
        counters=request.app.state.spend_guard.counters,
        actor=ctx.principal,
        principal_id=whose(principal_id, ctx),
        api_key_id=api_key_id,
    )
    return JsonResponse(render_limits(view))


async def _put(
    request: Request, principal_id: str, api_key_id: str | None, body: LimitsIn
) -> Response:
    ctx = context(request)
    view = await service.set_limits(
        store=ctx.store,
        counters=request.app.state.spend_guard.counters,
        actor=ctx.principal,
        principal_id=whose(principal_id, ctx),
        api_key_id=api_key_id,
        rpm=body.rpm,
        tpm=body.tpm,
        budget=body.budget,
        period=body.period,
    )
    return JsonResponse(render_limits(view))


async def _delete(request: Request, principal_id: str, api_key_id: str | None) -> Response:
    ctx = context(request)
    subject = whose(principal_id, ctx)
    removed = await service.clear_limits(
        store=ctx.store, actor=ctx.principal, principal_id=subject, api_key_id=api_key_id
    )
    return JsonResponse({"deleted": removed, "id": api_key_id or subject})


@router.get("/{principal_id}/limits", response_model=LimitsOut)
async def get_principal_limits(principal_id: str, request: Request) -> Response:
    """A principal's limits at the gateway (over all its keys) and this window's use."""
    return await _get(request, principal_id, None)


@router.put("/{principal_id}/limits", response_model=LimitsOut)
async def set_principal_limits(principal_id: str, body: LimitsIn, request: Request) -> Response:
    """Replace a principal's limits (admins): requests and tokens per minute, a budget per
    UTC day or month. Its keys' calls count together against them."""
    return await _put(request, principal_id, None, body)


@router.delete("/{principal_id}/limits", response_model=DeletedOut)
async def clear_principal_limits(principal_id: str, request: Request) -> Response:
    """Remove a principal's limits (admins); `deleted` is false when it had none."""
    return await _delete(request, principal_id, None)


@router.get(KEY_LIMITS, response_model=LimitsOut)
async def get_key_limits(principal_id: str, api_key_id: str, request: Request) -> Response:
    """An API key's limits at the gateway and this window's use."""
    return await _get(request, principal_id, api_key_id)


@router.put(KEY_LIMITS, response_model=LimitsOut)
async def set_key_limits(
    principal_id: str, api_key_id: str, body: LimitsIn, request: Request
) -> Response:
    """Replace an API key's limits (admins; a member on its own keys, each at most its
    principal's limit of the same name, else 403 naming it). Its principal's apply too."""
    return await _put(request, principal_id, api_key_id, body)


@router.delete(KEY_LIMITS, response_model=DeletedOut)
async def clear_key_limits(principal_id: str, api_key_id: str, request: Request) -> Response:
    """Remove an API key's limits (admins; a member on its own keys)."""
    return await _delete(request, principal_id, api_key_id)
