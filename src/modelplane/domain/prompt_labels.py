"""Labels of prompt templates: a name (`production`, `staging`, …) that points at one version.

A deploy moves a label to a new version and a rollback moves it back; readers ask for a
template by label and get the version it points at. `latest` is not stored: it always
means the current version and cannot be moved. `production` is protected: only the
workspace's owner, its editors and admins may move it (authors may move the others).
Every move is kept in the template's label history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelplane.domain.errors import InvalidArgument

LATEST = "latest"
PROTECTED = frozenset({"production"})
LABEL_MAX = 64
LABEL_RULE = f"1..{LABEL_MAX} characters of a-z, 0-9, _ and -"
_LABEL = re.compile(rf"[a-z0-9_-]{{1,{LABEL_MAX}}}")


@dataclass(frozen=True, slots=True)
class PromptLabel:
    """Where a label points now."""

    label: str
    version: int
    updated_at: int
    updated_by: str


@dataclass(frozen=True, slots=True)
class LabelMove:
    """One move of a label: from a version (None: it was not set) to a version (None: it
    was removed)."""

    label: str
    from_version: int | None
    to_version: int | None
    moved_at: int
    moved_by: str


def is_label(label: str) -> bool:
    """Whether `label` is a label name of the grammar."""
    return bool(_LABEL.fullmatch(label))


def check_label(label: str, field: str = "label") -> None:
    """Raise InvalidArgument (naming `field`) for a label name outside the grammar."""
    if not isinstance(label, str) or not is_label(label):
        raise InvalidArgument.of(field, f"must be {LABEL_RULE}")


def check_movable(label: str, field: str = "label") -> None:
    """Raise InvalidArgument for a label that cannot be set or removed (`latest`)."""
    check_label(label, field)
    if label == LATEST:
        raise InvalidArgument.of(
            field, f"{LATEST!r} always means the current version and cannot be moved"
        )


def is_protected(label: str) -> bool:
    """Whether moving `label` needs the editor role (or ownership, or an admin)."""
    return label in PROTECTED


def check_one_selector(version: int | None, label: str | None) -> None:
    """Raise InvalidArgument when both a version and a label are asked for."""
    if version is not None and label is not None:
        raise InvalidArgument.of("label", "give a version or a label, not both")
