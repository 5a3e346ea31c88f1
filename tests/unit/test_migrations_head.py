"""The pinned head revision is the scripts' head."""

from __future__ import annotations

import pytest

from modelplane.store import migrate
from modelplane.store.migrations import HEAD


def test_pinned_head_equals_the_newest_migration_script() -> None:
    assert migrate.head_revision() == HEAD


@pytest.mark.parametrize(
    ("revision", "ready"),
    [(HEAD, True), (f"{int(HEAD) + 1:04d}", True), (None, False), ("0001", False), ("abc", False)],
)
def test_a_replica_serves_its_head_or_a_newer_schema(revision: str | None, ready: bool) -> None:
    assert (migrate.readiness_problem(revision) is None) == ready
