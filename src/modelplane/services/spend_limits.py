"""The gateway's limits and budgets of a principal or one of its API keys: read, set,
clear, with the current windows' use.

Who may: an admin reads and sets anyone's. A member reads its own principal's limits and
its own keys', and sets or clears limits on its own keys, each at most its principal's
limit of the same name (a budget at most the principal's amount, whatever the periods):
a key's limits only narrow what its principal's already allow, and both apply to every
call. Changes are audited as updates of the principal or key (`details.limits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.errors import NotFound, PermissionDenied, Unavailable
from modelplane.domain.errors import listing as violation_listing
from modelplane.domain.principals import Permission, Principal
from modelplane.domain.spend_limits import (
    Limits,
    Metric,
    SubjectKind,
    SubjectLimits,
    Window,
    amount_text,
    beyond,
    counter_key,
    minute_window,
    parse_limits,
    period_window,
)
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.store.counters import Counters
from modelplane.store.uow import Store, UnitOfWork

PRINCIPAL = "Principal"
API_KEY = "ApiKey"


@dataclass(frozen=True, slots=True)
class WindowUse:
    """What a subject used in one window, and when that window ends (epoch ms)."""

    used: int
    resets_at: int


@dataclass(frozen=True, slots=True)
class LimitsView:
    """A subject's limits (None: none set) and its current windows' use (None: not
    counted, or the counters could not be read)."""

    kind: SubjectKind
    subject_id: str
    principal_id: str
    limits: Limits | None
    updated_at: int | None
    requests: WindowUse | None = None
    tokens: WindowUse | None = None
    spend: WindowUse | None = None


def _may_read(actor: Principal, principal_id: str) -> None:
    if principal_id != actor.principal_id:
        actor.require(Permission.MANAGE_PRINCIPALS)


async def _subject(
    uow: UnitOfWork, principal_id: str, api_key_id: str | None
) -> tuple[SubjectKind, str]:
    """The subject a route names; NotFound when the principal or its key is missing."""
    if await uow.principals.get(principal_id) is None:
        raise NotFound(PRINCIPAL, principal_id)
    if api_key_id is None:
        return SubjectKind.PRINCIPAL, principal_id
    keys = await uow.principals.list_api_keys(principal_id)
    if not any(k.api_key_id == api_key_id for k in keys):
        raise NotFound(API_KEY, api_key_id)
    return SubjectKind.API_KEY, api_key_id


async def _use(counters: Counters, view: LimitsView, now: int) -> LimitsView:
    """`view` with its windows' use, as far as the counters answer."""
    limits = view.limits
    if limits is None:
        return view
    minute = minute_window(now)
    windows: list[tuple[Metric, Window]] = [(Metric.REQUESTS, minute), (Metric.TOKENS, minute)]
    if limits.period is not None:
        windows.append((Metric.SPEND, period_window(limits.period, now)))
    keys = [counter_key(view.kind, view.subject_id, metric, window) for metric, window in windows]
    try:
        values = await counters.values(keys)
    except Unavailable:
        return view  # the limits hold; their use is unknown for now
    found = {
        metric: WindowUse(max(0, value), window.end)
        for (metric, window), value in zip(windows, values, strict=True)
    }
    return LimitsView(
        view.kind,
        view.subject_id,
        view.principal_id,
        limits,
        view.updated_at,
        found[Metric.REQUESTS],
        found[Metric.TOKENS],
        found.get(Metric.SPEND),
    )


def _view(
    kind: SubjectKind, subject_id: str, principal_id: str, found: SubjectLimits | None
) -> LimitsView:
    if found is None:
        return LimitsView(kind, subject_id, principal_id, None, None)
    return LimitsView(kind, subject_id, principal_id, found.limits, found.updated_at)


async def limits_in_use(
    counters: Counters,
    kind: SubjectKind,
    subject_id: str,
    principal_id: str,
    found: SubjectLimits | None,
) -> LimitsView:
    """The view of a subject's stored limits with their current windows' use (read after
    the caller's transaction)."""
    return await _use(counters, _view(kind, subject_id, principal_id, found), now_ms())


def limits_details(limits: Limits | None) -> dict[str, Any]:
    """The audit details of a change of limits (None: cleared)."""
    if limits is None:
        return {"limits": None}
    budget = amount_text(limits.budget_nanos) if limits.budget_nanos is not None else None
    period = limits.period.value if limits.period is not None else None
    return {"limits": {"rpm": limits.rpm, "tpm": limits.tpm, "budget": budget, "period": period}}


def _audited(kind: SubjectKind) -> ResourceType:
    return ResourceType.PRINCIPAL if kind is SubjectKind.PRINCIPAL else ResourceType.API_KEY


async def get_limits(
    *,
    store: Store,
    counters: Counters,
    actor: Principal,
    principal_id: str,
    api_key_id: str | None = None,
) -> LimitsView:
    """The limits of a principal or of one of its keys, and the current windows' use."""
    _may_read(actor, principal_id)
    async with store.reader() as uow:
        kind, subject_id = await _subject(uow, principal_id, api_key_id)
        found = await uow.spend_limits.get(kind, subject_id)
    return await _use(counters, _view(kind, subject_id, principal_id, found), now_ms())


async def set_limits(
    *,
    store: Store,
    counters: Counters,
    actor: Principal,
    principal_id: str,
    api_key_id: str | None = None,
    rpm: Any = None,
    tpm: Any = None,
    budget: Any = None,
    period: Any = None,
) -> LimitsView:
    """Replace a principal's limits (admins) or a key's (admins; its member, within)."""
    if api_key_id is None:
        actor.require(Permission.MANAGE_PRINCIPALS)
    else:
        _may_read(actor, principal_id)
    limits = parse_limits(rpm=rpm, tpm=tpm, budget=budget, period=period)
    now = now_ms()
    async with store.writer() as uow:
        kind, subject_id = await _subject(uow, principal_id, api_key_id)
        if kind is SubjectKind.API_KEY and not actor.has(Permission.MANAGE_PRINCIPALS):
            theirs = await uow.spend_limits.get(SubjectKind.PRINCIPAL, principal_id)
            broken = beyond(limits, theirs.limits if theirs is not None else None)
            if broken:
                raise PermissionDenied(violation_listing(broken))
        stored = SubjectLimits(kind, subject_id, principal_id, limits, now)
        await uow.spend_limits.put(stored)
        await record(
            uow, actor, AuditAction.UPDATE, _audited(kind), subject_id, limits_details(limits)
        )
        await uow.commit()
    return await _use(counters, _view(kind, subject_id, principal_id, stored), now)


async def clear_limits(
    *, store: Store, actor: Principal, principal_id: str, api_key_id: str | None = None
) -> bool:
    """Remove a principal's limits (admins) or a key's (its member too); whether any were."""
    if api_key_id is None:
        actor.require(Permission.MANAGE_PRINCIPALS)
    else:
        _may_read(actor, principal_id)
    async with store.writer() as uow:
        kind, subject_id = await _subject(uow, principal_id, api_key_id)
        removed = await uow.spend_limits.delete(kind, subject_id)
        if removed:
            await record(
                uow, actor, AuditAction.UPDATE, _audited(kind), subject_id, limits_details(None)
            )
            await uow.commit()
    return removed
