"""Usage of the gateway: what a call hands over when it ends, and the reports and record
lists a caller may ask for. Members see their own usage; those who manage principals
(admins) see everyone's."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.principals import Permission, Principal
from modelplane.domain.usage import (
    NAME_MAX,
    GroupBy,
    RecordQuery,
    UsageFilter,
    UsageGroup,
    UsageRecord,
    day_of,
    record_query,
    usage_filter,
    usage_query,
)
from modelplane.services.clock import now_ms
from modelplane.services.usage_recorder import UsageRecorder
from modelplane.store.uow import Store


@dataclass(frozen=True)
class UsageReport:
    """One page of groups, in group order, and the token of the next (None on the last)."""

    first_day: int
    last_day: int
    group_by: tuple[GroupBy, ...]
    groups: list[UsageGroup]
    next_page_token: str | None


@dataclass(frozen=True)
class RecordPage:
    """One page of records, newest first, and the token of the next (None on the last)."""

    records: list[UsageRecord]
    next_page_token: str | None


def record(*, recorder: UsageRecorder, usage: UsageRecord) -> None:
    """Hand over a finished call's record: queued, written in the background."""
    recorder.record(usage)


def _own(actor: Principal, flt: UsageFilter) -> UsageFilter | None:
    """`flt` as `actor` may ask it: a member's usage only (None: asks for another's)."""
    if actor.has(Permission.MANAGE_PRINCIPALS):
        return flt
    if flt.principal_id not in (None, actor.principal_id):
        return None
    return replace(flt, principal_id=actor.principal_id)


def _encode(values: Sequence[object]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return json.loads(raw)
    except (ValueError, binascii.Error):
        return None


def _after(token: str, group_by: tuple[GroupBy, ...]) -> tuple[str | int, ...]:
    """The group a report's page token names; it must come from a report of these groups."""
    values = _decode(token)
    if isinstance(values, list) and len(values) == len(group_by) and group_by:
        fits = all(
            isinstance(v, int) and not isinstance(v, bool)
            if g is GroupBy.DAY
            else isinstance(v, str) and len(v) <= NAME_MAX
            for g, v in zip(group_by, values, strict=True)
        )
        if fits:
            return tuple(values)
    raise InvalidArgument.of("pageToken", "not a token of a report with this groupBy")


def _before(token: str) -> tuple[int, int]:
    values = _decode(token)
    if (
        isinstance(values, list)
        and len(values) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)
    ):
        return values[0], values[1]
    raise InvalidArgument.of("pageToken", "not a token this service gave out")


async def report(
    *,
    store: Store,
    actor: Principal,
    group_by: Sequence[str] = (),
    first: str | None = None,
    last: str | None = None,
    principal_id: str | None = None,
    api_key_id: str | None = None,
    model: str | None = None,
    status: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> UsageReport:
    """Usage summed per group over days `first..last` (UTC, inclusive), from the rollups."""
    errors = ViolationCollector()
    flt = usage_filter(
        principal_id=principal_id, api_key_id=api_key_id, model=model, status=status, errors=errors
    )
    query = usage_query(
        today=day_of(now_ms()),
        group_by=group_by,
        first=first,
        last=last,
        flt=flt,
        page_size=page_size,
        errors=errors,
    )
    errors.raise_if_any()
    if page_token is not None:
        query = replace(query, after=_after(page_token, query.group_by))
    allowed = _own(actor, query.filter)
    groups = [] if query.group_by else [UsageGroup((), ())]  # another's usage: nothing
    if allowed is not None:
        asked = replace(query, filter=allowed, page_size=query.page_size + 1)
        async with store.reader() as uow:
            groups = await uow.usage.report(asked)
    more = len(groups) > query.page_size
    groups = groups[: query.page_size]
    token = _encode(groups[-1].key) if more else None
    return UsageReport(query.first_day, query.last_day, query.group_by, groups, token)


async def records(
    *,
    store: Store,
    actor: Principal,
    since: int | None = None,
    until: int | None = None,
    principal_id: str | None = None,
    api_key_id: str | None = None,
    model: str | None = None,
    status: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> RecordPage:
    """Usage records, newest first, in `since <= at < until` (epoch ms; at most 7 days)."""
    errors = ViolationCollector()
    flt = usage_filter(
        principal_id=principal_id, api_key_id=api_key_id, model=model, status=status, errors=errors
    )
    query: RecordQuery = record_query(
        now_ms=now_ms(), since=since, until=until, flt=flt, page_size=page_size, errors=errors
    )
    errors.raise_if_any()
    if page_token is not None:
        query = replace(query, before=_before(page_token))
    allowed = _own(actor, query.filter)
    if allowed is None:
        return RecordPage([], None)
    async with store.reader() as uow:
        found = await uow.usage.records(
            replace(query, filter=allowed, page_size=query.page_size + 1)
        )
    more = len(found) > query.page_size
    found = found[: query.page_size]
    token = _encode([found[-1][1].at, found[-1][0]]) if more else None
    return RecordPage([r for _, r in found], token)
