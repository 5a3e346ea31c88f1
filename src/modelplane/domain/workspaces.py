"""Workspaces: the scope of prompt templates, reached only by their owner, members and admins.

A member is a `reader` (reads, lists and renders the templates), an `author` (also creates
and updates them, and moves their labels other than `production`) or an `editor` (also
deletes them and moves `production`); managing the workspace stays with its owner and
admins.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, replace
from enum import StrEnum

from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.text import check_length

WORKSPACE = "Workspace"
MEMBER = "WorkspaceMember"
NAME_MAX = 255
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace and the principal who created it."""

    workspace_id: str
    name: str
    owner_id: str
    created_at: int


class MemberRole(StrEnum):
    """What a member may do with the workspace's templates; each role may do what the one
    before it may."""

    READER = "reader"  # read, list, render
    AUTHOR = "author"  # also create and update, move labels other than `production`
    EDITOR = "editor"  # also delete, move `production`

    def allows(self, needed: MemberRole) -> bool:
        """Whether this role may do what `needed` may."""
        order = list(MemberRole)
        return order.index(self) >= order.index(needed)


def member_role(role: str | None) -> MemberRole:
    """The role asked for: `reader` when none is given."""
    if role is None:
        return MemberRole.READER
    try:
        return MemberRole(role)
    except ValueError:
        choices = " or ".join(r.value for r in MemberRole)
        raise InvalidArgument.of("role", f"must be {choices}") from None


def new_workspace_id() -> str:
    """A fresh id in the style of Model Studio's, such as `llm-czal8nvvwb8d4x7q`."""
    return "llm-" + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def new_workspace(*, workspace_id: str | None, name: str, owner_id: str, now_ms: int) -> Workspace:
    """Validate and build a workspace; the client may choose its id."""
    errors = ViolationCollector()
    if workspace_id is not None and not _ID.fullmatch(workspace_id):
        errors.add("workspaceId", "3..64 of [a-z0-9-], starting with a letter or digit")
    _check_name(name, errors)
    errors.raise_if_any()
    return Workspace(
        workspace_id=workspace_id or new_workspace_id(),
        name=name,
        owner_id=owner_id,
        created_at=now_ms,
    )


def renamed(workspace: Workspace, name: str) -> Workspace:
    """The workspace under a new, validated name."""
    errors = ViolationCollector()
    _check_name(name, errors)
    errors.raise_if_any()
    return replace(workspace, name=name)


def _check_name(name: str, errors: ViolationCollector) -> None:
    check_length(name, "name", errors, most=NAME_MAX, required=True)
