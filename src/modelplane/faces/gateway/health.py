"""Which pool members rest: after failures in a row, a member sits out for a while, per
member and operation (one failing route never takes a member out of the others)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from modelplane.domain.gateway import Operation

Key = tuple[str, Operation]


class Health:
    """Failures in a row and rest periods of pool members, in this replica's memory."""

    def __init__(
        self, *, failures: int, rest_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._failures = failures
        self._rest = rest_seconds
        self._clock = clock
        self._in_a_row: dict[Key, int] = {}
        self._resting_until: dict[Key, float] = {}
        self._not_before: dict[Key, float] = {}  # from an upstream's Retry-After

    def resting(self, members: Iterable[str], operation: Operation) -> set[str]:
        """The members that rest now for `operation`."""
        now = self._clock()
        return {m for m in members if self._resting_until.get((m, operation), 0.0) > now}

    def wait_for(self, member: str, operation: Operation) -> float:
        """Seconds until `member` said it may be called again (its Retry-After), or 0."""
        return max(0.0, self._not_before.get((member, operation), 0.0) - self._clock())

    def failed(
        self, member: str, operation: Operation, *, retry_after: float | None = None
    ) -> None:
        """Count a failure; the member rests once it failed enough times in a row."""
        key = (member, operation)
        count = self._in_a_row.get(key, 0) + 1
        self._in_a_row[key] = count
        now = self._clock()
        if retry_after is not None:
            self._not_before[key] = now + retry_after
        if count >= self._failures and self._rest > 0:
            self._resting_until[key] = now + self._rest
            self._in_a_row[key] = 0

    def succeeded(self, member: str, operation: Operation) -> None:
        """A member that answered is healthy again."""
        key = (member, operation)
        self._in_a_row.pop(key, None)
        self._resting_until.pop(key, None)
        self._not_before.pop(key, None)
