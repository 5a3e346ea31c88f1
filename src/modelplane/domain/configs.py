"""Dynamic parameters: key/value pairs of a service namespace, changed at run time.

A namespace is `(cluster, configType, name)`; `configType` is `service`. The principal
that first writes to a namespace owns it (or the owner an admin names). Every change bumps
the namespace's revision and is kept in its history, so that watchers can tell what they
have missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.text import BYTES, check_length

CONFIG = "Config"
NAMESPACE = "ConfigNamespace"
CONFIG_TYPE = "service"
VALUE_MAX = 64 * 1024
KEY_PATTERN = r"^[A-Za-z0-9._/-]{1,100}$"
CLUSTER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
NEW_KEY_RULE = (
    "no empty, `.` or `..` part between `/` (no leading, trailing or doubled `/`): "
    "clients normalise such paths, so the key could not be addressed"
)
_UNADDRESSABLE = frozenset({"", ".", ".."})
_KEY = re.compile(KEY_PATTERN)
_CLUSTER = re.compile(CLUSTER_PATTERN)
_NAME = re.compile(NAME_PATTERN)


class ChangeKind(StrEnum):
    """What a history entry records."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class NamespaceKey:
    """Which namespace: `(cluster, service, name)`."""

    cluster_id: str
    name: str

    def __str__(self) -> str:
        return f"{self.cluster_id}/{CONFIG_TYPE}/{self.name}"


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace, its owner and its current revision."""

    key: NamespaceKey
    owner_id: str
    revision: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Config:
    """One parameter."""

    key: str
    value: str
    created_at: int
    updated_at: int
    revision: int  # the namespace revision of its last change


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a namespace's history."""

    revision: int
    key: str
    kind: ChangeKind
    value: str | None  # None for a delete
    actor_id: str
    at: int


@dataclass(frozen=True, slots=True)
class NamespaceState:
    """A namespace's parameters at one revision."""

    key: NamespaceKey
    revision: int
    configs: list[Config]


@dataclass(frozen=True, slots=True)
class NamespaceChanges:
    """What changed in a namespace after revision `since`, as of `revision`: the parameters
    set since (in key order) and the keys deleted since and not set again (sorted).

    Applied to the namespace at `since` (sets first, then deletions) it gives the namespace
    at `revision`; from `since` 0, when nothing existed, `configs` is every parameter.
    """

    key: NamespaceKey
    since: int
    revision: int
    configs: list[Config]
    deleted: list[str]


def check_namespace(cluster_id: str, config_type: str, name: str) -> NamespaceKey:
    """Validate `(cluster, configType, name)`; raise InvalidArgument naming each field."""
    errors = ViolationCollector()
    if not _CLUSTER.fullmatch(cluster_id):
        errors.add("cluster", "1..64 of [A-Za-z0-9._-], starting with a letter or digit")
    if config_type != CONFIG_TYPE:
        errors.add("configType", f"must be {CONFIG_TYPE!r}")
    if not _NAME.fullmatch(name):
        errors.add("name", "1..128 of [A-Za-z0-9._-], starting with a letter or digit")
    errors.raise_if_any()
    return NamespaceKey(cluster_id, name)


def check_key(key: str) -> None:
    """Raise InvalidArgument unless `key` matches `^[A-Za-z0-9._/-]{1,100}$`.

    The rule of every key that may be stored; a key to create must also pass `check_new_key`.
    """
    errors = ViolationCollector()
    if not _KEY.fullmatch(key):
        errors.add("key", "must match ^[A-Za-z0-9._/-]{1,100}$")
    errors.raise_if_any()


def check_new_key(key: str) -> None:
    """Raise InvalidArgument unless `key` may be created: `check_key`, and every part between
    `/` neither empty nor `.` or `..`.

    HTTP clients normalise such paths (`a/../b` becomes `b`, `a//b` may become `a/b`), so a
    key like that could not be addressed again. Keys stored before this rule stay readable,
    changeable and deletable: only creating one is refused.
    """
    check_key(key)
    if any(part in _UNADDRESSABLE for part in key.split("/")):
        raise InvalidArgument.of("key", NEW_KEY_RULE)


def check_value(value: object) -> str:
    """The value, which is a required string (it may be empty) of at most 64 KiB."""
    errors = ViolationCollector()
    if value is not None and not isinstance(value, str):
        errors.add("value", "must be a string")
    else:
        check_length(value, "value", errors, most=VALUE_MAX, required=True, blank=True, unit=BYTES)
    errors.raise_if_any()
    assert isinstance(value, str)
    return value
