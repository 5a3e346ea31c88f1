"""Prompt template rules: the variable grammar, rendering, versions, the built-in set."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.prompts import (
    CONTENT_MAX,
    NAME_MAX,
    RENDERED_MAX_BYTES,
    VERSION_MAX,
    Body,
    TemplateType,
    check_text,
    check_version,
    first_in_list_order,
    is_template_id,
    new_template,
    next_version,
    render,
)
from modelplane.domain.system_prompts import parse, system_templates
from modelplane.domain.workspaces import new_workspace
from modelplane.placeholders import variables_of


def text(content: str) -> Body:
    """The body of a text template."""
    return Body.of(content=content, messages=None, config=None)


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ("Hello ${name}, ${name} again, then ${other}", ("name", "other")),
        ("主题为：${主题}，风格：${风格}", ("主题", "风格")),
        ("${_private} ${a.b} ${x-1} ${Ünïcode}", ("_private", "a.b", "x-1", "Ünïcode")),
        ("$${literal} and ${real}", ("real",)),
        ("${ spaced } ${1digit} ${} $name {name}", ()),
        ("${" + "a" * 64 + "}", ("a" * 64,)),
        ("${" + "a" * 65 + "}", ()),
    ],
    ids=["order", "chinese", "characters", "escape", "not-variables", "64-long", "65-long"],
)
def test_variables_are_distinct_names_in_order_of_first_appearance(
    content: str, names: tuple[str, ...]
) -> None:
    assert variables_of(content) == names


def test_render_fills_and_reports_unused_values() -> None:
    rendered = render("写一篇关于${主题}的笔记，$${主题}保留", {"主题": "咖啡", "extra": "x"})
    assert rendered.text == "写一篇关于咖啡的笔记，${主题}保留"
    assert rendered.missing == () and rendered.unused == ("extra",)


def test_render_names_every_missing_variable_at_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        render("${a} ${b} ${c}", {"b": "1"})
    assert [v.field for v in caught.value.violations] == ["variables.a", "variables.c"]
    assert "a, c" in caught.value.message


def test_partial_render_leaves_unfilled_placeholders_as_written() -> None:
    rendered = render("${a} ${b} $${c}", {"b": "B"}, allow_partial=True)
    assert rendered.text == "${a} B ${c}"
    assert rendered.missing == ("a",)


def test_values_are_not_rendered_again() -> None:
    assert render("${a}", {"a": "${b}", "b": "no"}).text == "${b}"


def test_a_render_over_1_mib_is_refused_naming_variables() -> None:
    content = "${a}" * 64
    at_limit = "x" * (RENDERED_MAX_BYTES // 64)
    assert len(render(content, {"a": at_limit}).text) == RENDERED_MAX_BYTES
    with pytest.raises(InvalidArgument) as caught:
        render(content, {"a": at_limit[1:] + "é"})  # one byte more in each of the 64
    assert [v.field for v in caught.value.violations] == ["variables"]
    assert f"{RENDERED_MAX_BYTES + 64:,} bytes (UTF-8)" in caught.value.message


def test_the_limit_is_in_utf8_bytes_and_inclusive() -> None:
    assert render("${a}", {"a": "é" * 8}, max_bytes=16).text == "é" * 8
    with pytest.raises(InvalidArgument):
        render("${a}", {"a": "é" * 8}, max_bytes=15)


def test_the_worst_render_is_refused_at_once_without_building_it() -> None:
    """The attack: 100,000 characters of `${a}` with a 25,600-character value (640 MB).

    Timed apart from the memory trace (tracing slows every allocation down); the fastest
    of three runs, so that a busy machine does not count.
    """
    content, values = "${a}" * (CONTENT_MAX // 4), {"a": "x" * 25_600}
    took = []
    for _ in range(3):
        started = time.perf_counter()
        with pytest.raises(InvalidArgument) as caught:
            render(content, values)
        took.append(time.perf_counter() - started)
    assert "640,000,000 bytes" in caught.value.message
    tracemalloc.start()
    try:
        with pytest.raises(InvalidArgument):
            render(content, values)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert min(took) < 0.05 and peak < 2 * 1024 * 1024, (took, peak)


def test_many_unused_values_against_many_names_render_quickly() -> None:
    names = [f"v{i}" for i in range(15_000)]
    content = "".join("${" + name + "}" for name in names)
    values = {f"u{i}": "" for i in range(80_000)} | dict.fromkeys(names, "")
    started = time.perf_counter()
    rendered = render(content, values)
    assert time.perf_counter() - started < 0.2
    assert rendered.text == "" and len(rendered.unused) == 80_000


_pieces = st.lists(
    st.one_of(
        st.text(alphabet=st.sampled_from("a$ {}é主\n"), max_size=5),
        st.sampled_from(["${a}", "${b}", "$${a}", "${主题}", "$${b}", "${c}"]),
    ),
    max_size=12,
)
_values = st.dictionaries(
    st.sampled_from(["a", "b", "主题", "x"]), st.text(alphabet=st.sampled_from("xé😀$"), max_size=6)
)


@given(_pieces, _values)
def test_the_size_reckoned_beforehand_is_the_size_of_the_text(
    pieces: list[str], values: dict[str, str]
) -> None:
    content = "".join(pieces)
    size = len(render(content, values, allow_partial=True).text.encode())
    assert len(render(content, values, allow_partial=True, max_bytes=size).text.encode()) == size
    with pytest.raises(InvalidArgument):
        render(content, values, allow_partial=True, max_bytes=size - 1)


@pytest.mark.parametrize(
    ("name", "content", "field"),
    [
        ("", "c", "name"),
        ("   ", "c", "name"),
        ("n" * (NAME_MAX + 1), "c", "name"),
        ("n", "", "content"),
        ("n", "c" * (CONTENT_MAX + 1), "content"),
    ],
)
def test_bad_name_or_content_names_the_field(name: str, content: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_text(name, content)
    assert [v.field for v in caught.value.violations] == [field]


def test_limits_are_inclusive() -> None:
    template = new_template(
        workspace_id="ws", name="n" * NAME_MAX, body=text("c" * CONTENT_MAX), actor_id="a", now_ms=1
    )
    assert is_template_id(template.prompt_template_id) and template.version == 1


def test_a_new_version_keeps_what_is_not_given() -> None:
    first = new_template(workspace_id="ws", name="n", body=text("${a}"), actor_id="a", now_ms=1)
    second = next_version(first, name=None, body=text("${b} ${a}"), actor_id="b", now_ms=5)
    assert (second.version, second.name, second.variables) == (2, "n", ("b", "a"))
    assert (second.created_by, second.updated_by, second.created_at) == ("a", "b", 1)


def test_the_built_in_set_is_valid_and_read_as_system_templates() -> None:
    templates = system_templates()
    assert len(templates) >= 5
    assert all(
        t.type is TemplateType.SYSTEM and is_template_id(t.prompt_template_id) for t in templates
    )
    assert any(t.variables == ("theme",) for t in templates)


@pytest.mark.parametrize(
    "document",
    [
        {},
        [{"promptTemplateId": "x", "name": "n", "content": "c"}],
        [{"promptTemplateId": "a" * 32, "name": "", "content": "c"}],
        [{"promptTemplateId": "a" * 32, "name": "n", "content": "c"}] * 2,
    ],
    ids=["not-a-list", "bad-id", "bad-name", "repeated-id"],
)
def test_a_broken_built_in_set_is_refused(document: object) -> None:
    with pytest.raises(ValueError, match="system_prompts"):
        parse(document)


@pytest.mark.parametrize("text", ["a" * 32 + "\n", "A" * 32, "a" * 31, "a" * 33, "g" * 32])
def test_only_32_lowercase_hex_characters_are_a_template_id(text: str) -> None:
    assert not is_template_id(text)


@pytest.mark.parametrize("workspace_id", ["llm-abc\n", "ab", "-ab", "a" * 65, "Abc"])
def test_a_workspace_id_must_match_in_full(workspace_id: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        new_workspace(workspace_id=workspace_id, name="w", owner_id="o", now_ms=1)
    assert [v.field for v in caught.value.violations] == ["workspaceId"]


@pytest.mark.parametrize("version", [0, -1, VERSION_MAX + 1, 2**70])
def test_a_version_number_out_of_range_is_refused(version: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_version(version)
    assert [v.field for v in caught.value.violations] == ["version"]
    for fine in (None, 1, VERSION_MAX):
        check_version(fine)


def test_a_new_template_sorts_after_every_template_already_there() -> None:
    assert first_in_list_order(100, None) == 100
    assert first_in_list_order(100, 50) == 100
    assert first_in_list_order(100, 100) == 101
    assert first_in_list_order(100, 250) == 251
