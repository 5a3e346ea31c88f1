"""Wire models of the model catalog (groups, provider templates, LLM templates) and renderers.

Requests refuse unknown fields and check types; every domain rule is checked by the domain.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from modelplane.domain.catalog import (
    REF_SCOPES,
    BatchItem,
    GroupSummary,
    LlmTemplate,
    ModelGroup,
    ProviderKind,
    ProviderTemplate,
)
from modelplane.domain.paging import Page
from modelplane.faces.native.llm_schemas import JsonObject, WireModel

_REF_SCOPE = f"One of {', '.join(REF_SCOPES)}."
_CONFIG = "Replaces the whole `config` object; `defaults.model.primary` moves the default model."


def split_ids(values: list[str] | None) -> tuple[str, ...]:
    """Ids given as repeated parameters, comma-separated, or both."""
    return tuple(i.strip() for v in values or () for i in v.split(",") if i.strip())


# --- requests -------------------------------------------------------------------------------


class GroupCreate(WireModel):
    """Body of `POST /v1/model-groups`."""

    name: str = Field(description="1..128 characters")
    description: str | None = None
    agent_platform: str | None = Field(default=None, alias="agentPlatform")
    agent_provider: str | None = Field(default=None, alias="agentProvider")
    biz_type: int | None = Field(default=None, alias="bizType")
    ref_scope: str | None = Field(default=None, alias="refScope", description=_REF_SCOPE)
    model_template_id: str | None = Field(
        default=None,
        alias="modelTemplateId",
        description="Chosen by the client, e.g. `mt-support`: `mt-` then 1..29 of "
        "`[a-z0-9-]`, starting with a letter or digit. Generated when absent; a taken id "
        "is 409.",
    )
    owner_id: str | None = Field(
        default=None,
        alias="ownerId",
        description="The principal that will own it (default: the caller); another "
        "principal needs the admin role (403)",
    )


class GroupPatch(WireModel):
    """Body of `PATCH /v1/model-groups/{id}`: only the fields given (not null) change."""

    name: str | None = None
    description: str | None = None
    ref_scope: str | None = Field(default=None, alias="refScope", description=_REF_SCOPE)
    config: JsonObject | None = Field(default=None, description=_CONFIG)
    default_model: str | None = Field(
        default=None,
        alias="defaultModel",
        description='`providerName/llmCode` of a model in the group; "" removes the default.',
    )


class ProviderConfigIn(WireModel):
    """A provider's endpoint and API key (the key is sealed at rest and never returned)."""

    base_url: str | None = Field(default=None, alias="baseUrl")
    api: str | None = None
    api_type: str | None = Field(default=None, alias="apiType", description="Same as `api`.")
    api_key: str | None = Field(default=None, alias="apiKey")

    def config_fields(self, *, only_given: bool) -> dict[str, Any]:
        """The fields as the services take them (`apiType` is `api` unless `api` is given);
        `only_given` keeps explicit nulls (they clear)."""
        if only_given:
            given = self.model_dump(by_alias=True, exclude_unset=True)
        else:
            given = self.model_dump(by_alias=True, exclude_none=True)
        api_type = {"api": given.pop("apiType")} if "apiType" in given else {}
        return api_type | given


class ProviderCreate(WireModel):
    """Body of `POST /v1/provider-templates`."""

    model_template_id: str = Field(alias="modelTemplateId")
    name: str = Field(description="1..128 characters")
    provider_name: str = Field(
        alias="providerName",
        description="Unique in the group; `provider-…` for Custom, `wuying-credit` for "
        "WuyingCredit",
    )
    provider_type: ProviderKind = Field(alias="providerType")
    config: ProviderConfigIn | None = None
    description: str | None = None
    enable_wuying_proxy: bool = Field(default=False, alias="enableWuyingProxy")


class ProviderPatch(WireModel):
    """Body of `PATCH /v1/provider-templates/{id}`: only what is given changes.

    In `config`, a key that is absent stays as it is; `null` or `""` clears it.
    """

    name: str | None = None
    description: str | None = None
    enable_wuying_proxy: bool | None = Field(default=None, alias="enableWuyingProxy")
    config: ProviderConfigIn | None = None


class BatchItemIn(WireModel):
    """One LLM template of a batch."""

    llm_code: str = Field(alias="llmCode", description="Unique per provider template")
    name: str | None = None
    description: str | None = None
    config: JsonObject | None = None
    is_default_model: bool = Field(default=False, alias="isDefaultModel")

    def to_domain(self) -> BatchItem:
        """The domain value."""
        return BatchItem(
            llm_code=self.llm_code,
            name=self.name,
            description=self.description,
            config=self.config,
            is_default_model=self.is_default_model,
        )


class LlmTemplatePatch(WireModel):
    """Body of `PATCH /v1/llm-templates/{id}`: only the fields given (not null) change;
    the id, the code and the default flag stay."""

    llm_code: str | None = Field(
        default=None,
        alias="llmCode",
        description="Cannot change: if given, it must equal the stored code (else 400). "
        "Add a model with the new code and delete this one instead.",
    )
    name: str | None = Field(default=None, description="At most 128 characters")
    description: str | None = None
    config: JsonObject | None = Field(
        default=None, description="Replaces the whole `config` object; `{}` clears it."
    )


class BatchCreate(WireModel):
    """Body of `POST /v1/llm-templates:batchCreate`."""

    provider_template_id: str = Field(alias="providerTemplateId")
    model_template_id: str | None = Field(
        default=None, alias="modelTemplateId", description="If given, the provider's group"
    )
    items: list[BatchItemIn] = Field(
        description="Existing codes and repeats are skipped; at most one default"
    )


class VerifyApiKeyIn(WireModel):
    """Body of `POST /v1/provider-templates/{id}:verifyApiKey`."""

    api_key: str = Field(alias="apiKey", description='The key to compare; "" matches no key')


# --- responses ------------------------------------------------------------------------------


class ModelGroupOut(BaseModel):
    """A model group."""

    modelTemplateId: str
    ownerId: str
    name: str
    description: str | None = None
    agentPlatform: str | None = None
    agentProvider: str | None = None
    bizType: int | None = None
    refScope: str | None = None
    config: dict[str, Any]
    defaultModel: str | None = Field(default=None, description="`providerName/llmCode`")
    createdAt: int
    updatedAt: int


class ModelGroupSummaryOut(ModelGroupOut):
    """A model group with the number of LLM templates it holds (in a get and in a list)."""

    modelCount: int = Field(description="How many LLM templates (models) the group holds")


class PageOut(BaseModel):
    """Paging of a list answer (page 0 and page 1 are both the first page)."""

    pageNumber: int
    pageSize: int
    totalCount: int


class ListModelGroupsOut(PageOut):
    """A page of model groups."""

    modelGroups: list[ModelGroupSummaryOut]


class ProviderConfigOut(BaseModel):
    """A provider's endpoint as shown: the API key only as a masked hint."""

    baseUrl: str | None = None
    api: str | None = None
    apiKey: str | None = Field(default=None, description="Masked, e.g. `sk-****abcd`")


class ProviderTemplateOut(BaseModel):
    """A provider template (its API key is never returned)."""

    providerTemplateId: str
    modelTemplateId: str
    ownerId: str
    name: str
    providerName: str
    providerType: ProviderKind
    description: str | None = None
    config: ProviderConfigOut
    hasApiKey: bool
    enableWuyingProxy: bool
    createdAt: int
    updatedAt: int


class ListProviderTemplatesOut(PageOut):
    """A page of provider templates."""

    providerTemplates: list[ProviderTemplateOut]


class LlmTemplateOut(BaseModel):
    """An LLM template."""

    llmTemplateId: str
    providerTemplateId: str
    modelTemplateId: str
    llmCode: str
    name: str | None = None
    description: str | None = None
    config: dict[str, Any]
    isDefaultModel: bool
    createdAt: int


class ListLlmTemplatesOut(PageOut):
    """A page of LLM templates."""

    llmTemplates: list[LlmTemplateOut]


class SkippedOut(BaseModel):
    """A batch item that was not created, and why."""

    llmCode: str
    reason: str


class BatchCreateOut(BaseModel):
    """Answer of a batch: `successCount + len(skippedItems) == totalCount`."""

    llmTemplateIds: list[str]
    successCount: int
    totalCount: int
    skippedItems: list[SkippedOut]


# --- renderers ------------------------------------------------------------------------------


def render_group(group: ModelGroup) -> dict[str, Any]:
    """The wire form of a model group."""
    return {
        "modelTemplateId": group.model_template_id,
        "ownerId": group.owner_id,
        "name": group.name,
        "description": group.description,
        "agentPlatform": group.agent_platform,
        "agentProvider": group.agent_provider,
        "bizType": group.biz_type,
        "refScope": group.ref_scope,
        "config": group.config,
        "defaultModel": group.default_model,
        "createdAt": group.created_at,
        "updatedAt": group.updated_at,
    }


def render_group_summary(summary: GroupSummary) -> dict[str, Any]:
    """The wire form of a model group with its model count (a get, an item of a list)."""
    return {**render_group(summary.group), "modelCount": summary.model_count}


def render_provider(provider: ProviderTemplate) -> dict[str, Any]:
    """The wire form of a provider template, its API key masked."""
    return {
        "providerTemplateId": provider.provider_template_id,
        "modelTemplateId": provider.model_template_id,
        "ownerId": provider.owner_id,
        "name": provider.name,
        "providerName": provider.provider_name,
        "providerType": provider.provider_type.value,
        "description": provider.description,
        "config": provider.masked_config,
        "hasApiKey": provider.has_api_key,
        "enableWuyingProxy": provider.enable_wuying_proxy,
        "createdAt": provider.created_at,
        "updatedAt": provider.updated_at,
    }


def render_template(template: LlmTemplate) -> dict[str, Any]:
    """The wire form of an LLM template."""
    return {
        "llmTemplateId": template.llm_template_id,
        "providerTemplateId": template.provider_template_id,
        "modelTemplateId": template.model_template_id,
        "llmCode": template.llm_code,
        "name": template.name,
        "description": template.description,
        "config": template.config,
        "isDefaultModel": template.is_default_model,
        "createdAt": template.created_at,
    }


def render_page(page: Page[Any], key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A list answer: `items` under `key`, with the paging of `page`."""
    return {key: items, "pageNumber": page.number, "pageSize": page.size, "totalCount": page.total}
