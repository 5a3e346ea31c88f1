"""The formats a parameter may declare, and the check of a value in its format.

A parameter is `text` (anything, the default) unless it declares `json`, `yaml` or
`properties`; then every value written to it must parse in that format. A value is at
most 64 KiB (`configs.VALUE_MAX`), which bounds what a parser is given.

- `json`: RFC 8259 (no `NaN` or `Infinity`), one value.
- `yaml`: one document, as PyYAML's safe loader reads it (no Python tags).
- `properties`: the grammar of Java's `Properties.load`: `key=value`, `key: value` or
  `key value` lines, `#` or `!` comments, blank lines, and a line continued on the next
  by an odd number of trailing backslashes; checked strictly (`properties_problem`).
"""

from __future__ import annotations

import bisect
import json
import re
from enum import StrEnum
from typing import Any

import yaml

from modelplane.domain.errors import InvalidArgument, ViolationCollector


class ConfigFormat(StrEnum):
    """The format a parameter declares; its values are checked in it on every write."""

    TEXT = "text"
    JSON = "json"
    YAML = "yaml"
    PROPERTIES = "properties"


FORMATS = tuple(f.value for f in ConfigFormat)
FORMAT_RULE = "must be one of " + ", ".join(FORMATS)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when it is built in
_WHITESPACE = " \t\f"
_NEWLINES = re.compile(r"\r\n|\r|\n")
_KEY = re.compile(r"(?:\\.|[^\\=: \t\f])*", re.DOTALL)
_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_UNICODE_STRING = re.compile(r'\s*in "<unicode string>",')


def check_format(value: object, field: str, errors: ViolationCollector) -> ConfigFormat | None:
    """The format named by `value` (None when absent); else a violation of `field`."""
    if value is None:
        return None
    if isinstance(value, str) and value in FORMATS:
        return ConfigFormat(value)
    errors.add(field, FORMAT_RULE)
    return None


def parse_format(value: object, field: str = "format") -> ConfigFormat | None:
    """`check_format` that raises InvalidArgument naming `field`."""
    errors = ViolationCollector()
    found = check_format(value, field, errors)
    errors.raise_if_any()
    return found


def format_problem(value: str, fmt: ConfigFormat) -> str | None:
    """Why `value` does not parse in `fmt` (with line and column where known); None when
    it does."""
    if fmt is ConfigFormat.JSON:
        return _json_problem(value)
    if fmt is ConfigFormat.YAML:
        return _yaml_problem(value)
    if fmt is ConfigFormat.PROPERTIES:
        problem = properties_problem(value)
        return None if problem is None else f"must be valid properties: {problem}"
    return None


def check_formatted(value: str, fmt: ConfigFormat, field: str, errors: ViolationCollector) -> None:
    """Record a violation of `field` unless `value` parses in `fmt`."""
    problem = format_problem(value, fmt)
    if problem is not None:
        errors.add(field, problem)


def raise_unless_formatted(value: str, fmt: ConfigFormat, field: str = "value") -> None:
    """Raise InvalidArgument naming `field` unless `value` parses in `fmt`."""
    problem = format_problem(value, fmt)
    if problem is not None:
        raise InvalidArgument.of(field, problem)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_problem(value: str) -> str | None:
    try:
        json.loads(value, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        return f"must be valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except RecursionError:
        return "must be valid JSON: it nests too deeply to read"
    except ValueError as exc:  # NaN/Infinity, or an integer of more than 4,300 digits
        return f"must be valid JSON: {exc}"
    return None


def _yaml_problem(value: str) -> str | None:
    try:
        yaml.load(value, Loader=_Loader)  # noqa: S506 - the safe loader (C or Python)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "not readable"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        return f"must be valid YAML: {problem}{context}{where}"
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        said = _UNICODE_STRING.sub(" at", " ".join(str(exc).split()))
        return f"must be valid YAML: {said}"
    except RecursionError:
        return "must be valid YAML: it nests too deeply to read"
    except (ValueError, TypeError, OverflowError) as exc:  # a tagged scalar out of range
        return f"must be valid YAML: a value cannot be read: {exc}"
    return None


class _Logical:
    """One logical line of a properties text: its content, and where each part began."""

    def __init__(self) -> None:
        self.text = ""
        self._starts: list[int] = []  # offsets in `text` where a natural line's part begins
        self._places: list[tuple[int, int]] = []  # (line, column) of each part's start

    def add(self, part: str, line: int, column: int) -> None:
        self._starts.append(len(self.text))
        self._places.append((line, column))
        self.text += part

    def where(self, offset: int) -> str:
        index = max(bisect.bisect_right(self._starts, offset) - 1, 0)
        line, column = self._places[index]
        return f"at line {line}, column {column + offset - self._starts[index]}"


def _logical_lines(text: str) -> tuple[list[_Logical], str | None]:
    """The logical lines of `text` (comments and blank lines left out), or a problem."""
    lines = _NEWLINES.split(text)
    found: list[_Logical] = []
    i = 0
    while i < len(lines):
        natural = lines[i]
        content = natural.lstrip(_WHITESPACE)
        if not content or content[0] in "#!":
            i += 1
            continue
        logical = _Logical()
        while True:
            column = len(natural) - len(content) + 1
            backslashes = len(content) - len(content.rstrip("\\"))
            if backslashes % 2 == 0:
                logical.add(content, i + 1, column)
                i += 1
                break
            logical.add(content[:-1], i + 1, column)
            i += 1
            if i == len(lines):
                where = f"line {i}, column {column + len(content) - 1}"
                return found, f"the line continuation at {where} continues nothing"
            natural = lines[i]
            content = natural.lstrip(_WHITESPACE)
        found.append(logical)
    return found, None


def properties_problem(text: str) -> str | None:
    """Why `text` is not a strict Java properties text; None when it is.

    Java's own loader takes almost anything; this check refuses what is almost surely a
    mistake, each with its line and column: a `\\u` escape without four hex digits, a
    continuation at the very end, an empty key, a key with no separator (`=`, `:` or
    whitespace) after it, and a key given twice.
    """
    logical_lines, problem = _logical_lines(text)
    if problem is not None:
        return problem
    seen: dict[str, str] = {}
    for logical in logical_lines:
        content = logical.text
        for escape in _ESCAPE.finditer(content):
            if escape.group(1) == "u" and not _HEX4.match(content, escape.end()):
                return f"a \\u escape needs four hex digits {logical.where(escape.start())}"
        key_end = _KEY.match(content).end()  # type: ignore[union-attr]  # matches ""
        raw_key = content[:key_end]
        if not raw_key:
            return f"an empty key {logical.where(0)}"
        if key_end == len(content):
            return (
                f"the key {raw_key!r} has no `=`, `:` or whitespace and value after it "
                f"{logical.where(0)}"
            )
        key = _unescaped(raw_key)
        if key in seen:
            return f"the key {key!r} {logical.where(0)} repeats the one {seen[key]}"
        seen[key] = logical.where(0)
    return None


def _unescaped(raw: str) -> str:
    """A key as Java reads it (escapes resolved), to tell repeated keys."""
    special = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
    return re.sub(
        r"\\u([0-9A-Fa-f]{4})|\\(.)",
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else special.get(m.group(2), m.group(2)),
        raw,
        flags=re.DOTALL,
    )
