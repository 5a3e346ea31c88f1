"""How the Catalog and Prompts screens read their text areas: a batch of models (codes one
a line, or YAML), a model's config (YAML or JSON), chat messages as `[role]` blocks, and
a unified diff's lines."""

from __future__ import annotations

import pytest

from modelplane.domain.catalog import BatchItem
from modelplane.domain.chat_prompts import ChatMessage
from modelplane.domain.errors import InvalidArgument
from modelplane.domain.prompt_diff import unified_diff
from modelplane.faces.console.catalog import batch_items, model_config
from modelplane.faces.console.prompts import diff_lines, messages_of, messages_text


def test_a_batch_is_codes_one_a_line_or_a_yaml_list_with_one_default() -> None:
    assert batch_items("  a \n\nb\n", None) == [BatchItem("a"), BatchItem("b")]
    found = batch_items("- llmCode: x\n  name: X\n  config: {cost: {input: 1}}\n- y\n", "y")
    assert found == [
        BatchItem("x", name="X", config={"cost": {"input": 1}}),
        BatchItem("y", is_default_model=True),
    ]


@pytest.mark.parametrize(
    ("text", "default", "field"),
    [
        ("- [unclosed", None, "items"),
        ("- llmCode: x\n  colour: red", None, "items.0.colour"),
        ("- llmCode: 3", None, "items.0.llmCode"),
        ("- 7", None, "items.0"),
        ("a\nb", "c", "defaultCode"),
    ],
)
def test_a_bad_batch_names_its_field(text: str, default: str | None, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        batch_items(text, default)
    assert field in [v.field for v in refused.value.violations]


def test_a_models_config_is_a_yaml_or_json_mapping_and_blank_is_none() -> None:
    assert model_config("cost: {input: 1.6, output: 6.4}\n") == {
        "cost": {"input": 1.6, "output": 6.4}
    }
    assert model_config('{"temperature": 0.2}') == {"temperature": 0.2}
    assert model_config("  \n") == {}


ALIASES = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['x'] * 9)}]\n"
    for prev, name in zip(
        ["", "a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e", "f"], strict=True
    )
)  # 9**6 values written out from a few hundred bytes


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[1, 2]", "must be a mapping"),
        ("a: [unclosed", "is not valid YAML or JSON"),
        ("day: 2024-01-01", "must hold only JSON values"),
        (ALIASES, "must be at most"),
    ],
)
def test_a_bad_model_config_names_config(text: str, rule: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        model_config(text)
    assert [(v.field, rule in v.rule) for v in refused.value.violations] == [("config", True)]


def test_a_batch_whose_yaml_aliases_write_out_too_many_values_is_refused_naming_items() -> None:
    config = "".join(f"\n    {line}" for line in ALIASES.splitlines())
    with pytest.raises(InvalidArgument) as refused:
        batch_items(f"- llmCode: a\n  config:{config}", None)
    assert [(v.field, "must be at most" in v.rule) for v in refused.value.violations] == [
        ("items", True)
    ]


def test_chat_messages_are_role_blocks_and_round_trip() -> None:
    text = "[system]\nBe ${tone}.\n\n[user]\nFirst line\n\nsecond line\n"
    messages = messages_of(text)
    assert messages == [
        ChatMessage("system", "Be ${tone}."),
        ChatMessage("user", "First line\n\nsecond line"),
    ]
    assert messages_of(messages_text(tuple(messages))) == messages


def test_text_before_the_first_role_names_its_line() -> None:
    with pytest.raises(InvalidArgument) as refused:
        messages_of("\nhello\n[user]\nhi")
    assert refused.value.violations[0].field == "messages"
    assert "line 2" in refused.value.violations[0].rule


def test_a_diffs_lines_are_marked_by_kind() -> None:
    diff = unified_diff("a\nb\n", "a\nc\n", old_name="t@1", new_name="t@2")
    kinds = [(line.kind, line.text) for line in diff_lines(diff)]
    assert kinds[:2] == [("head", "--- t@1"), ("head", "+++ t@2")]
    assert ("remove", "-b") in kinds and ("add", "+c") in kinds and ("same", " a") in kinds
    assert kinds[2][0] == "hunk"
