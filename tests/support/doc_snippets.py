"""The fenced code blocks of Markdown pages, and the rules by which the docs test runs them.

A block's info string is its language, then flags and `key=value` options:

    ```python                  run with the test's Python; must exit 0
    ```sh / ```bash            run with `bash -euo pipefail`; must exit 0
    ```console                 `$ ` lines are commands, the lines after one its output
    ```yaml file=stack.yaml    written to stack.yaml in the page's directory, not run
    ```json / ```text / ```    data: shown, not run
    ```sh no-run               not run: only for `modelplane serve` and `pip install`

In expected console output `…` matches any text within a line, and a line holding only
`…` matches any number of lines (none included). A page whose text holds
`<!-- docs-test: postgres -->` runs against a PostgreSQL database; one holding
`<!-- docs-test: upstream -->` gets a local LLM upstream (tests/support/upstreams.py) whose
OpenAI `/v1` base URL its snippets read from `$UPSTREAM_URL`. One holding
`<!-- docs-test: fresh-terminal -->` runs as a new terminal would: modelplane's scripts are
not on its PATH until a snippet activates `.venv` (in its directory, modelplane's virtual
environment, as the README's first line makes it).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath

ELLIPSIS = "…"

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell"})
CONSOLE_LANGUAGES = frozenset({"console", "shell-session"})
# Examples of data or configuration, shown and not run.
DATA_LANGUAGES = frozenset(
    {
        "",
        "text",
        "txt",
        "plain",
        "json",
        "jsonc",
        "http",
        "toml",
        "yaml",
        "yml",
        "ini",
        "conf",
        "nginx",
        "env",
        "csv",
        "xml",
        "diff",
        "promql",
        "prometheus",
    }
)
FLAGS = frozenset({"no-run"})
OPTIONS = frozenset({"file"})
PAGE_MARKS = frozenset({"postgres", "upstream", "fresh-terminal"})
# What a block may opt out of running for: a long-running server, or the install commands.
NO_RUN_ALLOWED = ("modelplane serve", "pip install")

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_PAGE_MARK = re.compile(r"<!--\s*docs-test:(?P<marks>[^>]*?)-->")


class SnippetError(ValueError):
    """A page or block that breaks the rules above."""


class Kind(enum.Enum):
    """What the docs test does with a block."""

    PYTHON = "python"
    SHELL = "shell"
    CONSOLE = "console"
    FILE = "file"
    DATA = "data"
    NO_RUN = "no-run"


RUNNABLE = frozenset({Kind.PYTHON, Kind.SHELL, Kind.CONSOLE, Kind.FILE})


@dataclass(frozen=True)
class Block:
    """One fenced code block; `line` is the 1-based line of its opening fence."""

    line: int
    info: str
    text: str
    language: str = ""
    flags: frozenset[str] = frozenset()
    options: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> Kind:
        """How the block is treated (see the module docstring)."""
        if "no-run" in self.flags:
            return Kind.NO_RUN
        if "file" in self.options:
            return Kind.FILE
        if self.language in PYTHON_LANGUAGES:
            return Kind.PYTHON
        if self.language in SHELL_LANGUAGES:
            return Kind.SHELL
        if self.language in CONSOLE_LANGUAGES:
            return Kind.CONSOLE
        return Kind.DATA


@dataclass(frozen=True)
class Command:
    """A `$ ` command of a console block and the output shown after it.

    `line` is the page line of the `$ `; `command` has its continuation lines.
    """

    line: int
    command: str
    expected: tuple[str, ...]


def parse_info(info: str) -> tuple[str, frozenset[str], dict[str, str]]:
    """(language, flags, options) of an info string such as `yaml file=stack.yaml`."""
    language, flags, options = "", set(), {}
    for n, word in enumerate(info.split()):
        if "=" in word:
            key, _, value = word.partition("=")
            options[key] = value
        elif n == 0:
            language = word.lower()
        else:
            flags.add(word)
    return language, frozenset(flags), options


def parse_blocks(markdown: str) -> list[Block]:
    """Every fenced code block of a page, in order."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    n = 0
    while n < len(lines):
        opening = _FENCE.match(lines[n])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            n += 1
            continue
        indent, fence, info = len(opening["indent"]), opening["fence"], opening["info"].strip()
        start = n + 1
        body: list[str] = []
        n += 1
        while True:
            if n >= len(lines):
                raise SnippetError(f"line {start}: the code block opened here is never closed")
            closing = _FENCE.match(lines[n])
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            line = lines[n]
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            body.append(line[strip:])
            n += 1
        n += 1
        language, flags, options = parse_info(info)
        text = "\n".join(body) + "\n" if body else ""
        blocks.append(Block(start, info, text, language, flags, options))
    return blocks


def page_marks(markdown: str) -> frozenset[str]:
    """The marks of `<!-- docs-test: mark … -->` comments of a page."""
    marks: set[str] = set()
    for found in _PAGE_MARK.finditer(markdown):
        marks.update(found["marks"].replace(",", " ").split())
    return frozenset(marks)


def parse_console(block: Block) -> list[Command]:
    """The commands of a console block with the output shown after each."""
    commands: list[Command] = []
    lines = block.text.splitlines()
    n = 0
    while n < len(lines):
        line = lines[n]
        if not (line.startswith("$ ") or line == "$"):
            if line.strip():
                raise SnippetError(
                    f"line {block.line + 1 + n}: output before the first `$ ` command"
                )
            n += 1
            continue
        start = n
        parts = [line[2:]]
        while parts[-1].endswith("\\") and n + 1 < len(lines):
            n += 1
            parts.append(lines[n])
        n += 1
        expected: list[str] = []
        while n < len(lines) and not (lines[n].startswith("$ ") or lines[n] == "$"):
            expected.append(lines[n])
            n += 1
        command = "\n".join(parts)
        if not command.strip():
            raise SnippetError(f"line {block.line + 1 + start}: a `$ ` without a command")
        commands.append(Command(block.line + 1 + start, command, tuple(_trimmed(expected))))
    if not commands:
        raise SnippetError(f"line {block.line}: a console block without a `$ ` command")
    return commands


def _trimmed(lines: Sequence[str]) -> list[str]:
    """Lines without trailing spaces, and without blank lines at the end."""
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def line_matches(expected: str, actual: str) -> bool:
    """Whether `actual` is `expected`, where each `…` stands for any text."""
    return _line_pattern(expected.rstrip()).fullmatch(actual.rstrip()) is not None


@cache
def _line_pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in expected.split(ELLIPSIS)), re.DOTALL)


def output_matches(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Whether the lines of `actual` match those of `expected`.

    Trailing spaces and blank lines at the end are ignored; a line of `…` alone matches any
    number of lines.
    """
    want, got = _trimmed(expected), _trimmed(actual)
    # rest[j]: whether want[i:] matches got[j:], for the current i, from the last line back.
    rest = [False] * len(got) + [True]
    for i in range(len(want) - 1, -1, -1):
        following = rest
        rest = [False] * (len(got) + 1)
        if want[i].strip() == ELLIPSIS:
            for j in range(len(got), -1, -1):
                rest[j] = following[j] or (j < len(got) and rest[j + 1])
        else:
            for j in range(len(got)):
                rest[j] = following[j + 1] and line_matches(want[i], got[j])
    return rest[0]


def problems(markdown: str) -> list[str]:
    """What breaks the rules in a page (empty when it follows them)."""
    try:
        blocks = parse_blocks(markdown)
    except SnippetError as exc:
        return [str(exc)]
    found = [f"unknown docs-test mark {m!r}" for m in sorted(page_marks(markdown) - PAGE_MARKS)]
    for block in blocks:
        where = f"line {block.line} (```{block.info})"
        unknown = sorted(block.flags - FLAGS) + sorted(set(block.options) - OPTIONS)
        if unknown:
            found.append(f"{where}: unknown flag or option {', '.join(unknown)}")
        kind = block.kind
        if kind is Kind.NO_RUN and not any(cmd in block.text for cmd in NO_RUN_ALLOWED):
            found.append(
                f"{where}: `no-run` is only for commands that start a server (`modelplane "
                "serve`) or install (`pip install`); make the block runnable"
            )
        if kind is Kind.FILE:
            name = block.options["file"]
            path = PurePosixPath(name)
            if not name or path.is_absolute() or ".." in path.parts:
                found.append(f"{where}: file= needs a relative path inside the page directory")
        if kind is Kind.DATA and block.language not in DATA_LANGUAGES:
            found.append(
                f"{where}: a `{block.language}` block cannot be run: use python, sh, bash or "
                "console, a data language (json, text, …), or file=NAME"
            )
        if kind is Kind.CONSOLE:
            try:
                parse_console(block)
            except SnippetError as exc:
                found.append(str(exc))
    return found


_LINK = re.compile(
    r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\((?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\)"
)
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")


def prose_lines(markdown: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks."""
    inside: set[int] = set()
    lines = markdown.splitlines()
    for block in parse_blocks(markdown):
        body = block.text.count("\n")
        inside.update(range(block.line, block.line + body + 2))  # fences and body
    return [(n, line) for n, line in enumerate(lines, 1) if n not in inside]


def anchor_of(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to `-`."""
    text = _INLINE_CODE.sub(lambda m: m.group(2), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading id of a page (repeated headings get `-1`, `-2`, … as on GitHub)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(markdown):
        heading = _HEADING.match(line)
        if heading is None:
            continue
        anchor = anchor_of(heading["text"])
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    found.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", markdown))
    return found


def links(markdown: str) -> list[tuple[int, str]]:
    """(line number, target) of each Markdown link outside code."""
    found = []
    for n, line in prose_lines(markdown):
        line = _INLINE_CODE.sub("", line)
        for match in _LINK.finditer(line):
            found.append((n, match["target"].strip("<>")))
    return found
