"""The docs test's block parser and its wildcard matcher for console output."""

from __future__ import annotations

import pytest

from tests.support.doc_snippets import (
    Block,
    Kind,
    SnippetError,
    anchor_of,
    anchors,
    line_matches,
    links,
    output_matches,
    page_marks,
    parse_blocks,
    parse_console,
    parse_info,
    problems,
)

PAGE = """\
# Title

Some text with `inline` code.

```python
print("hi")
```

~~~~sh
echo one
```
still inside
~~~~

```yaml file=stack.yaml
groups: []
```

```
plain data
```

1. In a list:

   ```console
   $ echo indented
   indented
   ```
"""


def test_blocks_come_with_their_line_language_options_and_text() -> None:
    blocks = parse_blocks(PAGE)
    assert [(b.line, b.language, b.kind) for b in blocks] == [
        (5, "python", Kind.PYTHON),
        (9, "sh", Kind.SHELL),
        (15, "yaml", Kind.FILE),
        (19, "", Kind.DATA),
        (25, "console", Kind.CONSOLE),
    ]
    assert blocks[0].text == 'print("hi")\n'
    assert blocks[1].text == "echo one\n```\nstill inside\n"  # a shorter, other fence is text
    assert blocks[2].options == {"file": "stack.yaml"}
    assert blocks[4].text == "$ echo indented\nindented\n"  # the list's indentation is removed


def test_info_strings_split_into_language_flags_and_options() -> None:
    assert parse_info("Python no-run") == ("python", frozenset({"no-run"}), {})
    assert parse_info("yaml file=a/b.yaml") == ("yaml", frozenset(), {"file": "a/b.yaml"})
    assert parse_info("file=x.txt") == ("", frozenset(), {"file": "x.txt"})
    assert parse_info("") == ("", frozenset(), {})


def test_kinds_follow_the_info_string() -> None:
    def kind(info: str) -> Kind:
        language, flags, options = parse_info(info)
        return Block(1, info, "", language, flags, options).kind

    assert kind("bash") is kind("shell") is Kind.SHELL
    assert kind("py") is Kind.PYTHON
    assert kind("console") is Kind.CONSOLE
    assert kind("python file=helper.py") is Kind.FILE
    assert kind("sh no-run") is Kind.NO_RUN
    assert kind("json") is kind("text") is kind("") is Kind.DATA


def test_an_unclosed_block_is_an_error_naming_its_line() -> None:
    with pytest.raises(SnippetError, match="line 3"):
        parse_blocks("text\n\n```python\nprint(1)\n")


def test_a_fence_closes_only_with_the_same_character_and_no_info() -> None:
    [block] = parse_blocks("````md\n```python\nx\n```\n````\n")
    assert block.text == "```python\nx\n```\n"


def test_page_marks_are_read_from_html_comments() -> None:
    assert page_marks("<!-- docs-test: postgres -->\n# Ops\n") == {"postgres"}
    assert page_marks("# no marks\n<!-- a comment -->\n") == frozenset()


def test_console_commands_with_continuations_and_their_output() -> None:
    text = "$ echo a \\\n    b\na b\n\n$ true\n$ printf 'x\\n\\n'\nx\n\n"
    [first, second, third] = parse_console(Block(10, "console", text, "console"))
    assert (first.line, first.command, first.expected) == (11, "echo a \\\n    b", ("a b",))
    assert (second.line, second.command, second.expected) == (15, "true", ())
    assert (third.line, third.expected) == (16, ("x",))


def test_console_output_before_any_command_is_an_error() -> None:
    with pytest.raises(SnippetError, match="line 2: output before"):
        parse_console(Block(1, "console", "hello\n$ echo\n", "console"))
    with pytest.raises(SnippetError, match="without a `\\$ ` command"):
        parse_console(Block(1, "console", "\n", "console"))


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ("migrated to head", "migrated to head", True),
        ("migrated to head", "already at head", False),
        ("token: mp_…", "token: mp_Q2xYz", True),
        ("token: mp_…", "token: mp_", True),
        ("token: mp_…", "key: mp_Q2x", False),
        ("{…} in … ms", '{"a": 1} in 12.5 ms', True),
        ("a.b*c", "a.b*c", True),
        ("a.b*c", "aXbbc", False),  # regex characters are literal
        ("…", "anything at all", True),
        ("trailing   ", "trailing", True),
    ],
)
def test_an_ellipsis_in_a_line_matches_any_text(expected: str, actual: str, matches: bool) -> None:
    assert line_matches(expected, actual) is matches


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b", "c"], False),
        (["a", "b", "c"], ["a", "b"], False),
        (["a", "…", "z"], ["a", "z"], True),  # none
        (["a", "…", "z"], ["a", "1", "2", "3", "z"], True),
        (["a", "…", "z"], ["a", "1", "2"], False),
        (["…"], [], True),
        (["…", "end"], ["x", "end", "y", "end"], True),
        (["…", "end"], ["x", "end", "y"], False),
        (["{", "…", '  "b": …', "…", "}"], ["{", '  "a": 1,', '  "b": 2', "}"], True),
        (["{", "…", '  "b": …', "…", "}"], ["{", '  "a": 1', "}"], False),
        (["a", ""], ["a", "", "", ""], True),  # blank lines at the end do not count
        (["", "a"], ["a"], False),  # at the start they do
    ],
)
def test_a_line_of_ellipsis_alone_matches_any_number_of_lines(
    expected: list[str], actual: list[str], matches: bool
) -> None:
    assert output_matches(expected, actual) is matches


def test_long_outputs_match_without_deep_recursion() -> None:
    actual = [f"line {n}" for n in range(20_000)]
    assert output_matches(["line 0", "…", "line 19999"], actual)
    assert not output_matches(["line 0", "…", "line 20000"], actual)


def test_a_page_that_follows_the_rules_has_no_problems() -> None:
    assert problems(PAGE) == []
    serve = "```sh no-run\nMODELPLANE_PORT=9000 modelplane serve\n```\n"
    install = "```sh no-run\npip install modelplane\n```\n"
    assert problems(serve + install) == []


@pytest.mark.parametrize(
    ("page", "complaint"),
    [
        ("```python no-run\nprint(1)\n```\n", "`no-run` is only for"),
        ("```sh no-run\ncurl localhost:8080/readyz\n```\n", "`no-run` is only for"),
        ("```javascript\nconsole.log(1)\n```\n", "a `javascript` block cannot be run"),
        ("```yaml file=../up.yaml\na: 1\n```\n", "relative path"),
        ("```yaml file=/etc/x.yaml\na: 1\n```\n", "relative path"),
        ("```python skip\nprint(1)\n```\n", "unknown flag or option skip"),
        ("```console\nno command here\n```\n", "output before the first"),
        ("<!-- docs-test: mysql -->\n", "unknown docs-test mark 'mysql'"),
        ("```python\nprint(1)\n", "never closed"),
    ],
)
def test_pages_that_break_the_rules_are_told_why(page: str, complaint: str) -> None:
    found = problems(page)
    assert len(found) == 1 and complaint in found[0], found


def test_heading_anchors_are_githubs() -> None:
    assert anchor_of("The store: SQLite or PostgreSQL") == "the-store-sqlite-or-postgresql"
    assert anchor_of("`POST /v1/llms` — Create Llm") == "post-v1llms--create-llm"
    assert anchor_of("Signing with HMAC-SHA1 (`v2`)") == "signing-with-hmac-sha1-v2"
    assert anchor_of("配置 参数") == "配置-参数"
    page = "# A\n\n## Twice\n\n```sh\n# not a heading\n```\n\n## Twice\n"
    assert anchors(page) == {"a", "twice", "twice-1"}


def test_links_outside_code_with_their_lines() -> None:
    page = (
        "See [the guide](operations.md#settings) and [site](https://x.test).\n"
        "![an image](pic.png) `[not](a-link.md)`\n"
        "```md\n[inside](code.md)\n```\n"
        "[angle](<with space.md>)\n"
    )
    assert links(page) == [
        (1, "operations.md#settings"),
        (1, "https://x.test"),
        (6, "with space.md"),
    ]
