"""Wire models of runtime bindings, runtime model configs and provider endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from modelplane.domain.paging import Page
from modelplane.domain.provider_endpoints import Provider
from modelplane.domain.runtimes import (
    RUNTIME_TYPE_DEFAULT,
    Binding,
    BindingOutcome,
    BoundRuntime,
    GatewayAccess,
    RuntimeModelConfig,
)
from modelplane.faces.native.llm_schemas import WireModel

# What each runtime's result says: `code` and `httpStatusCode`, as this face's errors would.
OUTCOME_CODES = {
    Binding.BOUND: ("OK", 200),
    Binding.MOVED: ("OK", 200),
    Binding.UNBOUND: ("OK", 200),
    Binding.HELD: ("PERMISSION_DENIED", 403),
    Binding.NOT_BOUND: ("NOT_FOUND", 404),
}


class RuntimesIn(WireModel):
    """Body of `POST /v1/model-groups/{id}/runtimes` and `…/runtimes:remove`."""

    runtime_type: str | None = Field(
        default=None, alias="runtimeType", description=f"`{RUNTIME_TYPE_DEFAULT}` when absent"
    )
    runtime_ids: list[str] = Field(alias="runtimeIds", description="1..100 runtime ids")


class BindingOut(BaseModel):
    """What happened to one runtime."""

    runtimeId: str
    success: bool
    code: str = Field(
        description="`OK`; `PERMISSION_DENIED` when the runtime is bound to a group the "
        "caller may not change (it stays there); `NOT_FOUND` when it is not bound to the group"
    )
    message: str
    httpStatusCode: int = Field(description="The status an error with `code` would have")


class BindingsOut(BaseModel):
    """One result per distinct runtime of the request."""

    results: list[BindingOut]
    totalCount: int


class BoundRuntimeOut(BaseModel):
    """A runtime bound to the group."""

    runtimeType: str
    runtimeId: str
    createdAt: int = Field(description="When it was bound to this group (epoch ms)")


class BoundRuntimesOut(BaseModel):
    """A page of the runtimes bound to a group, by type and then id."""

    runtimes: list[BoundRuntimeOut]
    pageNumber: int
    pageSize: int
    totalCount: int


class RuntimeModelOut(BaseModel):
    """A model a runtime may use."""

    llmTemplateId: str
    llmCode: str
    name: str | None = None
    description: str | None = None
    isDefaultModel: bool


class RuntimeProviderOut(BaseModel):
    """A provider of the runtime's group and its models."""

    providerTemplateId: str
    name: str
    providerName: str
    models: list[RuntimeModelOut]


class GatewayModelOut(BaseModel):
    """A model of the group as the gateway names it."""

    model: str = Field(description="`GROUP/PROVIDER/CODE`, GROUP being the group's id")
    api: str = Field(
        description="`openai` (call it under `baseUrl`) or `anthropic` (under `anthropicBaseUrl`)"
    )


class RuntimeGatewayOut(BaseModel):
    """How the runtime calls its group through the gateway, with no provider's key."""

    baseUrl: str = Field(description="The gateway's OpenAI base URL: `{public URL}/openai/v1`")
    anthropicBaseUrl: str = Field(description="The gateway's Anthropic base: `…/anthropic`")
    apiKey: str = Field(
        description="The token of the binding's API key: limited to the gateway and to this "
        "group, owned by the group's owner; the same on every ask until the binding moves or "
        "goes, the group goes or the key is revoked"
    )
    apiKeyId: str
    defaultModel: str | None = Field(
        description="The group's id, which names its default model (null while it has none)"
    )
    models: list[GatewayModelOut]


class RuntimeModelConfigOut(BaseModel):
    """The group bound to a runtime, its providers and models, and the default model."""

    modelTemplateId: str
    modelTemplateName: str
    defaultModel: str | None = Field(default=None, description="`providerName/llmCode`")
    providers: list[RuntimeProviderOut]
    gateway: RuntimeGatewayOut | None = Field(default=None, description="With `gateway=true` only")


class EndpointOut(BaseModel):
    """One base URL of a well-known provider."""

    name: str
    description: str
    apiType: str
    baseUrl: str
    tags: list[str]


class ProviderEndpointsOut(BaseModel):
    """A well-known provider and its endpoints."""

    providerName: str
    description: str
    providerUrl: str
    endpoints: list[EndpointOut]


class ListProviderEndpointsOut(BaseModel):
    """The built-in catalog of well-known providers."""

    providers: list[ProviderEndpointsOut]


def render_outcomes(outcomes: list[BindingOutcome]) -> dict[str, Any]:
    """The answer of a bind or unbind request."""
    results = []
    for o in outcomes:
        code, status = OUTCOME_CODES[o.result]
        results.append(
            {
                "runtimeId": o.runtime_id,
                "success": o.success,
                "code": code,
                "message": o.message,
                "httpStatusCode": status,
            }
        )
    return {"results": results, "totalCount": len(results)}


def render_bound(page: Page[BoundRuntime]) -> dict[str, Any]:
    """A page of a group's bound runtimes."""
    return {
        "runtimes": [
            {"runtimeType": r.runtime_type, "runtimeId": r.runtime_id, "createdAt": r.created_at}
            for r in page.items
        ],
        "pageNumber": page.number,
        "pageSize": page.size,
        "totalCount": page.total,
    }


def render_gateway(access: GatewayAccess | None) -> dict[str, Any] | None:
    """How a runtime calls its group through the gateway, if it asked."""
    if access is None:
        return None
    return {
        "baseUrl": access.openai_base_url,
        "anthropicBaseUrl": access.anthropic_base_url,
        "apiKey": access.token,
        "apiKeyId": access.api_key_id,
        "defaultModel": access.default_model,
        "models": [{"model": m.name, "api": m.api.value} for m in access.models],
    }


def render_model_config(config: RuntimeModelConfig) -> dict[str, Any]:
    """What a bound runtime sees."""
    return {
        "modelTemplateId": config.group.model_template_id,
        "modelTemplateName": config.group.name,
        "defaultModel": config.default_model,
        "providers": [
            {
                "providerTemplateId": provider.provider_template_id,
                "name": provider.name,
                "providerName": provider.provider_name,
                "models": [
                    {
                        "llmTemplateId": t.llm_template_id,
                        "llmCode": t.llm_code,
                        "name": t.name,
                        "description": t.description,
                        "isDefaultModel": t.is_default_model,
                    }
                    for t in templates
                ],
            }
            for provider, templates in config.providers
        ],
        "gateway": render_gateway(config.gateway),
    }


def render_endpoints(providers: list[Provider]) -> dict[str, Any]:
    """The built-in provider catalog."""
    return {
        "providers": [
            {
                "providerName": p.provider_name,
                "description": p.description,
                "providerUrl": p.provider_url,
                "endpoints": [
                    {
                        "name": e.name,
                        "description": e.description,
                        "apiType": e.api_type,
                        "baseUrl": e.base_url,
                        "tags": list(e.tags),
                    }
                    for e in p.endpoints
                ],
            }
            for p in providers
        ]
    }
