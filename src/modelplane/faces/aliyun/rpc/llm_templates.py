"""LLM templates: batch creation, list, delete."""

from __future__ import annotations

from typing import Any

from modelplane.domain.catalog import BatchItem, LlmTemplate, TemplateFilter
from modelplane.faces.aliyun.rpc.call import Call, Operation
from modelplane.faces.aliyun.rpc.shapes import compact, iso_time, json_text, paged
from modelplane.faces.aliyun.rpc.wire import Params, paging
from modelplane.services import catalog


def _item(item: Params) -> BatchItem:
    return BatchItem(
        llm_code=item.text("LlmCode"),
        name=item.text("Name"),
        description=item.text("Description"),
        config=item.json_object("Config"),
        is_default_model=item.boolean("IsDefaultModel") is True,
    )


def _row(template: LlmTemplate) -> dict[str, Any]:
    return compact(
        {
            "LlmTemplateId": template.llm_template_id,
            "ProviderTemplateId": template.provider_template_id,
            "LlmCode": template.llm_code,
            "Name": template.name,
            "Description": template.description,
            "Config": json_text(template.config),
            "IsDefaultModel": template.is_default_model,
            "PublishedTime": iso_time(template.created_at),
        }
    )


async def batch_create_llm_templates(call: Call) -> dict[str, Any]:
    """BatchCreateLlmTemplates → created ids, counts and the skipped items with reasons."""
    p = call.params
    result = await catalog.batch_create_llm_templates(
        store=call.store,
        actor=call.actor,
        provider_template_id=p.required("ProviderTemplateId"),
        items=[_item(item) for item in p.objects("LlmTemplateItems") or []],
        model_template_id=p.text("ModelTemplateId") or None,
    )
    return {
        "Data": {
            "LlmTemplateIds": result.llm_template_ids,
            "SuccessCount": len(result.llm_template_ids),
            "TotalCount": result.total,
            "SkippedItems": [{"LlmCode": s.llm_code, "Reason": s.reason} for s in result.skipped],
        }
    }


async def list_llm_templates(call: Call) -> dict[str, Any]:
    """ListLlmTemplates, filtered by group, provider, code or ids."""
    p = call.params
    flt = TemplateFilter(
        model_template_id=p.text("ModelTemplateId"),
        provider_template_id=p.text("ProviderTemplateId"),
        llm_code=p.text("LlmCode"),
        ids=tuple(p.strings("LlmTemplateIds") or ()),
    )
    page = await catalog.list_llm_templates(
        store=call.store, actor=call.actor, flt=flt, page=paging(p)
    )
    return paged(page, _row)


async def delete_llm_template(call: Call) -> dict[str, Any]:
    """DeleteLlmTemplate; deleting the default clears the group's pointer."""
    await catalog.delete_llm_template(
        store=call.store,
        actor=call.actor,
        llm_template_id=call.params.required("LlmTemplateId"),
    )
    return {}


OPERATIONS: dict[str, Operation] = {
    "BatchCreateLlmTemplates": batch_create_llm_templates,
    "ListLlmTemplates": list_llm_templates,
    "DeleteLlmTemplate": delete_llm_template,
}
