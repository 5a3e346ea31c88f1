"""What applying a stack would do: a list of changes, each with its own way to run.

A change names its resource the way the stack file does (`model-group assistants`,
`model assistants/provider-openai/gpt-4o`), lists the fields that differ, and holds the
calls that make it so. Secrets never appear: a secret field shows as `(secret)`; the token
of an API key issued while applying is handed over once (`Ids.tokens`), never planned.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from modelplane.client import Client

SECRET = "(secret)"  # noqa: S105 - the placeholder shown instead of a secret


class Action(StrEnum):
    """What a change does to its resource."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"  # delete it and create it again (what cannot change in place)


_SIGNS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-", Action.REPLACE: "-/+"}


@dataclass(frozen=True)
class FieldDiff:
    """One field: its value now (None when created) and the value wanted."""

    name: str
    old: Any
    new: Any


class Ids:
    """What applying learns: the ids of what one change creates and the next uses (a
    group, a principal by name, an API key by principal name and label), and the tokens of
    the API keys issued, by change name (shown once: the server never shows them again)."""

    def __init__(self) -> None:
        self.groups: dict[str, str] = {}
        self.providers: dict[tuple[str, str], str] = {}
        self.principals: dict[str, str] = {}
        self.keys: dict[tuple[str, str], str] = {}
        self.tokens: dict[str, str] = {}


Run = Callable[[Client, Ids], None]


class Batch:
    """Changes that run together as one call: the consecutive changes of a plan that hold
    the same batch run as `run(client, [their items])` instead of one by one (the
    parameters of one service, so that they make one revision)."""

    def __init__(self, run: Callable[[Client, list[Any]], None]) -> None:
        self.run = run


@dataclass(frozen=True)
class Change:
    """One resource to create, update or delete; with a `batch`, its `item` runs in it."""

    action: Action
    kind: str
    name: str
    run: Run
    fields: tuple[FieldDiff, ...] = ()
    batch: Batch | None = None
    item: Any = None

    def describe(self) -> list[str]:
        """The change as diff lines: `+ kind name`, then one indented line per field."""
        return describe(self.as_json())

    def as_json(self) -> dict[str, Any]:
        """The change as data, for `--output json`."""
        return {
            "action": self.action.value,
            "kind": self.kind,
            "name": self.name,
            "fields": [{"name": d.name, "old": d.old, "new": d.new} for d in self.fields],
        }


def describe(change: dict[str, Any]) -> list[str]:
    """A change as `Change.as_json` writes it (and `POST /v1/stack:apply` answers it), as
    diff lines: `+ kind name`, then one indented line per field."""
    action = Action(change["action"])
    lines = [f"{_SIGNS[action]} {change['kind']} {change['name']}"]
    for diff in change["fields"]:
        if action is Action.CREATE:
            lines.append(f"    {diff['name']}: {show(diff['new'])}")
        else:
            lines.append(f"    {diff['name']}: {show(diff['old'])} -> {show(diff['new'])}")
    return lines


@dataclass
class Plan:
    """Every change, in the order they run; `missing_secrets` names each `env://` secret
    that was not set when a dry-run planned it (with a placeholder)."""

    changes: list[Change] = field(default_factory=list)
    missing_secrets: list[str] = field(default_factory=list)

    def add(self, change: Change) -> None:
        """Append a change."""
        self.changes.append(change)

    def counts(self) -> dict[str, int]:
        """How many changes of each action."""
        return {a.value: sum(c.action is a for c in self.changes) for a in Action}

    def summary(self) -> str:
        """One line such as `3 to create, 1 to update, 0 to delete` (and `, 1 to replace`
        when something is replaced)."""
        return summary(self.counts())

    def describe(self) -> str:
        """The whole plan as diff text."""
        return "\n".join(line for change in self.changes for line in change.describe())


def summary(counts: dict[str, int]) -> str:
    """`Plan.summary` of these counts by action."""
    text = (
        f"{counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete"
    )
    return text + (f", {counts['replace']} to replace" if counts["replace"] else "")


def show(value: Any) -> str:
    """A field's value as a plan shows it: JSON, `(none)`, or `(secret)`."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value == SECRET else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def differences(current: dict[str, Any], wanted: dict[str, Any]) -> tuple[FieldDiff, ...]:
    """The fields of `wanted` whose value differs from `current` (absent counts as None)."""
    return tuple(
        FieldDiff(name, current.get(name), value)
        for name, value in wanted.items()
        if current.get(name) != value
    )


def created(wanted: dict[str, Any]) -> tuple[FieldDiff, ...]:
    """The fields of a new resource, for the plan."""
    return tuple(FieldDiff(name, None, value) for name, value in wanted.items())
