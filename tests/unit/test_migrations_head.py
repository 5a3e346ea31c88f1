"""The pinned head revision is the scripts' head."""

from __future__ import annotations

from modelplane.store import migrate
from modelplane.store.migrations import HEAD


def test_pinned_head_equals_the_newest_migration_script() -> None:
    assert migrate.head_revision() == HEAD
