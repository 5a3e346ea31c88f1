"""Runtime bindings, and what a bound runtime sees of its model group."""

from __future__ import annotations

from typing import Any

from modelplane.domain.runtimes import RUNTIME, Binding, BindingOutcome, GatewayAccess
from modelplane.faces.aliyun.rpc.call import Call, Operation
from modelplane.faces.aliyun.rpc.shapes import compact, iso_time
from modelplane.services import runtimes

# What each runtime's row says: `Code` and `HttpStatusCode`, as this face's errors would.
OUTCOME_CODES = {
    Binding.BOUND: ("Success", 200),
    Binding.MOVED: ("Success", 200),
    Binding.UNBOUND: ("Success", 200),
    Binding.HELD: ("Forbidden", 403),
    Binding.NOT_BOUND: (f"{RUNTIME}.NotFound", 404),
}


def _outcomes(outcomes: list[BindingOutcome]) -> dict[str, Any]:
    rows = []
    for o in outcomes:
        code, status = OUTCOME_CODES[o.result]
        rows.append(
            {
                "RuntimeId": o.runtime_id,
                "Success": o.success,
                "Code": code,
                "Message": o.message,
                "HttpStatusCode": status,
            }
        )
    return {"TotalCount": len(outcomes), "Data": rows}


async def config_runtime_model_template(call: Call) -> dict[str, Any]:
    """ConfigRuntimeModelTemplate: bind runtimes to a group, one row per runtime."""
    p = call.params
    outcomes = await runtimes.bind_runtimes(
        store=call.store,
        actor=call.actor,
        group_id=p.required("ModelTemplateId"),
        runtime_ids=p.strings("RuntimeIds", required=True) or [],
        runtime_type=p.text("RuntimeType"),
    )
    return _outcomes(outcomes)


async def remove_runtime_model_template(call: Call) -> dict[str, Any]:
    """RemoveRuntimeModelTemplate: unbind runtimes from a group, one row per runtime."""
    p = call.params
    outcomes = await runtimes.unbind_runtimes(
        store=call.store,
        actor=call.actor,
        group_id=p.required("ModelTemplateId"),
        runtime_ids=p.strings("RuntimeIds", required=True) or [],
        runtime_type=p.text("RuntimeType"),
    )
    return _outcomes(outcomes)


def _gateway(access: GatewayAccess | None) -> dict[str, Any] | None:
    """`Data.Gateway`: how the runtime calls its group through the gateway, if it asked."""
    if access is None:
        return None
    return compact(
        {
            "BaseUrl": access.openai_base_url,
            "AnthropicBaseUrl": access.anthropic_base_url,
            "ApiKey": access.token,
            "ApiKeyId": access.api_key_id,
            "DefaultModel": access.default_model,
            "Models": [{"Model": m.name, "Api": m.api.value} for m in access.models],
        }
    )


async def get_runtime_model_config(call: Call) -> dict[str, Any]:
    """GetRuntimeModelConfig: the bound group, its providers and models, the default; with
    `UseGateway=true` also `Gateway`, how to call them through the gateway."""
    p = call.params
    runtime_id = p.required("RuntimeId")
    if p.boolean("UseGateway"):
        config = await runtimes.runtime_gateway_config(
            store=call.store,
            secrets=call.secrets,
            actor=call.actor,
            runtime_id=runtime_id,
            runtime_type=p.text("RuntimeType"),
            public_url=call.public_url,
        )
    else:
        config = await runtimes.runtime_model_config(
            store=call.store,
            actor=call.actor,
            runtime_id=runtime_id,
            runtime_type=p.text("RuntimeType"),
        )
    providers = [
        {
            "ModelProviderTemplateId": provider.provider_template_id,
            "Name": provider.name,
            "ProviderName": provider.provider_name,
            "LlmInfoList": [
                compact(
                    {
                        "LlmCode": t.llm_code,
                        "Name": t.name,
                        "Description": t.description,
                        "PublishedTime": iso_time(t.created_at),
                    }
                )
                for t in templates
            ],
        }
        for provider, templates in config.providers
    ]
    data = {
        "ModelTemplateId": config.group.model_template_id,
        "ModelTemplateName": config.group.name,
        "DefaultModel": config.default_model,
        "ModelProviderList": providers,
        "Gateway": _gateway(config.gateway),
    }
    return {"Data": compact(data)}


OPERATIONS: dict[str, Operation] = {
    "ConfigRuntimeModelTemplate": config_runtime_model_template,
    "RemoveRuntimeModelTemplate": remove_runtime_model_template,
    "GetRuntimeModelConfig": get_runtime_model_config,
}
