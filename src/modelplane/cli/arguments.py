"""Reading command-line input: `key=value` pairs, texts from files or stdin, JSON/YAML files.

Every problem is a `CommandError` (exit code 2) naming the option or file at fault.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from modelplane.cli.remote import CommandError

STDIN = "-"

OwnerIdOption = Annotated[
    str | None,
    typer.Option(
        "--owner-id",
        help="The owner of the namespace or workspace written into; an admin writing into "
        "another principal's must name it",
    ),
]


def non_empty(value: str | None) -> str | None:
    """Typer callback for ids and names in a path: an empty one would name something else."""
    if value is not None and not value.strip():
        raise typer.BadParameter("must not be empty")
    return value


def pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    """`["a=1", "b=x=y"]` as `{"a": "1", "b": "x=y"}`; the first `=` splits."""
    found: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"{option} takes KEY=VALUE, got {item!r}")
        found[key] = value
    return found


def read_text(path: str) -> str:
    """The text of a file, or of stdin when `path` is `-`."""
    if path == STDIN:
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CommandError(f"cannot read {path}: {reason}") from None


def read_stdin(what: str) -> str:
    """All of stdin; refused when stdin is a terminal (nothing was piped in)."""
    if sys.stdin.isatty():
        raise CommandError(f"give {what}, or pipe it on stdin")
    return sys.stdin.read()


def read_document(path: str) -> Any:
    """What a JSON or YAML file (or stdin, `-`) holds."""
    import yaml

    text = read_text(path)
    try:
        return yaml.safe_load(text)  # YAML 1.1 reads JSON too
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise CommandError(f"{path}: not valid JSON or YAML: {problem}") from None


def read_mapping(path: str) -> dict[str, Any]:
    """A JSON or YAML file (or stdin, `-`) that holds one object."""
    data = read_document(path)
    if not isinstance(data, dict):
        raise CommandError(f"{path}: must hold an object (key: value), not {_kind(data)}")
    return {str(k): v for k, v in data.items()}


def read_messages(path: str) -> list[dict[str, str]]:
    """A JSON or YAML file (or stdin, `-`) that holds a list of chat messages."""
    data = read_document(path)
    if not isinstance(data, list) or not all(
        isinstance(m, dict) and set(m) == {"role", "content"} for m in data
    ):
        raise CommandError(f"{path}: must hold a list of messages, each with a role and a content")
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in data]


def string_values(data: dict[str, Any], source: str) -> dict[str, str]:
    """The values as strings: numbers and booleans written as in JSON, text as it is."""
    import json

    found: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str):
            found[key] = value
        elif isinstance(value, bool | int | float):
            found[key] = json.dumps(value)
        else:
            raise CommandError(f"{source}: {key} must be text or a number, not {_kind(value)}")
    return found


def given(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that are not None."""
    return {k: v for k, v in fields.items() if v is not None}


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", type(None): "null"}.get(type(value), "a scalar")
