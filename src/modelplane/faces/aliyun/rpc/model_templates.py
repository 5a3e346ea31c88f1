"""Model groups (`ModelTemplate` on the wire): create, list, update, delete."""

from __future__ import annotations

from typing import Any

from modelplane.domain.catalog import GroupFilter, GroupSummary
from modelplane.faces.aliyun.rpc.call import Call, Operation
from modelplane.faces.aliyun.rpc.shapes import compact, json_text, paged
from modelplane.faces.aliyun.rpc.wire import paging
from modelplane.services import catalog


def _row(summary: GroupSummary) -> dict[str, Any]:
    group = summary.group
    return compact(
        {
            "ModelTemplateId": group.model_template_id,
            "Name": group.name,
            "Description": group.description,
            "AgentPlatform": group.agent_platform,
            "AgentProvider": group.agent_provider,
            "RefScope": group.ref_scope,
            "Config": json_text(group.config),
            "ModelCount": summary.model_count,
            "HasModel": summary.model_count > 0,
        }
    )


async def create_model_template(call: Call) -> dict[str, Any]:
    """CreateModelTemplate → `{Data: {ModelTemplateId}}`."""
    p = call.params
    group = await catalog.create_group(
        store=call.store,
        actor=call.actor,
        name=p.required("Name"),
        description=p.text("Description"),
        agent_platform=p.text("AgentPlatform"),
        agent_provider=p.text("AgentProvider"),
        biz_type=p.integer("BizType"),
        ref_scope=p.text("RefScope"),
    )
    return {"Data": {"ModelTemplateId": group.model_template_id}}


async def list_model_templates(call: Call) -> dict[str, Any]:
    """ListModelTemplates; `AgentPlatform`/`AgentProvider` win over their `…List` forms."""
    p = call.params
    platform, provider = p.text("AgentPlatform"), p.text("AgentProvider")
    flt = GroupFilter(
        ids=tuple(p.strings("ModelTemplateIdList") or ()),
        name=p.text("Name"),
        ref_scope=p.text("RefScope"),
        agent_platforms=(platform,) if platform else tuple(p.strings("AgentPlatformList") or ()),
        agent_providers=(provider,) if provider else tuple(p.strings("AgentProviderList") or ()),
        biz_type=p.integer("BizType"),
        has_model=p.boolean("HasModel"),
    )
    page = await catalog.list_groups(store=call.store, actor=call.actor, flt=flt, page=paging(p))
    return paged(page, _row)


async def update_model_template(call: Call) -> dict[str, Any]:
    """UpdateModelTemplate; a `Config` may move the default model pointer."""
    p = call.params
    await catalog.update_group(
        store=call.store,
        actor=call.actor,
        group_id=p.required("ModelTemplateId"),
        name=p.text("Name"),
        description=p.text("Description"),
        ref_scope=p.text("RefScope"),
        config=p.json_object("Config"),
    )
    return {}


async def delete_model_template(call: Call) -> dict[str, Any]:
    """DeleteModelTemplate, with everything the group holds."""
    group_id = call.params.required("ModelTemplateId")
    await catalog.delete_group(store=call.store, actor=call.actor, group_id=group_id)
    return {}


OPERATIONS: dict[str, Operation] = {
    "CreateModelTemplate": create_model_template,
    "ListModelTemplates": list_model_templates,
    "UpdateModelTemplate": update_model_template,
    "DeleteModelTemplate": delete_model_template,
}
