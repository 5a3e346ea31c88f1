"""Usage of the gateway: one record per call, daily rollups, and what a report may ask.

A record says who called (principal, API key), which model name and which member
answered, the operation, the tokens, the cost (None when no price is known: never taken as
free), the latency, the status and whether it streamed. Records are summed per UTC day,
principal, key, model, member and status into rollups, which answer grouped reports; the
records themselves are kept for a retention period.

Statuses are the HTTP status answered; 499 when no answer began (the client left, or the
server stopped, first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from enum import StrEnum

from modelplane.domain.errors import ViolationCollector
from modelplane.domain.gateway import ApiFamily
from modelplane.domain.known_models import lookup_model
from modelplane.domain.prices import Prices, Tokens, config_prices

DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)
NAME_MAX = 512  # a model name or member as stored (longer ones are cut)
ID_MAX = 128
NO_ANSWER = 499  # the status of a call that ended before any answer began
REPORT_DAYS_DEFAULT = 30
REPORT_DAYS_MAX = 366
RECORDS_WINDOW_DEFAULT_MS = DAY_MS
RECORDS_WINDOW_MAX_MS = 7 * DAY_MS
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
_TIME_MAX = 2**63 - 1
_STATUS = re.compile(r"^(?:[1-5][0-9][0-9]|[1-5]xx)$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class GroupBy(StrEnum):
    """What a report may group by; the value is its name in `groupBy`."""

    DAY = "day"
    PRINCIPAL = "principal"
    KEY = "key"
    MODEL = "model"
    MEMBER = "member"


# The order groups are listed in (and paged by): day first, for charts.
GROUP_ORDER = (GroupBy.DAY, GroupBy.PRINCIPAL, GroupBy.KEY, GroupBy.MODEL, GroupBy.MEMBER)


def day_of(at_ms: int) -> int:
    """The UTC day (days since 1970-01-01) of an epoch-millisecond time."""
    return at_ms // DAY_MS


def day_text(day: int) -> str:
    """A day as `YYYY-MM-DD`."""
    return (_EPOCH + timedelta(days=day)).isoformat()


def month_of(day: int) -> int:
    """The first day of the UTC month of `day` (both days since 1970-01-01)."""
    found = _EPOCH + timedelta(days=day)
    return (found.replace(day=1) - _EPOCH).days


def next_month(month: int) -> int:
    """The first day of the month after the one starting on `month`."""
    return month_of(month + 31)


@dataclass(frozen=True, slots=True)
class Spans:
    """Where a report over days `first..last` reads: the whole months `months` (first days,
    inclusive; None: none) from the monthly sums, the `days` ranges around them from the
    daily ones."""

    months: tuple[int, int] | None
    days: tuple[tuple[int, int], ...]


def spans(first: int, last: int) -> Spans:
    """The whole months within `first..last`, and the days outside them."""
    start = first if month_of(first) == first else next_month(month_of(first))
    end = month_of(last + 1)  # the first day after the last whole month
    if start >= end:
        return Spans(None, ((first, last),))
    days = tuple(r for r in ((first, start - 1), (end, last)) if r[0] <= r[1])
    return Spans((start, month_of(end - 1)), days)


def _parse_day(text: str, name: str, errors: ViolationCollector) -> int | None:
    if _DAY.match(text):
        try:
            return (date.fromisoformat(text) - _EPOCH).days
        except ValueError:
            pass
    errors.add(name, "must be a date, YYYY-MM-DD (UTC)")
    return None


def tokens_of(
    family: ApiFamily,
    *,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read: int | None,
    cache_write: int | None,
) -> Tokens:
    """A call's tokens as its upstream reported them, the same for every family: OpenAI's
    input counts cached tokens already; Anthropic's counts only the uncached ones."""
    read, write = cache_read or 0, cache_write or 0
    given = input_tokens or 0
    total = given + read + write if family is ApiFamily.ANTHROPIC else given
    return Tokens(input=total, output=output_tokens or 0, cache_read=read, cache_write=write)


def connection_prices(
    client_config: Mapping[str, object] | None, model_identifier: str
) -> Prices | None:
    """A connection's prices: its `clientConfig.cost` when it has one (one that breaks the
    rules gives none), else the list price of its model identifier, if known."""
    if client_config and "cost" in client_config:
        return config_prices(client_config)
    known = lookup_model(model_identifier)
    return known.prices if known is not None else None


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One gateway call. `at` is when it ended (epoch ms); `cost_nanos` is None when no
    price is known; `api_key_id` is None when the key is gone by the time it is written."""

    at: int
    principal_id: str
    api_key_id: str | None
    model: str
    member: str | None
    operation: str
    status: int
    streamed: bool
    tokens: Tokens
    cost_nanos: int | None
    latency_us: int
    request_id: str | None = None
    prompt: str | None = None  # `TEMPLATE_ID@VERSION` of the prompt template served, if any


def usage_record(
    *,
    at: int,
    principal_id: str,
    api_key_id: str | None,
    model: str,
    member: str | None,
    operation: str,
    status: int,
    streamed: bool,
    tokens: Tokens,
    prices: Prices | None,
    latency_us: int,
    request_id: str | None = None,
    prompt: str | None = None,
) -> UsageRecord:
    """The record of one call: its cost from `prices` (None without), names cut to fit,
    and `NO_ANSWER` for a status of 0 (no answer began)."""
    return UsageRecord(
        at=at,
        principal_id=principal_id,
        api_key_id=api_key_id,
        model=model[:NAME_MAX],
        member=member[:NAME_MAX] if member is not None else None,
        operation=operation,
        status=status or NO_ANSWER,
        streamed=streamed,
        tokens=tokens,
        cost_nanos=prices.cost_nanos(tokens) if prices is not None else None,
        latency_us=max(0, latency_us),
        request_id=request_id,
        prompt=prompt,
    )


@dataclass(frozen=True, slots=True, order=True)
class RollupKey:
    """What one rollup row sums over ('' for a key or member there was none of)."""

    day: int
    principal_id: str
    api_key_id: str
    model: str
    member: str
    status: int


@dataclass(slots=True)
class Totals:
    """Sums over calls. `cost_nanos` sums the calls with a price; `unpriced_calls` counts
    the others (a cost is complete when it is 0)."""

    calls: int = 0
    streamed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_nanos: int = 0
    unpriced_calls: int = 0
    latency_us: int = 0

    def add(self, record: UsageRecord) -> None:
        """Count one call."""
        self.calls += 1
        self.streamed_calls += record.streamed
        self.input_tokens += record.tokens.input
        self.output_tokens += record.tokens.output
        self.cache_read_tokens += record.tokens.cache_read
        self.cache_write_tokens += record.tokens.cache_write
        if record.cost_nanos is None:
            self.unpriced_calls += 1
        else:
            self.cost_nanos += record.cost_nanos
        self.latency_us += record.latency_us

    def merge(self, other: Totals) -> None:
        """Add another sum to this one."""
        for name in TOTAL_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def cost(self) -> float | None:
        """The cost of the priced calls in units of money; None when no call had a price."""
        if self.calls and self.unpriced_calls == self.calls:
            return None
        return self.cost_nanos / 1_000_000_000


TOTAL_FIELDS = tuple(f.name for f in fields(Totals))


def rollup_key(record: UsageRecord) -> RollupKey:
    """The rollup row a record counts in."""
    return RollupKey(
        day=day_of(record.at),
        principal_id=record.principal_id,
        api_key_id=record.api_key_id or "",
        model=record.model,
        member=record.member or "",
        status=record.status,
    )


def rollup(records: Iterable[UsageRecord]) -> dict[RollupKey, Totals]:
    """The records summed per rollup row."""
    sums: dict[RollupKey, Totals] = {}
    for record in records:
        key = rollup_key(record)
        totals = sums.get(key)
        if totals is None:
            totals = sums[key] = Totals()
        totals.add(record)
    return sums


def monthly(daily: Mapping[RollupKey, Totals]) -> dict[RollupKey, Totals]:
    """Daily sums merged per month (`day` the first day of its month)."""
    sums: dict[RollupKey, Totals] = {}
    for key, totals in daily.items():
        month = replace(key, day=month_of(key.day))
        found = sums.get(month)
        if found is None:
            found = sums[month] = Totals()
        found.merge(totals)
    return sums


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """An exact status (`429`) or a class (`5xx`): `low <= status <= high`."""

    low: int
    high: int


@dataclass(frozen=True, slots=True)
class UsageFilter:
    """What every report and record list may filter on; None means any."""

    principal_id: str | None = None
    api_key_id: str | None = None
    model: str | None = None
    status: StatusFilter | None = None


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """A grouped report: days `first_day..last_day` (inclusive, UTC), grouped by `group_by`
    (in `GROUP_ORDER`), one page of `page_size` groups after `after` (a group's values)."""

    first_day: int
    last_day: int
    group_by: tuple[GroupBy, ...]
    filter: UsageFilter
    page_size: int
    after: tuple[str | int, ...] | None = None


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """A list of records, newest first: `since <= at < until`, after the record `before`."""

    since: int
    until: int
    filter: UsageFilter
    page_size: int
    before: tuple[int, int] | None = None  # (at, record id) of the last record shown


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """One group of a report: its values as stored, in the order of `group_by` (days as
    numbers, '' for no key or member), and its sums."""

    group_by: tuple[GroupBy, ...]
    key: tuple[str | int, ...]
    totals: Totals = field(default_factory=Totals)

    @property
    def values(self) -> dict[GroupBy, str | None]:
        """The values as shown: days as `YYYY-MM-DD`, no key or member as None."""
        return {
            group: day_text(int(value)) if group is GroupBy.DAY else str(value) or None
            for group, value in zip(self.group_by, self.key, strict=True)
        }


def parse_group_by(given: Sequence[str], errors: ViolationCollector) -> tuple[GroupBy, ...]:
    """The groups named in `groupBy` (several, or comma-separated), in `GROUP_ORDER`."""
    names = [part.strip() for item in given for part in item.split(",") if part.strip()]
    known = {g.value: g for g in GroupBy}
    wrong = [name for name in names if name not in known]
    if wrong:
        allowed = ", ".join(g.value for g in GroupBy)
        errors.add("groupBy", f"unknown group {wrong[0][:40]!r}; expected some of {allowed}")
        return ()
    chosen = {known[name] for name in names}
    return tuple(g for g in GROUP_ORDER if g in chosen)


def parse_status(text: str | None, errors: ViolationCollector) -> StatusFilter | None:
    """`429` or `4xx` as a filter."""
    if text is None:
        return None
    if not _STATUS.match(text):
        errors.add("status", "must be an HTTP status (429) or a class of them (4xx)")
        return None
    if text.endswith("xx"):
        low = int(text[0]) * 100
        return StatusFilter(low, low + 99)
    return StatusFilter(int(text), int(text))


def usage_filter(
    *,
    principal_id: str | None,
    api_key_id: str | None,
    model: str | None,
    status: str | None,
    errors: ViolationCollector,
) -> UsageFilter:
    """The filters of a report or a record list (each error names its wire field)."""
    for name, text, most in (
        ("principalId", principal_id, ID_MAX),
        ("apiKeyId", api_key_id, ID_MAX),
        ("model", model, NAME_MAX),
    ):
        if text is not None and not 1 <= len(text) <= most:
            errors.add(name, f"1..{most} characters")
    return UsageFilter(principal_id, api_key_id, model, parse_status(status, errors))


def _page_size(page_size: int | None, errors: ViolationCollector) -> int:
    if page_size is not None and not 1 <= page_size <= PAGE_SIZE_MAX:
        errors.add("pageSize", f"must be 1..{PAGE_SIZE_MAX}")
    return page_size or PAGE_SIZE_DEFAULT


def usage_query(
    *,
    today: int,
    group_by: Sequence[str],
    first: str | None,
    last: str | None,
    flt: UsageFilter,
    page_size: int | None,
    errors: ViolationCollector,
) -> UsageQuery:
    """A report's query: `from`/`to` days (default: the 30 days up to `today`, at most
    366), its groups and page size."""
    groups = parse_group_by(group_by, errors)
    last_day = _parse_day(last, "to", errors) if last is not None else today
    first_day = _parse_day(first, "from", errors) if first is not None else None
    if first_day is None and first is None and last_day is not None:
        first_day = last_day - REPORT_DAYS_DEFAULT + 1
    if first_day is not None and last_day is not None:
        if last_day < first_day:
            errors.add("to", "must not be before from")
        elif last_day - first_day + 1 > REPORT_DAYS_MAX:
            errors.add("to", f"from..to may span at most {REPORT_DAYS_MAX} days")
    size = _page_size(page_size, errors)
    return UsageQuery(first_day or 0, last_day or 0, groups, flt, size)


def record_query(
    *,
    now_ms: int,
    since: int | None,
    until: int | None,
    flt: UsageFilter,
    page_size: int | None,
    errors: ViolationCollector,
) -> RecordQuery:
    """A record list's query: `since <= at < until` (default: the last 24 hours; at most
    7 days) and its page size."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not 0 <= value <= _TIME_MAX:
            errors.add(name, "must be epoch milliseconds, 0 or more")
    end = until if until is not None else now_ms + 1
    start = since if since is not None else end - RECORDS_WINDOW_DEFAULT_MS
    if end < start:
        errors.add("until", "must not be before since")
    elif end - start > RECORDS_WINDOW_MAX_MS:
        errors.add("until", "since..until may span at most 7 days (604800000 ms)")
    size = _page_size(page_size, errors)
    return RecordQuery(max(0, start), end, flt, size)
