"""A gateway call's limits and budgets: checked before it is relayed, settled when it
ends (`services/spend_guard.py`); both are one line in `routes.py`."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from modelplane.domain.gateway import Operation, Route
from modelplane.domain.principals import KeyCaller
from modelplane.faces.gateway.relay import Call
from modelplane.services.spend_guard import Outcome, Reservation, SpendGuard


async def check_call(
    scope: Scope, caller: KeyCaller, route: Route, body: dict[str, Any], operation: Operation
) -> Reservation | None:
    """Take the call from its key's and principal's limits (None: none limit it)."""
    guard: SpendGuard = scope["app"].state.spend_guard
    return await guard.check(
        principal_id=caller.principal.principal_id,
        api_key_id=caller.api_key_id,
        route=route,
        body=body,
        operation=operation,
    )


def settle_call(call: Call, scope: Scope, reservation: Reservation | None) -> None:
    """Settle an ended call with its real usage (in the background)."""
    if reservation is None:
        return
    guard: SpendGuard = scope["app"].state.spend_guard
    usage = call.usage
    outcome = Outcome(
        status=call.status,
        member=call.member,
        family=call.operation.family,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read=usage.cache_read_tokens,
        cache_write=usage.cache_write_tokens,
    )
    guard.settle(reservation, call.route, outcome)
