"""Dynamic parameters: key/value pairs of a service namespace, changed at run time.

A namespace is `(cluster, configType, name)`; `configType` is `service`. The principal
that first writes to a namespace owns it (or the owner an admin names). Every write bumps
the namespace's revision once, whether it changes one parameter or a batch of them, and
every parameter it changes is kept in the history at that revision, so that watchers can
tell what they have missed and any earlier revision's state can be rebuilt (a revert).
A parameter may declare a format (`config_formats`) that its values are checked in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from modelplane.domain.config_formats import ConfigFormat, check_format
from modelplane.domain.errors import FieldViolation, InvalidArgument, ViolationCollector
from modelplane.domain.text import BYTES, check_length

CONFIG = "Config"
NAMESPACE = "ConfigNamespace"
CONFIG_TYPE = "service"
VALUE_MAX = 64 * 1024
REVISION_MAX = 2**63 - 1  # revisions are 64-bit in the store and on the wire
BATCH_MAX = 1000  # items of one batch
BATCH_BYTES_MAX = 4 * 1024 * 1024  # the values of one batch together (UTF-8)
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
    format: ConfigFormat = ConfigFormat.TEXT


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a namespace's history: one parameter changed at one revision (a batch
    or a revert makes several entries with the same revision)."""

    revision: int
    key: str
    kind: ChangeKind
    value: str | None  # None for a delete
    actor_id: str
    at: int
    format: ConfigFormat | None = None  # None for a delete


class WriteOp(StrEnum):
    """What one item of a batch does."""

    SET = "set"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class ConfigWrite:
    """One item of a batch, as given: set `key` to `value` (in `format`; None keeps the
    parameter's own, `text` for a new one), or delete it."""

    key: object
    op: object = WriteOp.SET
    value: object = None
    format: object = None


@dataclass(frozen=True, slots=True)
class CheckedWrite:
    """A batch item that keeps every rule it can be checked against without the store;
    `index` is its place in the batch."""

    index: int
    key: str
    op: WriteOp
    value: str | None  # None for a delete
    format: ConfigFormat | None  # None: keep the parameter's own (`text` when new)

    @property
    def field(self) -> str:
        """The wire path of the item: `items.<index>`."""
        return f"items.{self.index}"


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


def value_into(value: object, field: str, errors: ViolationCollector) -> str | None:
    """The value if it is a required string (it may be empty) of at most 64 KiB; else
    None and a violation of `field`."""
    if value is not None and not isinstance(value, str):
        errors.add(field, "must be a string")
        return None
    before = len(errors.violations)
    check_length(value, field, errors, most=VALUE_MAX, required=True, blank=True, unit=BYTES)
    return value if len(errors.violations) == before else None


def check_value(value: object) -> str:
    """The value, which is a required string (it may be empty) of at most 64 KiB."""
    errors = ViolationCollector()
    text = value_into(value, "value", errors)
    errors.raise_if_any()
    assert text is not None
    return text


def key_rule(key: object, *, new: bool) -> str | None:
    """The rule `key` breaks (`new`: as a key to create), if any."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return "must match ^[A-Za-z0-9._/-]{1,100}$"
    if new and any(part in _UNADDRESSABLE for part in key.split("/")):
        return NEW_KEY_RULE
    return None


def check_batch(items: Sequence[ConfigWrite]) -> list[CheckedWrite]:
    """The items of a batch, each checked by every rule that needs no store; else one
    InvalidArgument naming each bad item's field (`items.3.value`).

    1..`BATCH_MAX` items whose values total at most `BATCH_BYTES_MAX`; each a `set` (a
    value, and a format if it declares one) or a `delete` (neither); no key twice. The
    rules that need the namespace (a new key's shape, a deleted key's existence, a value
    in the format stored) are the service's.
    """
    errors = ViolationCollector()
    if not 1 <= len(items) <= BATCH_MAX:
        raise InvalidArgument.of("items", f"must hold 1..{BATCH_MAX} items")
    checked: list[CheckedWrite] = []
    first: dict[str, int] = {}
    size = 0
    for index, item in enumerate(items):
        where = f"items.{index}"
        key_broken = key_rule(item.key, new=False)
        if key_broken is not None:
            errors.add(f"{where}.key", key_broken)
        elif isinstance(item.key, str) and item.key in first:
            errors.add(f"{where}.key", f"repeats items.{first[item.key]}: a key once per batch")
        else:
            first[str(item.key)] = index
        op = _op(item.op, f"{where}.op", errors)
        value: str | None = None
        fmt: ConfigFormat | None = None
        if op is WriteOp.DELETE:
            for name, given in (("value", item.value), ("format", item.format)):
                if given is not None:
                    errors.add(f"{where}.{name}", "must be absent for a delete")
        elif op is WriteOp.SET:
            value = value_into(item.value, f"{where}.value", errors)
            fmt = check_format(item.format, f"{where}.format", errors)
            size += len(value.encode("utf-8", "surrogatepass")) if value is not None else 0
        if op is not None and key_broken is None:
            checked.append(CheckedWrite(index, str(item.key), op, value, fmt))
    if size > BATCH_BYTES_MAX:
        errors.add("items", f"the values must total at most {BATCH_BYTES_MAX} {BYTES}")
    errors.raise_if_any()
    return checked


def _op(value: object, field: str, errors: ViolationCollector) -> WriteOp | None:
    if isinstance(value, str) and value in (WriteOp.SET.value, WriteOp.DELETE.value):
        return WriteOp(value)
    errors.add(field, "must be `set` or `delete`")
    return None


def raise_violations(violations: Sequence[FieldViolation]) -> None:
    """Raise one InvalidArgument naming every violation, if any."""
    if violations:
        ViolationCollector(list(violations)).raise_if_any()


def check_revision(value: object, field: str = "revision") -> int:
    """A revision: a whole number 0..2**63-1; else InvalidArgument naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= REVISION_MAX:
        raise InvalidArgument.of(field, f"must be a whole number 0..{REVISION_MAX}")
    return value


# --- gray releases: a candidate served to some clients only -----------------------------------

CANDIDATE = "ConfigCandidate"
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
LABELS_MAX = 20  # client labels one candidate targets
_LABEL = re.compile(LABEL_PATTERN)
LABEL_RULE = "1..64 of [A-Za-z0-9._-], starting with a letter or digit"


@dataclass(frozen=True, slots=True)
class CandidateItem:
    """One change of a candidate: set `key` to `value` in `format` (resolved when the
    candidate was written: the declared one, else the parameter's own then), or delete it."""

    key: str
    op: WriteOp
    value: str | None  # None for a delete
    format: ConfigFormat | None  # None for a delete


@dataclass(frozen=True, slots=True)
class Candidate:
    """A namespace's open gray release: changes served only to clients whose label is in
    `labels`, until promoted (one revision for everyone) or dropped.

    `version` is the namespace's candidate counter when it was last written: it grows with
    every create, replace, promote and drop, so it never repeats within a namespace.
    """

    key: NamespaceKey
    candidate_id: str
    version: int
    labels: list[str]
    items: list[CandidateItem]
    base_revision: int  # the namespace's revision when it was last written
    created_by: str
    created_at: int
    updated_at: int

    def targets(self, label: str | None) -> bool:
        """Whether a client with `label` is served this candidate."""
        return label is not None and label in self.labels


@dataclass(frozen=True, slots=True)
class GrayView:
    """A namespace as one client sees it: the base revision, and the candidate applied on
    top when the client's label is targeted (`candidate` None otherwise).

    The pair (`revision`, `candidate_version`) is what the client holds: a watch from it
    answers when either moves (`candidate_version` 0: no candidate served)."""

    state: NamespaceState
    candidate: Candidate | None

    @property
    def candidate_version(self) -> int:
        """The version of the candidate served; 0 when none is."""
        return self.candidate.version if self.candidate is not None else 0


@dataclass(frozen=True, slots=True)
class GrayChanges:
    """What a watcher with a client label is sent: the changes after what it held, or,
    with `full`, every parameter as it sees the namespace now (the candidate it held
    changed, so what it held cannot be patched: it replaces it)."""

    changes: NamespaceChanges
    candidate: Candidate | None
    full: bool

    @property
    def candidate_version(self) -> int:
        """The version of the candidate served; 0 when none is."""
        return self.candidate.version if self.candidate is not None else 0


def check_client_label(label: str | None, field: str = "clientLabel") -> str | None:
    """A client label (`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`), or None when none is given;
    else InvalidArgument naming `field`."""
    if label is None:
        return None
    if not _LABEL.fullmatch(label):
        raise InvalidArgument.of(field, LABEL_RULE)
    return label


def check_labels(labels: object) -> list[str]:
    """The labels a candidate targets: 1..`LABELS_MAX` distinct labels, each named
    (`labels.2`) when it breaks the grammar or repeats."""
    if not isinstance(labels, list) or not 1 <= len(labels) <= LABELS_MAX:
        raise InvalidArgument.of("labels", f"must hold 1..{LABELS_MAX} client labels")
    errors = ViolationCollector()
    seen: dict[str, int] = {}
    for index, label in enumerate(labels):
        if not isinstance(label, str) or not _LABEL.fullmatch(label):
            errors.add(f"labels.{index}", LABEL_RULE)
        elif label in seen:
            errors.add(f"labels.{index}", f"repeats labels.{seen[label]}: a label once")
        else:
            seen[label] = index
    errors.raise_if_any()
    return [str(label) for label in labels]


def apply_candidate(configs: Sequence[Config], candidate: Candidate, revision: int) -> list[Config]:
    """The parameters `configs` (of the namespace at `revision`) with the candidate's sets
    and deletes applied, in key order; a value set by the candidate carries `revision`."""
    held = {c.key: c for c in configs}
    for item in candidate.items:
        if item.op is WriteOp.DELETE:
            held.pop(item.key, None)
            continue
        assert item.value is not None and item.format is not None
        was = held.get(item.key)
        created = was.created_at if was is not None else candidate.updated_at
        held[item.key] = Config(
            item.key, item.value, created, candidate.updated_at, revision, item.format
        )
    return [held[key] for key in sorted(held)]


def check_since_candidate(value: int, label: str | None) -> int:
    """The candidate version a watcher holds: 0..2**63-1, and 0 without a client label."""
    if not 0 <= value <= REVISION_MAX:
        raise InvalidArgument.of("sinceCandidate", f"must be 0..{REVISION_MAX}")
    if value and label is None:
        raise InvalidArgument.of("sinceCandidate", "must be 0 without a client label")
    return value


# --- who is listening ---------------------------------------------------------------------


class ListenMode(StrEnum):
    """How a watcher listens."""

    LONG_POLL = "long-poll"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Listener:
    """One open watch of a namespace, on one replica: what it holds and since when."""

    listener_id: str
    replica_id: str
    key: NamespaceKey
    client_label: str | None
    revision: int
    candidate_version: int
    principal_id: str
    mode: ListenMode
    since: int  # epoch milliseconds
