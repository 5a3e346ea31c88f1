"""Routes of /v1/llms. Each handler parses, calls one service function, renders."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from modelplane.domain.errors import InvalidArgument, PermissionDenied
from modelplane.domain.llm_types import ProviderType
from modelplane.domain.llms import LlmFilter
from modelplane.faces.gateway.probe import probe
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context
from modelplane.faces.native.llm_schemas import (
    CreateLlmOut,
    CredentialsOfLlmOut,
    ListLlmsOut,
    LlmCreateRequest,
    LlmOut,
    LlmUpdateRequest,
    MatchOut,
    ProbeOut,
    VerifyCredentialsIn,
    render_llm,
    render_note,
    render_outline,
    render_probe,
)
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.services import llms as service

router = native_router("/v1/llms", ["llms"])


def _truthy(value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    if value.lower() in ("false", "0", "no", "off", ""):
        return False
    raise InvalidArgument.of("includeCredentials", "must be a boolean")


def _labels(request: Request) -> dict[str, str]:
    """Label filters given as `label.k=v` or `label[k]=v`."""
    labels: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("label.") and len(name) > len("label."):
            labels[name[len("label.") :]] = value
        elif name.startswith("label[") and name.endswith("]") and len(name) > len("label[]"):
            labels[name[len("label[") : -1]] = value
    return labels


@router.post("", status_code=201, response_model=CreateLlmOut)
async def create_llm(body: LlmCreateRequest, request: Request) -> Response:
    """Create an LLM connection (409 when the same connection exists for the owner)."""
    ctx = context(request)
    llm, notes = await service.create_llm(
        store=ctx.store, secrets=ctx.secrets, actor=ctx.principal, spec=body.to_domain()
    )
    content = {"llm": render_llm(llm), "statuses": [render_note(n) for n in notes]}
    return JsonResponse(content, status_code=201)


@router.get("", response_model=ListLlmsOut)
async def list_llms(
    request: Request,
    owner_id: Annotated[str | None, Query(alias="ownerId")] = None,
    owner_id_snake: Annotated[str | None, Query(alias="owner_id")] = None,
    provider_type: Annotated[ProviderType | None, Query(alias="providerType")] = None,
    provider_type_snake: Annotated[ProviderType | None, Query(alias="provider_type")] = None,
) -> Response:
    """List the LLMs the caller may read. Filter labels with `label.k=v` or `label[k]=v`."""
    ctx = context(request)
    flt = LlmFilter(
        owner_id=owner_id or owner_id_snake,
        provider_type=provider_type or provider_type_snake,
        labels=_labels(request),
    )
    llms = await service.list_llms(store=ctx.store, actor=ctx.principal, flt=flt)
    return JsonResponse({"llms": [render_llm(llm) for llm in llms]})


_INCLUDE_CREDENTIALS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "boolean", "default": False},
        "description": "Refused with 403 when true: credentials are write-only.",
    }
    for name in ("includeCredentials", "include_credentials")
]


@router.get("/{llm_id}", response_model=LlmOut, openapi_extra={"parameters": _INCLUDE_CREDENTIALS})
async def get_llm(llm_id: str, request: Request) -> Response:
    """One LLM. Credentials are never returned: `includeCredentials=true` is refused."""
    ctx = context(request)
    query = request.query_params
    if query and _truthy(query.get("includeCredentials") or query.get("include_credentials")):
        raise PermissionDenied("credentials are write-only and never returned")
    llm = await service.get_llm(store=ctx.store, actor=ctx.principal, llm_id=llm_id)
    return JsonResponse(render_llm(llm))


@router.put("/{llm_id}", response_model=LlmOut)
async def update_llm(llm_id: str, body: LlmUpdateRequest, request: Request) -> Response:
    """Change the fields present in the body; `providerType` is immutable."""
    ctx = context(request)
    llm = await service.update_llm(
        store=ctx.store,
        secrets=ctx.secrets,
        actor=ctx.principal,
        llm_id=llm_id,
        patch=body.to_domain(),
    )
    return JsonResponse(render_llm(llm))


@router.delete("/{llm_id}", response_model=DeletedOut)
async def delete_llm(llm_id: str, request: Request) -> Response:
    """Delete an LLM and its stored credentials."""
    ctx = context(request)
    await service.delete_llm(store=ctx.store, actor=ctx.principal, llm_id=llm_id)
    return JsonResponse({"deleted": True, "id": llm_id})


@router.get("/{llm_id}/credentials", response_model=CredentialsOfLlmOut)
async def get_credentials_outline(llm_id: str, request: Request) -> Response:
    """The LLM's credentials without the inline secret: kind, reference, header, prefix."""
    ctx = context(request)
    outline = await service.credentials_outline(
        store=ctx.store, secrets=ctx.secrets, actor=ctx.principal, llm_id=llm_id
    )
    return JsonResponse(render_outline(outline))


@router.post(
    "/{llm_id}:test",
    response_model=ProbeOut,
    description="Send a one-token call to the connection through the gateway's path (its "
    "key, endpoint and the relay's attempts) and report what happened: the upstream's "
    "status, the latency, modelplane's own share of it, and the upstream's error if any.",
)
async def test_llm(llm_id: str, request: Request) -> Response:
    """Test an LLM connection with a one-token call."""
    ctx = context(request)
    report = await probe(state=request.app.state, actor=ctx.principal, llm_id=llm_id)
    return JsonResponse(render_probe(report))


@router.post("/{llm_id}/credentials:verify", response_model=MatchOut)
async def verify_credentials(llm_id: str, body: VerifyCredentialsIn, request: Request) -> Response:
    """Whether the credentials given equal the stored ones (needs UPDATE on the LLM)."""
    ctx = context(request)
    matches = await service.verify_credentials(
        store=ctx.store,
        actor=ctx.principal,
        llm_id=llm_id,
        credentials=body.credentials.to_domain(),
    )
    return JsonResponse({"matches": matches})
