"""How many watches may be open at once: per principal, and in all, in this process.

Every open watch (a long poll or an event stream) holds a slot from the moment it is
accepted until it ends, however it ends: a change, its timeout, the client leaving, an
error, the server shutting down. A watch beyond either cap is refused with
`ResourceExhausted` before it reads anything, so that one principal cannot hold the
connections, memory and wake-ups of the whole replica.

Like the rate limits, the counts are per process: behind N replicas a principal may hold
up to N times its cap. Taking and giving back never await, so one event loop needs no lock.
"""

from __future__ import annotations

from modelplane.domain.errors import ResourceExhausted

# Slots come free as watches end, which takes seconds (a long poll waits up to its timeout).
RETRY_AFTER_SECONDS = 2.0


class WatchSlot:
    """One open watch's slot; `release` gives it back (again: nothing)."""

    __slots__ = ("_principal_id", "_slots")

    def __init__(self, slots: WatchSlots, principal_id: str) -> None:
        self._slots: WatchSlots | None = slots
        self._principal_id = principal_id

    def release(self) -> None:
        """Give the slot back, once."""
        slots, self._slots = self._slots, None
        if slots is not None:
            slots._give_back(self._principal_id)


class WatchSlots:
    """At most `per_principal` open watches per principal and `total` in all."""

    def __init__(self, *, per_principal: int, total: int) -> None:
        if not 1 <= per_principal <= total:
            raise ValueError(f"need 1 <= per_principal <= total, not {per_principal}, {total}")
        self.per_principal = per_principal
        self.total = total
        self._open: dict[str, int] = {}
        self._count = 0

    def open(self, principal_id: str | None = None) -> int:
        """How many watches are open (of `principal_id` when given)."""
        return self._count if principal_id is None else self._open.get(principal_id, 0)

    def take(self, principal_id: str) -> WatchSlot:
        """A slot for a new watch of `principal_id`; ResourceExhausted beyond either cap."""
        held = self._open.get(principal_id, 0)
        if held >= self.per_principal:
            raise ResourceExhausted(
                f"too many open watches: this principal has {held} open, the most allowed "
                f"(MODELPLANE_MAX_WATCHES_PER_PRINCIPAL={self.per_principal}); end one first",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            )
        if self._count >= self.total:
            raise ResourceExhausted(
                f"too many open watches: {self._count} are open on this server, the most "
                f"allowed (MODELPLANE_MAX_WATCHES={self.total}); retry later",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            )
        self._open[principal_id] = held + 1
        self._count += 1
        return WatchSlot(self, principal_id)

    def _give_back(self, principal_id: str) -> None:
        held = self._open.get(principal_id, 0) - 1
        if held > 0:
            self._open[principal_id] = held
        else:
            self._open.pop(principal_id, None)
        self._count -= 1
