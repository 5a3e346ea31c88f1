"""Planning the gateway limits of a principal or of one of its API keys (`limits`).

Declared limits replace the subject's whole: set when it has none, updated when one
differs (a limit left out is then none), and cleared by `limits: {}`. Left out, they are
not managed, but `--prune` clears those of a declared principal or key. Budgets are
compared in exact nano-units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelplane.client import Client, SpendLimits
from modelplane.stack.changes import Action, Change, Ids, Plan, created, differences
from modelplane.stack.spec import LimitsSpec, amount

KIND = "limits"

# The principal id and the key id (None: the principal's own limits) of the limits'
# subject, once the changes before have run (a principal or key may be made by them).
Subject = Callable[[Ids], tuple[str, str | None]]


def held(limits: SpendLimits | None) -> dict[str, Any] | None:
    """Stored limits as a stack declares them (None: no limits)."""
    if limits is None:
        return None
    nanos = limits.budget_nanos
    return {
        "rpm": limits.rpm,
        "tpm": limits.tpm,
        "budget": None if nanos is None else amount(nanos),
        "period": limits.period,
    }


def written(limits: dict[str, Any]) -> dict[str, Any]:
    """The limits that are set, as an export writes them."""
    return {name: value for name, value in limits.items() if value is not None}


def _set(subject: Subject, spec: LimitsSpec) -> Callable[[Client, Ids], None]:
    def run(client: Client, ids: Ids) -> None:
        principal_id, api_key_id = subject(ids)
        client.limits.set(
            principal_id,
            api_key_id=api_key_id,
            rpm=spec.rpm,
            tpm=spec.tpm,
            budget=spec.budget,
            period=spec.period,
        )

    return run


def _clear(subject: Subject) -> Callable[[Client, Ids], None]:
    def run(client: Client, ids: Ids) -> None:
        principal_id, api_key_id = subject(ids)
        client.limits.clear(principal_id, api_key_id=api_key_id)

    return run


def plan_limits(
    current: SpendLimits | None,
    spec: LimitsSpec | None,
    name: str,
    subject: Subject,
    plan: Plan,
    *,
    prune: bool,
) -> None:
    """Add the change that makes the subject's limits `spec` (None: not declared)."""
    if spec is None and not prune:
        return
    have = held(current)
    want = None if spec is None or spec.empty else spec.fields()
    if have == want:
        return
    if want is None:
        plan.add(Change(Action.DELETE, KIND, name, _clear(subject)))
    elif have is None:
        assert spec is not None
        plan.add(Change(Action.CREATE, KIND, name, _set(subject, spec), created(written(want))))
    else:
        assert spec is not None
        plan.add(Change(Action.UPDATE, KIND, name, _set(subject, spec), differences(have, want)))
