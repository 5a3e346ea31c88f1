"""A gateway call that names a prompt template: what `prompt` may hold, and the body sent."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane.domain.chat_prompts import ChatMessage
from modelplane.domain.errors import InvalidArgument
from modelplane.domain.gateway import Operation
from modelplane.domain.gateway_prompts import (
    PromptCall,
    missing_variables,
    prompt_of,
    with_prompt,
)

CHAT = Operation.CHAT
SYSTEM = ChatMessage("system", "You are terse.")
USER = ChatMessage("user", "Hi Ada")


def fields(error: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in error.value.violations]


def test_a_call_without_prompt_names_none() -> None:
    assert prompt_of({"model": "m", "messages": []}, CHAT) is None


def test_the_production_label_is_served_unless_a_label_or_version_is_named() -> None:
    given = {"id": "ws-one/greeting", "variables": {"name": "Ada"}}
    assert prompt_of({"prompt": given}, CHAT) == PromptCall(
        "ws-one", "greeting", "production", None, {"name": "Ada"}
    )
    staged = prompt_of({"prompt": {**given, "label": "staging"}}, CHAT)
    assert staged is not None and (staged.label, staged.version) == ("staging", None)
    pinned = prompt_of({"prompt": {**given, "version": "3"}}, Operation.RESPONSES)
    assert pinned is not None and (pinned.label, pinned.version) == (None, 3)


@pytest.mark.parametrize(
    ("prompt", "field"),
    [
        ({"id": "greeting"}, "prompt.id"),
        ({"id": "/greeting"}, "prompt.id"),
        ({"id": 7}, "prompt.id"),
        ({"id": "ws/g", "label": "Prod!"}, "prompt.label"),
        ({"id": "ws/g", "version": 0}, "prompt.version"),
        ({"id": "ws/g", "version": True}, "prompt.version"),
        ({"id": "ws/g", "version": "v2"}, "prompt.version"),
        ({"id": "ws/g", "version": 2, "label": "staging"}, "prompt.version"),
        ({"id": "ws/g", "variables": ["a"]}, "prompt.variables"),
        ({"id": "ws/g", "variables": {"name": 1}}, "prompt.variables.name"),
        ({"id": "ws/g", "vars": {}}, "prompt.vars"),
    ],
)
def test_a_bad_prompt_names_the_field_and_the_rule(prompt: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        prompt_of({"prompt": prompt}, CHAT)
    assert field in fields(error)


def test_only_chat_completions_and_responses_take_a_prompt() -> None:
    for operation in (Operation.EMBEDDINGS, Operation.COMPLETIONS, Operation.MESSAGES):
        assert prompt_of({"prompt": "Say this is a test"}, operation) is None  # their own
    with pytest.raises(InvalidArgument) as error:
        prompt_of({"prompt": "ws/g"}, CHAT)
    assert fields(error) == ["prompt"]


def test_missing_variables_are_named_under_prompt_variables() -> None:
    error = missing_variables(["city", "name"])
    assert [v.field for v in error.violations] == ["prompt.variables.city", "prompt.variables.name"]


def test_the_rendered_messages_come_before_the_calls_own_and_the_config_fills_the_rest() -> None:
    body = {
        "prompt": {"id": "ws/g"},
        "messages": [{"role": "user", "content": "And?"}],
        "temperature": 0.1,
    }
    config = {"model": "assistants", "temperature": 0.9, "max_tokens": 64}
    sent = with_prompt(body, CHAT, [SYSTEM, USER], config)
    assert sent == {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi Ada"},
            {"role": "user", "content": "And?"},
        ],
        "temperature": 0.1,  # the call's own wins
        "model": "assistants",
        "max_tokens": 64,
    }
    assert "prompt" in body  # the call's body is left as it was
    assert with_prompt({"prompt": {}}, CHAT, [USER], None) == {
        "messages": [{"role": "user", "content": "Hi Ada"}]
    }


def test_a_response_gets_the_messages_as_input_and_the_config_as_responses_spell_it() -> None:
    config = {
        "max_tokens": 64,
        "stop": ["\n"],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
    }
    sent = with_prompt({"input": "And?"}, Operation.RESPONSES, [USER], config)
    assert sent == {
        "input": [{"role": "user", "content": "Hi Ada"}, {"role": "user", "content": "And?"}],
        "max_output_tokens": 64,
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {}}},
    }


def test_a_calls_messages_that_are_not_a_list_are_refused() -> None:
    with pytest.raises(InvalidArgument) as error:
        with_prompt({"messages": "hi"}, CHAT, [USER], None)
    assert fields(error) == ["messages"]


def test_an_empty_model_is_left_to_the_config() -> None:
    sent = with_prompt({"model": "", "messages": []}, CHAT, [USER], {"model": "assistants"})
    assert sent["model"] == "assistants"
    kept = with_prompt({"model": "mine", "messages": []}, CHAT, [USER], {"model": "assistants"})
    assert kept["model"] == "mine"
