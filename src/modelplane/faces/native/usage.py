"""Routes of /v1/usage: the gateway's usage, grouped (from the daily rollups), and its
records, newest first. Members see their own; admins everyone's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from modelplane.domain.usage import PAGE_SIZE_MAX
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context
from modelplane.faces.native.routing import router as native_router
from modelplane.faces.native.usage_schemas import (
    UsageRecordPageOut,
    UsageReportOut,
    render_records,
    render_report,
)
from modelplane.services import usage as service

router = native_router("/v1/usage", ["usage"])

PrincipalId = Annotated[
    str | None, Query(alias="principalId", description="Only this principal's calls")
]
ApiKeyId = Annotated[str | None, Query(alias="apiKeyId", description="Only this key's calls")]
Model = Annotated[str | None, Query(description="Only calls of this model name")]
Status = Annotated[
    str | None, Query(description="Only this status (`429`) or class of them (`5xx`)")
]
PageSize = Annotated[
    int | None, Query(alias="pageSize", description=f"1..{PAGE_SIZE_MAX}; 100 when absent")
]
PageToken = Annotated[
    str | None, Query(alias="pageToken", description="`nextPageToken` of the page before")
]


@router.get("", response_model=UsageReportOut)
async def usage_report(
    request: Request,
    group_by: Annotated[
        list[str] | None,
        Query(
            alias="groupBy",
            description="Any of day, principal, key, model, member: repeated or "
            "comma-separated (none: one total)",
        ),
    ] = None,
    first: Annotated[
        str | None,
        Query(alias="from", description="First day, YYYY-MM-DD (UTC); 29 days before `to`"),
    ] = None,
    last: Annotated[
        str | None,
        Query(alias="to", description="Last day, inclusive (at most 366 days); today"),
    ] = None,
    principal_id: PrincipalId = None,
    api_key_id: ApiKeyId = None,
    model: Model = None,
    status: Status = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> Response:
    """Calls, tokens, cost and latency summed per group, groups in order (day first)."""
    ctx = context(request)
    report = await service.report(
        store=ctx.store,
        actor=ctx.principal,
        group_by=group_by or (),
        first=first,
        last=last,
        principal_id=principal_id,
        api_key_id=api_key_id,
        model=model,
        status=status,
        page_size=page_size,
        page_token=page_token,
    )
    return JsonResponse(render_report(report))


@router.get("/records", response_model=UsageRecordPageOut)
async def usage_records(
    request: Request,
    since: Annotated[
        int | None, Query(description="Calls that ended at or after (epoch ms); a day ago")
    ] = None,
    until: Annotated[
        int | None, Query(description="Calls that ended before (epoch ms; at most 7 days on)")
    ] = None,
    principal_id: PrincipalId = None,
    api_key_id: ApiKeyId = None,
    model: Model = None,
    status: Status = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> Response:
    """Every gateway call, newest first, kept for the retention period."""
    ctx = context(request)
    page = await service.records(
        store=ctx.store,
        actor=ctx.principal,
        since=since,
        until=until,
        principal_id=principal_id,
        api_key_id=api_key_id,
        model=model,
        status=status,
        page_size=page_size,
        page_token=page_token,
    )
    return JsonResponse(render_records(page))
