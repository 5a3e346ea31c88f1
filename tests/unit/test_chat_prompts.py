"""Chat templates and a version's config in the domain: messages are checked and named by
index, rendering fills every message at once, a config's known names are checked."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane.domain.chat_prompts import (
    CONFIG_MAX_BYTES,
    MESSAGES_MAX,
    ChatMessage,
    PromptKind,
    check_config,
)
from modelplane.domain.errors import InvalidArgument
from modelplane.domain.prompts import CONTENT_MAX, Body, new_template, render_template

CHAT = (
    ChatMessage("system", "You answer in ${language}."),
    ChatMessage("user", "Tell ${who} about ${topic}, in ${language}."),
)


def chat(messages: Any = CHAT, config: Any = None) -> Body:
    return Body.of(content=None, messages=messages, config=config)


def test_a_chat_template_shows_its_messages_as_text_and_reads_their_variables() -> None:
    template = new_template(workspace_id="ws", name="n", body=chat(), actor_id="a", now_ms=1)
    assert template.kind is PromptKind.CHAT and template.messages == CHAT
    assert template.content == (
        "system: You answer in ${language}.\n\nuser: Tell ${who} about ${topic}, in ${language}."
    )
    assert template.variables == ("language", "who", "topic")


def test_rendering_fills_every_message_and_names_every_missing_variable_at_once() -> None:
    template = new_template(workspace_id="ws", name="n", body=chat(), actor_id="a", now_ms=1)
    values = {"language": "French", "who": "Ada", "topic": "tea", "extra": "x"}
    rendered = render_template(template, values)
    assert rendered.messages == (
        ChatMessage("system", "You answer in French."),
        ChatMessage("user", "Tell Ada about tea, in French."),
    )
    assert rendered.unused == ("extra",)
    with pytest.raises(InvalidArgument) as caught:
        render_template(template, {"language": "French"})
    assert [v.field for v in caught.value.violations] == ["variables.who", "variables.topic"]
    partial = render_template(template, {"language": "French"}, allow_partial=True)
    assert partial.messages[1].content == "Tell ${who} about ${topic}, in French."
    with pytest.raises(InvalidArgument) as too_big:
        render_template(template, {**values, "topic": "t" * 2000}, max_bytes=1000)
    assert [v.field for v in too_big.value.violations] == ["variables"]


@pytest.mark.parametrize(
    ("messages", "fields"),
    [
        ([], ["messages"]),
        ([ChatMessage("user", "x")] * (MESSAGES_MAX + 1), ["messages"]),
        (
            [ChatMessage("robot", "x"), ChatMessage("user", "x" * (CONTENT_MAX + 1))],
            ["messages.0.role", "messages.1.content"],
        ),
        ([ChatMessage("user", "x" * CONTENT_MAX)], ["messages"]),
    ],
)
def test_bad_messages_are_named_by_index(messages: Any, fields: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        chat(messages)
    assert [v.field for v in caught.value.violations] == fields


def test_content_and_messages_are_one_or_the_other() -> None:
    with pytest.raises(InvalidArgument) as both:
        Body.of(content="x", messages=CHAT, config=None)
    assert [v.field for v in both.value.violations] == ["messages"]
    with pytest.raises(InvalidArgument) as neither:
        Body.of(content=None, messages=None, config=None)
    assert [v.field for v in neither.value.violations] == ["content"]


def test_an_update_keeps_what_is_not_given_and_an_empty_config_clears_it() -> None:
    first = chat(config={"model": "gpt-4o", "temperature": 0.2})
    renamed = Body.of(content=None, messages=None, config=None, was=first)
    assert renamed == first
    cleared = Body.of(content=None, messages=None, config={}, was=first)
    assert (cleared.kind, cleared.messages, cleared.config) == (PromptKind.CHAT, CHAT, None)
    to_text = Body.of(content="Hi", messages=None, config=None, was=first)
    assert (to_text.kind, to_text.messages, to_text.config) == (PromptKind.TEXT, (), first.config)


@pytest.mark.parametrize(
    ("config", "fields"),
    [
        ({"model": ""}, ["config.model"]),
        ({"model": 4}, ["config.model"]),
        ({"temperature": 2.5, "top_p": -1}, ["config.temperature", "config.top_p"]),
        ({"temperature": True}, ["config.temperature"]),
        ({"temperature": float("nan")}, ["config.temperature"]),
        ({"max_tokens": 0}, ["config.max_tokens"]),
        ({"max_tokens": 1.5}, ["config.max_tokens"]),
        ({"stop": [1]}, ["config.stop"]),
        ({"response_format": "json"}, ["config.response_format"]),
        ({"blob": "x" * CONFIG_MAX_BYTES}, ["config"]),
    ],
)
def test_a_configs_known_names_are_checked(config: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_config(config)
    assert [v.field for v in caught.value.violations] == fields


def test_a_config_keeps_names_it_does_not_know() -> None:
    config = {
        "model": "gpt-4o-mini",
        "temperature": 0,
        "top_p": 1,
        "max_tokens": 256,
        "stop": ["\n\n"],
        "response_format": {"type": "json_object"},
        "seed": 7,
        "vendor": {"anything": [1, 2]},
    }
    check_config(config)
    assert chat(config=config).config == config
