"""How long a text field may be, and whether it must be given: one rule, worded one way."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelplane.domain import catalog, configs, llms, prompts, workspaces
from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.text import BYTES, CHARACTERS, check_length, length_rule

REQUIRED = length_rule(5, required=True)


def broken(
    value: str | None, *, required: bool = False, blank: bool = False, unit: str = CHARACTERS
) -> list[tuple[str, str]]:
    errors = ViolationCollector()
    check_length(value, "f", errors, most=5, required=required, blank=blank, unit=unit)
    return [(v.field, v.rule) for v in errors.violations]


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n", "toolong"])
def test_required_text_is_given_not_only_spaces_and_not_too_long(value: str | None) -> None:
    assert broken(value, required=True) == [("f", "required, 1..5 characters, not only spaces")]
    assert REQUIRED == "required, 1..5 characters, not only spaces"


@pytest.mark.parametrize("value", [None, "", "  ", "12345"])
def test_optional_text_may_be_absent_or_empty(value: str | None) -> None:
    assert broken(value) == []


def test_too_long_optional_text_and_bytes_of_utf8() -> None:
    assert broken("123456") == [("f", "at most 5 characters")]
    assert broken("ééé", unit=BYTES) == [("f", "at most 5 bytes (UTF-8)")]
    assert broken("éé", unit=BYTES) == []


def test_required_text_that_may_be_blank() -> None:
    assert broken("", required=True, blank=True) == []
    assert broken(None, required=True, blank=True) == [("f", "required, at most 5 characters")]


def _rule_of(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        call()
    (violation,) = caught.value.violations
    return violation.field, violation.rule


def test_every_resource_words_the_rule_the_same_way() -> None:
    """The fields that were checked by four rules with four messages now share one."""

    def llm(display_name: str) -> object:
        spec = llms.LlmSpec(display_name=display_name, model_identifier="gpt-4o")
        return llms.new_llm(spec, owner_id="o", actor_id="o", now_ms=1)

    cases: list[tuple[Callable[[], object], str, str]] = [
        (lambda: prompts.check_text(" ", None), "name", length_rule(255, required=True)),
        (
            lambda: prompts.check_text(None, "x" * 100_001),
            "content",
            length_rule(prompts.CONTENT_MAX, required=True),
        ),
        (
            lambda: catalog.new_group(owner_id="o", name=" ", now_ms=1),
            "name",
            length_rule(catalog.NAME_MAX, required=True),
        ),
        (
            lambda: catalog.new_group(owner_id="o", name="g", description="d" * 1025, now_ms=1),
            "description",
            length_rule(catalog.DESCRIPTION_MAX),
        ),
        (lambda: llm(" "), "displayName", length_rule(llms.DISPLAY_NAME_MAX, required=True)),
        (
            lambda: workspaces.new_workspace(workspace_id=None, name=" ", owner_id="o", now_ms=1),
            "name",
            length_rule(workspaces.NAME_MAX, required=True),
        ),
        (
            lambda: configs.check_value(None),
            "value",
            length_rule(configs.VALUE_MAX, required=True, blank=True, unit=BYTES),
        ),
    ]
    assert [_rule_of(call) for call, _, _ in cases] == [(f, r) for _, f, r in cases]
