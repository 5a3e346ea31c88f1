"""Liveness and readiness probes (no authentication, nothing revealed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from modelplane.faces.jsonresponse import JsonResponse
from modelplane.store.uow import Store

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    """Probe answer."""

    status: str


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> Response:
    """The process is alive."""
    return JsonResponse({"status": "ok"})


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def readyz(request: Request) -> Response:
    """The store answers; 503 while it does not."""
    store: Store = request.app.state.store
    if await store.ping():
        return JsonResponse({"status": "ready"})
    return JsonResponse({"status": "unavailable"}, status_code=503)
