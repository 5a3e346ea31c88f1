"""Model provider templates: create, get, list, update, delete. Keys show only masked."""

from __future__ import annotations

from typing import Any

from modelplane.domain.catalog import ProviderFilter, ProviderTemplate
from modelplane.faces.aliyun.rpc.call import Call, Operation
from modelplane.faces.aliyun.rpc.shapes import compact, json_text, paged
from modelplane.faces.aliyun.rpc.wire import Params, paging
from modelplane.services import catalog

# `Config` keys in any case, as the services name them; `ApiType` is `api` unless `Api` is given.
_CONFIG_KEYS = {"baseurl": "baseUrl", "api": "api", "apikey": "apiKey"}
_API_TYPE = "apitype"


def _row(provider: ProviderTemplate) -> dict[str, Any]:
    return compact(
        {
            "ProviderTemplateId": provider.provider_template_id,
            "Name": provider.name,
            "ProviderName": provider.provider_name,
            "Description": provider.description,
            "EnableWuyingProxy": provider.enable_wuying_proxy,
            "Config": json_text(provider.masked_config),
        }
    )


def _config(p: Params) -> dict[str, Any] | None:
    """`Config` with its keys as the services name them (any other key as sent, for the
    services to refuse)."""
    given = p.json_object("Config")
    if given is None:
        return None
    api_types = [v for k, v in given.items() if k.lower() == _API_TYPE]
    named = {_CONFIG_KEYS.get(k.lower(), k): v for k, v in given.items() if k.lower() != _API_TYPE}
    return {"api": api_types[-1], **named} if api_types else named


def _listed(provider: ProviderTemplate) -> dict[str, Any]:
    return {**_row(provider), "ProviderType": provider.provider_type.value}


async def create_model_provider_template(call: Call) -> dict[str, Any]:
    """CreateModelProviderTemplate → `{Data: {ProviderTemplateId}}`; `Name` defaults to
    `ProviderName`, as the SDK marks it optional."""
    p = call.params
    provider_name = p.required("ProviderName")
    provider = await catalog.create_provider(
        store=call.store,
        secrets=call.secrets,
        actor=call.actor,
        group_id=p.required("ModelTemplateId"),
        name=p.text("Name") or provider_name,
        provider_name=provider_name,
        provider_type=p.required("ProviderType"),
        config=_config(p),
        description=p.text("Description"),
        enable_wuying_proxy=p.boolean("EnableWuyingProxy") is True,
    )
    return {"Data": {"ProviderTemplateId": provider.provider_template_id}}


async def get_model_provider_template(call: Call) -> dict[str, Any]:
    """GetModelProviderTemplate → `{Data: {…, Config}}` with the API key masked."""
    provider = await catalog.get_provider(
        store=call.store,
        actor=call.actor,
        provider_template_id=call.params.required("ProviderTemplateId"),
    )
    return {"Data": _row(provider)}


async def list_model_provider_templates(call: Call) -> dict[str, Any]:
    """ListModelProviderTemplates, filtered by group, provider name or ids."""
    p = call.params
    flt = ProviderFilter(
        model_template_id=p.text("ModelTemplateId"),
        provider_name=p.text("ProviderName"),
        ids=tuple(p.strings("ProviderTemplateIds") or ()),
    )
    page = await catalog.list_providers(store=call.store, actor=call.actor, flt=flt, page=paging(p))
    return paged(page, _listed)


async def update_model_provider_template(call: Call) -> dict[str, Any]:
    """UpdateModelProviderTemplate: only what is given changes (`Config` keys too)."""
    p = call.params
    await catalog.update_provider(
        store=call.store,
        secrets=call.secrets,
        actor=call.actor,
        provider_template_id=p.required("ProviderTemplateId"),
        name=p.text("Name"),
        description=p.text("Description"),
        enable_wuying_proxy=p.boolean("EnableWuyingProxy"),
        config=_config(p),
    )
    return {}


async def delete_model_provider_template(call: Call) -> dict[str, Any]:
    """DeleteModelProviderTemplate with its LLM templates."""
    await catalog.delete_provider(
        store=call.store,
        actor=call.actor,
        provider_template_id=call.params.required("ProviderTemplateId"),
    )
    return {}


OPERATIONS: dict[str, Operation] = {
    "CreateModelProviderTemplate": create_model_provider_template,
    "GetModelProviderTemplate": get_model_provider_template,
    "ListModelProviderTemplates": list_model_provider_templates,
    "UpdateModelProviderTemplate": update_model_provider_template,
    "DeleteModelProviderTemplate": delete_model_provider_template,
}
