"""Liveness and readiness probes (no authentication, nothing revealed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from modelplane.faces.jsonresponse import JsonResponse
from modelplane.store.uow import Store

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    """Probe answer."""

    status: str
    reason: str | None = Field(
        default=None, description="Why the replica is not ready (with 503 only)"
    )


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> Response:
    """The process is alive."""
    return JsonResponse({"status": "ok"})


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def readyz(request: Request) -> Response:
    """The store answers and its schema is one this version serves; 503 with the reason else."""
    store: Store = request.app.state.store
    problem = await store.readiness()
    if problem is None:
        return JsonResponse({"status": "ready"})
    return JsonResponse({"status": "unavailable", "reason": problem}, status_code=503)
