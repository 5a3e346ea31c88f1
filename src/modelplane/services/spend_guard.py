"""Limits and budgets at the gateway: a call is checked before it is relayed and settled
when it ends.

The check: the limits of the call's key and principal (kept in the read cache, cleared
by every change; without limits the check ends there, with no counter I/O), then in one
all-or-nothing take from the shared counters (`store/counters.py`): a request from each
minute, a check of each tokens-per-minute limit, and, against each budget, a reservation
of an upper bound of the call's cost (`Estimate`: the input is at most the body's bytes,
the output at most the maximum it names, or its model's default maximum, or
`output_tokens_default`; each at the dearest price of the pool's members). A call of a
model with no price is refused under a budget: its cost could not be counted.

The settlement, in the background once the call has ended: each budget gets the real
cost minus the reservation, each subject's minute the call's tokens. A call whose
upstream reported no usage is charged its estimate when it was answered (or not answered
at all: the client left), nothing when the upstream refused it.

Counters that cannot be reached: with `fail_open` the call goes on unchecked, else it is
refused (503); either way it is counted for /metrics.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from modelplane.domain.errors import FailedPrecondition, Unavailable
from modelplane.domain.gateway import ApiFamily, Operation, Route
from modelplane.domain.prices import Tokens
from modelplane.domain.spend_limits import (
    CallLimits,
    Estimate,
    Take,
    cost_bound,
    input_bound,
    output_bound,
    plan,
    refusal,
    settlement,
)
from modelplane.domain.usage import tokens_of
from modelplane.services.clock import now_ms
from modelplane.store.counters import Counters
from modelplane.store.uow import Store

log = logging.getLogger("modelplane.limits")
SETTLE_WAIT_SECONDS = 5.0  # at shutdown, the longest wait for settlements under way


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a checked call took: its limits, its takes and its estimate."""

    limits: CallLimits
    takes: tuple[Take, ...]
    estimate: Estimate


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a call ended: its status (0: no answer began), the member that answered, and
    the tokens its upstream reported (None: none reported)."""

    status: int
    member: str | None
    family: ApiFamily
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None


def estimate(
    limits: CallLimits, route: Route, body: Mapping[str, Any], operation: Operation, cap: int
) -> Estimate:
    """An upper bound of the call's tokens, and of its cost when a budget applies
    (FailedPrecondition when a member of its pool has no price)."""
    defaults = [t.sampling.max_tokens if t.sampling is not None else None for t in route.targets]
    default_max = max(d for d in defaults if d is not None) if None not in defaults else None
    input_tokens = input_bound(body, len(orjson.dumps(body)))
    output_tokens = output_bound(body, operation, default_max, cap)
    if not limits.budgeted:
        return Estimate(input_tokens, output_tokens)
    unpriced = [t.member for t in route.targets if t.prices is None]
    if unpriced:
        raise FailedPrecondition(
            f"model {route.name!r} has no price (member {unpriced[0]}), and a budget applies "
            "to this call: give the model a price (its config's `cost`) or call a priced one"
        )
    cost = max(
        cost_bound(t.prices, input_tokens, output_tokens)
        for t in route.targets
        if t.prices is not None
    )
    return Estimate(input_tokens, output_tokens, cost)


def charged(reservation: Reservation, route: Route, outcome: Outcome) -> tuple[int, int]:
    """What a call ended with costs, and its tokens: as its upstream reported them; else
    its estimate if it was answered or no answer began, nothing if it was refused."""
    if outcome.input_tokens is None and outcome.output_tokens is None:
        if outcome.status >= 400:
            return 0, 0
        return reservation.estimate.cost_nanos or 0, reservation.estimate.tokens
    tokens: Tokens = tokens_of(
        outcome.family,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        cache_read=outcome.cache_read,
        cache_write=outcome.cache_write,
    )
    prices = route.prices_of(outcome.member)
    cost = prices.cost_nanos(tokens) if prices is not None else 0
    return cost, tokens.input + tokens.output


class SpendGuard:
    """This replica's checks and settlements against the shared counters."""

    def __init__(
        self, store: Store, counters: Counters, *, fail_open: bool, output_tokens_default: int
    ) -> None:
        self.store = store
        self.counters = counters
        self.fail_open = fail_open
        self.output_tokens_default = output_tokens_default
        self._pending: set[asyncio.Task[None]] = set()
        self._failing = False
        self.refused = 0
        self.unchecked = 0  # calls let through unchecked: the counters failed (fail open)
        self.unavailable = 0  # calls refused: the counters failed (fail closed)
        self.unsettled = 0  # settlements the counters did not take

    async def limits(self, principal_id: str, api_key_id: str) -> CallLimits | None:
        """The limits of a call by this key (None: none), from the read cache."""

        async def load() -> CallLimits | None:
            async with self.store.reader() as uow:
                found = await uow.spend_limits.for_call(principal_id, api_key_id)
            return found if found.subjects else None

        return await self.store.cached(("spend-limits", principal_id, api_key_id), load)

    async def check(
        self,
        *,
        principal_id: str,
        api_key_id: str,
        route: Route,
        body: Mapping[str, Any],
        operation: Operation,
    ) -> Reservation | None:
        """Take the call from its limits, or raise ResourceExhausted (BudgetSpent for a
        budget) with the time to the window's end; None when nothing limits it."""
        limits = await self.limits(principal_id, api_key_id)
        if limits is None:
            return None
        bound = estimate(limits, route, body, operation, self.output_tokens_default)
        now = now_ms()
        takes = plan(limits, bound, now)
        try:
            taken = await self.counters.take(takes)
        except Unavailable as exc:
            self._warn(exc)
            if self.fail_open:
                self.unchecked += 1
                return None
            self.unavailable += 1
            raise Unavailable(
                "the limits of this call cannot be checked now (their counters do not "
                "answer); retry shortly"
            ) from exc
        self._recovered()
        if taken.refused is not None:
            self.refused += 1
            raise refusal(takes[taken.refused], bound, taken.value, now)
        return Reservation(limits, tuple(takes), bound)

    def settle(self, reservation: Reservation, route: Route, outcome: Outcome) -> None:
        """Settle a call that ended, in the background (never waited for by the call)."""
        cost, tokens = charged(reservation, route, outcome)
        adds = settlement(
            reservation.takes, reservation.limits, cost_nanos=cost, tokens=tokens, now_ms=now_ms()
        )
        if not adds:
            return
        task = asyncio.ensure_future(self._add(adds))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _add(self, adds: list[Take]) -> None:
        try:
            await self.counters.add(adds)
        except Exception as exc:  # the reservation stays counted: never less than spent
            self.unsettled += 1
            self._warn(exc)
        else:
            self._recovered()

    def _warn(self, exc: Exception) -> None:
        if not self._failing:
            self._failing = True
            log.warning("the limits' counters (%s) fail: %s", self.counters.kind, exc)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("the limits' counters (%s) answer again", self.counters.kind)

    async def settled(self) -> None:
        """Wait for the settlements under way (tests; shutdown)."""
        while self._pending:
            await asyncio.wait(set(self._pending))

    async def close(self) -> None:
        """Wait a while for the settlements under way, then release the counters."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=SETTLE_WAIT_SECONDS)
        await self.counters.close()

    def gauges(self) -> list[tuple[str, str, str, float]]:
        """The guard's numbers for /metrics."""
        return [
            (
                "modelplane_limits_refused_total",
                "counter",
                "Gateway calls refused by a rate limit, a token limit or a budget.",
                self.refused,
            ),
            (
                "modelplane_limits_unchecked_total",
                "counter",
                "Gateway calls let through unchecked: the counters did not answer (fail open).",
                self.unchecked,
            ),
            (
                "modelplane_limits_unavailable_total",
                "counter",
                "Gateway calls refused (503): the counters did not answer (fail closed).",
                self.unavailable,
            ),
            (
                "modelplane_limits_unsettled_total",
                "counter",
                "Settlements of ended calls the counters did not take (reservations kept).",
                self.unsettled,
            ),
        ]
