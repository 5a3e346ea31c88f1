"""Routes of /v1/principals and their API keys and access keys.

Admins only, but for a principal's own API keys: a member lists and revokes its own, and
issues itself keys limited to the gateway (within the scope of the key it calls with).
In the API-key routes, the principal `me` is the caller.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from modelplane.domain.key_scopes import MODEL_NAME_MAX, MODELS_MAX, KeyScope
from modelplane.domain.principals import AccessKey, ApiKey, Principal
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context, whose
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.services import principals as service

router = native_router("/v1/principals", ["principals"])


class PrincipalCreate(BaseModel):
    """Body of `POST /v1/principals`."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Unique, 1..128 characters")
    role: str = Field(description="`admin` or `member`")


class KeyCreate(BaseModel):
    """Optional body of `POST …/api-keys`; without a scope, the key does what its
    principal may."""

    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, description="A note for humans, ≤ 128 characters")
    gatewayOnly: bool = Field(
        default=False,
        description="The key calls only the gateway (`/openai/v1`, `/anthropic/v1`): the "
        "management API refuses it (403). Required of a member issuing its own key",
    )
    models: list[str] | None = Field(
        default=None,
        description=f"The model names and groups the key may call at the gateway (1..{MODELS_MAX}, "
        f"each ≤ {MODEL_NAME_MAX} characters, each one the principal may call now). A group, by "
        "id or name, covers every name that resolves through it (`GROUP`, `GROUP/CODE`, "
        "`GROUP/PROVIDER/CODE`); any other name is allowed exactly as listed. Absent: every model",
    )
    expiresAt: int | None = Field(
        default=None,
        description="When the key stops working (epoch ms; in the future, at most 3650 days "
        "ahead). Absent: never",
    )


class ScopedModelOut(BaseModel):
    """One model name or group a key may call."""

    name: str = Field(description="As it was listed")
    modelTemplateId: str | None = Field(
        default=None, description="The model group it names whole (then any of its names)"
    )


class PrincipalOut(BaseModel):
    """A principal."""

    principalId: str
    name: str
    role: str
    createdAt: int


class PrincipalListOut(BaseModel):
    """Every principal."""

    principals: list[PrincipalOut]


class ApiKeyOut(BaseModel):
    """An API key's metadata; the token is never returned again."""

    apiKeyId: str
    principalId: str
    keyPrefix: str
    label: str | None = None
    createdAt: int
    revokedAt: int | None = None
    gatewayOnly: bool = False
    models: list[ScopedModelOut] | None = None
    expiresAt: int | None = None


class IssuedApiKeyOut(BaseModel):
    """A new API key and its token (shown once)."""

    apiKey: ApiKeyOut
    token: str


class ApiKeyListOut(BaseModel):
    """A principal's API keys."""

    apiKeys: list[ApiKeyOut]


class AccessKeyOut(BaseModel):
    """An access key's metadata; the secret is never returned again."""

    accessKeyId: str
    principalId: str
    createdAt: int
    revokedAt: int | None = None


class IssuedAccessKeyOut(AccessKeyOut):
    """A new access-key pair (the secret is shown once)."""

    accessKeySecret: str


class AccessKeyListOut(BaseModel):
    """A principal's access keys."""

    accessKeys: list[AccessKeyOut]


def _principal(p: Principal) -> dict[str, object]:
    return {
        "principalId": p.principal_id,
        "name": p.name,
        "role": p.role.value,
        "createdAt": p.created_at,
    }


def _models(scope: KeyScope) -> list[dict[str, str | None]] | None:
    if scope.models is None:
        return None
    return [{"name": m.name, "modelTemplateId": m.group_id} for m in scope.models]


def _api_key(k: ApiKey) -> dict[str, object]:
    return {
        "apiKeyId": k.api_key_id,
        "principalId": k.principal_id,
        "keyPrefix": k.key_prefix,
        "label": k.label,
        "createdAt": k.created_at,
        "revokedAt": k.revoked_at,
        "gatewayOnly": k.scope.gateway_only,
        "models": _models(k.scope),
        "expiresAt": k.scope.expires_at,
    }


def _access_key(k: AccessKey) -> dict[str, object]:
    return {
        "accessKeyId": k.access_key_id,
        "principalId": k.principal_id,
        "createdAt": k.created_at,
        "revokedAt": k.revoked_at,
    }


@router.post("", status_code=201, response_model=PrincipalOut)
async def create_principal(body: PrincipalCreate, request: Request) -> Response:
    """Create a principal with role `admin` or `member`."""
    ctx = context(request)
    principal = await service.create_principal(
        store=ctx.store, actor=ctx.principal, name=body.name, role=body.role
    )
    return JsonResponse(_principal(principal), status_code=201)


@router.get("", response_model=PrincipalListOut)
async def list_principals(request: Request) -> Response:
    """Every principal."""
    ctx = context(request)
    principals = await service.list_principals(store=ctx.store, actor=ctx.principal)
    return JsonResponse({"principals": [_principal(p) for p in principals]})


@router.get("/{principal_id}", response_model=PrincipalOut)
async def get_principal(principal_id: str, request: Request) -> Response:
    """One principal; `me` is the caller."""
    ctx = context(request)
    principal = await service.get_principal(
        store=ctx.store, actor=ctx.principal, principal_id=whose(principal_id, ctx)
    )
    return JsonResponse(_principal(principal))


@router.delete("/{principal_id}", response_model=DeletedOut)
async def delete_principal(
    principal_id: str,
    request: Request,
    transfer_to: Annotated[
        str | None,
        Query(
            alias="transferTo",
            description="The principal that becomes the owner of everything this one owns "
            "(LLMs, model groups, workspaces, config namespaces). Without it, a principal "
            "that owns anything is not deleted (412).",
        ),
    ] = None,
) -> Response:
    """Delete a principal and its keys (not the last admin), handing what it owns over.

    Its workspace memberships go with it. A transfer that would give the new owner two
    LLMs with the same connection is refused (409) and changes nothing.
    """
    ctx = context(request)
    await service.delete_principal(
        store=ctx.store, actor=ctx.principal, principal_id=principal_id, transfer_to=transfer_to
    )
    return JsonResponse({"deleted": True, "id": principal_id})


@router.post("/{principal_id}/api-keys", status_code=201, response_model=IssuedApiKeyOut)
async def create_api_key(
    principal_id: str,
    request: Request,
    body: KeyCreate | None = None,
) -> Response:
    """Issue an API key, perhaps limited to the gateway, to some models, or in time; the
    token in the answer is shown only this once.

    An admin issues keys for any principal; a member only for itself, limited to the
    gateway and within the models and expiry of the key it calls with.
    """
    ctx = context(request)
    body = body or KeyCreate()
    issued = await service.issue_api_key(
        store=ctx.store,
        actor=ctx.principal,
        principal_id=whose(principal_id, ctx),
        label=body.label,
        gateway_only=body.gatewayOnly,
        models=body.models,
        expires_at=body.expiresAt,
        actor_scope=ctx.key_scope,
    )
    return JsonResponse({"apiKey": _api_key(issued.api_key), "token": issued.token}, 201)


@router.get("/{principal_id}/api-keys", response_model=ApiKeyListOut)
async def list_api_keys(principal_id: str, request: Request) -> Response:
    """A principal's API keys, revoked ones included (a member: its own)."""
    ctx = context(request)
    keys = await service.list_api_keys(
        store=ctx.store, actor=ctx.principal, principal_id=whose(principal_id, ctx)
    )
    return JsonResponse({"apiKeys": [_api_key(k) for k in keys]})


@router.delete("/{principal_id}/api-keys/{api_key_id}", response_model=ApiKeyOut)
async def revoke_api_key(principal_id: str, api_key_id: str, request: Request) -> Response:
    """Revoke an API key; it stops working at once (a member: one of its own)."""
    ctx = context(request)
    key = await service.revoke_api_key(
        store=ctx.store,
        actor=ctx.principal,
        principal_id=whose(principal_id, ctx),
        api_key_id=api_key_id,
    )
    return JsonResponse(_api_key(key))


@router.post("/{principal_id}/access-keys", status_code=201, response_model=IssuedAccessKeyOut)
async def create_access_key(principal_id: str, request: Request) -> Response:
    """Issue an access-key pair for the Alibaba faces; the secret is shown once."""
    ctx = context(request)
    issued = await service.issue_access_key(
        store=ctx.store, secrets=ctx.secrets, actor=ctx.principal, principal_id=principal_id
    )
    body = {**_access_key(issued.access_key), "accessKeySecret": issued.secret}
    return JsonResponse(body, status_code=201)


@router.get("/{principal_id}/access-keys", response_model=AccessKeyListOut)
async def list_access_keys(principal_id: str, request: Request) -> Response:
    """A principal's access keys, revoked ones included."""
    ctx = context(request)
    keys = await service.list_access_keys(
        store=ctx.store, actor=ctx.principal, principal_id=principal_id
    )
    return JsonResponse({"accessKeys": [_access_key(k) for k in keys]})


@router.delete("/{principal_id}/access-keys/{access_key_id}", response_model=AccessKeyOut)
async def revoke_access_key(principal_id: str, access_key_id: str, request: Request) -> Response:
    """Revoke an access key; it stops working at once."""
    ctx = context(request)
    key = await service.revoke_access_key(
        store=ctx.store, actor=ctx.principal, principal_id=principal_id, access_key_id=access_key_id
    )
    return JsonResponse(_access_key(key))
