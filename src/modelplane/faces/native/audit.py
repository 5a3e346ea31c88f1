"""Route of /v1/audit-events: the audit log, newest first (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from modelplane.domain.audit import AuditEvent
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context
from modelplane.faces.native.routing import router as native_router
from modelplane.services import audit as service

router = native_router("/v1/audit-events", ["audit"])


class AuditEventOut(BaseModel):
    """One recorded change."""

    eventId: str
    at: int
    actorId: str | None = None
    face: str
    requestId: str | None = None
    action: str
    resourceType: str
    resourceId: str
    details: dict[str, Any]


class AuditEventListOut(BaseModel):
    """A page of audit events, newest first."""

    auditEvents: list[AuditEventOut]
    nextPageToken: str | None = None


def render_event(event: AuditEvent) -> dict[str, Any]:
    """An event in the native spelling."""
    return {
        "eventId": event.event_id,
        "at": event.at,
        "actorId": event.actor_id,
        "face": event.face,
        "requestId": event.request_id,
        "action": event.action.value,
        "resourceType": event.resource_type.value,
        "resourceId": event.resource_id,
        "details": event.details,
    }


@router.get("", response_model=AuditEventListOut)
async def list_audit_events(
    request: Request,
    principal_id: Annotated[
        str | None, Query(alias="principalId", description="Only changes by this principal")
    ] = None,
    resource_type: Annotated[
        str | None,
        Query(alias="resourceType", description="Only changes of this kind of resource"),
    ] = None,
    resource_id: Annotated[
        str | None, Query(alias="resourceId", description="Only changes of this resource")
    ] = None,
    action: Annotated[
        str | None, Query(description="Only this action: create, update, delete, …")
    ] = None,
    face: Annotated[
        str | None, Query(description="Only changes made through this face: native, console, …")
    ] = None,
    since: Annotated[
        int | None, Query(description="Only changes at or after this time (epoch ms)")
    ] = None,
    until: Annotated[
        int | None, Query(description="Only changes before this time (epoch ms)")
    ] = None,
    page_size: Annotated[
        int | None,
        Query(alias="pageSize", description=f"1..{service.PAGE_SIZE_MAX}; 100 when absent"),
    ] = None,
    page_token: Annotated[
        str | None, Query(alias="pageToken", description="`nextPageToken` of the page before")
    ] = None,
) -> Response:
    """Every change (who, what, when, request id, face), newest first; admins only."""
    ctx = context(request)
    page = await service.list_events(
        store=ctx.store,
        actor=ctx.principal,
        principal_id=principal_id,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        face=face,
        since=since,
        until=until,
        page_size=page_size,
        page_token=page_token,
    )
    return JsonResponse(
        {
            "auditEvents": [render_event(e) for e in page.events],
            "nextPageToken": page.next_page_token,
        }
    )
