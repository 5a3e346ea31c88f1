"""Prompt templates served at the gateway: the call's body with the template it names
rendered in (`domain/gateway_prompts.py` says how)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelplane.domain.chat_prompts import ChatMessage, PromptKind
from modelplane.domain.gateway import Operation
from modelplane.domain.gateway_prompts import missing_variables, prompt_of, with_prompt
from modelplane.domain.principals import Principal
from modelplane.domain.prompts import PromptTemplate
from modelplane.services.prompts import render_prompt_template
from modelplane.store.uow import Store


async def prompted_body(
    *, store: Store, actor: Principal, body: Mapping[str, Any], operation: Operation
) -> tuple[Mapping[str, Any], PromptTemplate | None]:
    """`body` with the template its `prompt` names rendered in, and that template at the
    version served; `body` as it is, and None, when it names none."""
    call = prompt_of(body, operation)
    if call is None:
        return body, None
    template, rendered = await render_prompt_template(
        store=store,
        actor=actor,
        workspace_id=call.workspace_id,
        template_id=call.template,
        variables=call.variables,
        allow_partial=True,
        version=call.version,
        label=call.label,
    )
    if rendered.missing:
        raise missing_variables(rendered.missing)
    messages = (
        rendered.messages
        if template.kind is PromptKind.CHAT
        else (ChatMessage("user", rendered.text),)
    )
    return with_prompt(body, operation, messages, template.config), template
