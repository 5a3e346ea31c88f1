"""Planning the `principals` of a stack: found by name, created when missing (as `member`
unless a `role` is declared) and never deleted; a role cannot change. Their gateway
limits are planned here, first, and their API keys last (`plan_keys`), once the models a
key may name exist.

Principals are an admin's to list and create: a stack without `principals` reads none.
"""

from __future__ import annotations

from modelplane.client import Client, Principal
from modelplane.stack.changes import Action, Change, Ids, Plan, Run, created
from modelplane.stack.plan_limits import Subject, plan_limits
from modelplane.stack.spec import PrincipalSpec, StackError

KIND = "principal"
MEMBER = "member"


def _create(name: str, role: str) -> Run:
    def run(client: Client, ids: Ids) -> None:
        ids.principals[name] = client.principals.create(name, role=role).principal_id

    return run


def principal_of(name: str, found: Principal | None) -> Subject:
    """The subject of a principal's own limits: the one found, else the one applying made."""

    def subject(ids: Ids) -> tuple[str, str | None]:
        return (found.principal_id if found is not None else ids.principals[name]), None

    return subject


def plan_principals(
    client: Client, specs: list[PrincipalSpec], plan: Plan, *, prune: bool
) -> dict[str, Principal]:
    """Add the changes that create the missing principals and set their limits; answer
    the principals that exist, by name."""
    if not specs:
        return {}
    found = {principal.name: principal for principal in client.principals.list()}
    for i, spec in enumerate(specs):
        current = found.get(spec.name)
        if current is None:
            role = spec.role or MEMBER
            plan.add(
                Change(
                    Action.CREATE,
                    KIND,
                    spec.name,
                    _create(spec.name, role),
                    created({"role": role}),
                )
            )
        elif spec.role is not None and spec.role != current.role:
            raise StackError(
                f"principals[{i}].role: principal {spec.name!r} is {current.role}, not "
                f"{spec.role}; a role cannot change: declare {current.role}, or make another "
                "principal"
            )
        limits = None
        if current is not None and (spec.limits is not None or prune):
            limits = client.limits.get(current.principal_id).limits
        plan_limits(
            limits, spec.limits, spec.name, principal_of(spec.name, current), plan, prune=prune
        )
    return found
