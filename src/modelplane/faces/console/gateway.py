"""Gateway: the usage and cost of gateway calls over time, by model or by API key, as
server-rendered SVG charts with their data tables (per day over two weeks, or per week
over twelve), and the recent calls with status and latency, a page at a time. Members see
their own calls, admins everyone's (the usage services decide)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.responses import Response

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.usage import GroupBy, Totals, UsageGroup, day_of, day_text
from modelplane.faces.console.charts import OTHER, BarChart, bar_chart, top_series
from modelplane.faces.console.web import PREFIX, ConsolePage, Screen
from modelplane.services import usage as service
from modelplane.services.clock import now_ms

screen = Screen()
HOME = f"{PREFIX}/gateway"
PERIODS = {"day": (14, 1), "week": (12, 7)}  # period -> (buckets, days per bucket)
BY = {"model": GroupBy.MODEL, "key": GroupBy.KEY}
GROUPS_MAX = 1000  # groups one report page holds (the usage service's most)
CALL_PAGE_SIZES = (20, 50, 100)
NONE = "(none)"
HOUR_MS = 3_600_000


@dataclass
class SeriesRow:
    """One model's or key's sums over the whole period, for the table under the charts."""

    name: str
    totals: Totals = field(default_factory=Totals)

    @property
    def average_latency_ms(self) -> float | None:
        """The mean latency of its calls in milliseconds."""
        return self.totals.latency_us / self.totals.calls / 1000 if self.totals.calls else None


def _choice(page: ConsolePage, name: str, allowed: Mapping[str, object], default: str) -> str:
    given = page.query.get(name, default) or default
    if given not in allowed:
        raise InvalidArgument.of(name, f"must be one of {', '.join(allowed)}")
    return given


def _bucket_starts(today: int, period: str) -> list[int]:
    """The first day of each bucket, oldest first (weeks start on Monday)."""
    count, days = PERIODS[period]
    if days == 1:
        return [today - n for n in range(count - 1, -1, -1)]
    monday = today - (today + 3) % 7  # day 0 (1970-01-01) was a Thursday
    return [monday - 7 * n for n in range(count - 1, -1, -1)]


def _series_name(value: str | int) -> str:
    return str(value) or NONE


def _charts(
    groups: list[UsageGroup], starts: list[int], days: int, by: str
) -> tuple[BarChart, BarChart, list[SeriesRow]]:
    """The calls and cost charts of the report's groups, and the table's rows."""
    rows: dict[str, SeriesRow] = {}
    for group in groups:
        name = _series_name(group.key[1])
        rows.setdefault(name, SeriesRow(name)).totals.merge(group.totals)
    shown = top_series({name: row.totals.calls for name, row in rows.items()})
    index = {name: n for n, name in enumerate(shown)}
    calls = [[0.0] * len(shown) for _ in starts]
    cost = [[0.0] * len(shown) for _ in starts]
    first = starts[0]
    for group in groups:
        bucket = (int(group.key[0]) - first) // days
        if not 0 <= bucket < len(starts):
            continue
        name = _series_name(group.key[1])
        s = index.get(name, index.get(OTHER))
        if s is None:
            continue
        calls[bucket][s] += group.totals.calls
        cost[bucket][s] += group.totals.cost_nanos / 1_000_000_000
    labels = [day_text(start) for start in starts]
    span = "day" if days == 1 else "week (from Monday)"
    what = "model" if by == "model" else "API key"
    described = (
        f"per {span}, {labels[0]} to {day_text(starts[-1] + days - 1)}, one colour per {what}"
    )
    calls_chart = bar_chart(
        chart_id="chart-calls",
        title=f"Gateway calls by {what}",
        description=f"Calls {described}.",
        buckets=labels,
        series=shown,
        values=calls,
        unit="calls",
    )
    cost_chart = bar_chart(
        chart_id="chart-cost",
        title=f"Cost by {what}",
        description=f"Cost of the priced calls {described}.",
        buckets=labels,
        series=shown,
        values=cost,
        unit="money",
    )
    table = sorted(rows.values(), key=lambda r: (-r.totals.calls, r.name))
    return calls_chart, cost_chart, table


@screen.get(HOME)
async def usage(page: ConsolePage) -> Response:
    """Usage and cost over the period, by model or key, as charts and a table."""
    period = _choice(page, "period", PERIODS, "day")
    by = _choice(page, "by", BY, "model")
    model = page.query.get("model", "").strip() or None
    status = page.query.get("status", "").strip() or None
    today = day_of(now_ms())
    starts = _bucket_starts(today, period)
    days = PERIODS[period][1]
    found = await service.report(
        store=page.store,
        actor=page.principal,
        group_by=[GroupBy.DAY.value, BY[by].value],
        first=day_text(starts[0]),
        last=day_text(today),
        model=model,
        status=status,
        page_size=GROUPS_MAX,
    )
    calls_chart, cost_chart, table = _charts(found.groups, starts, days, by)
    return page.render(
        "gateway/usage.html",
        period=period,
        by=by,
        filters={"model": model or "", "status": status or ""},
        calls_chart=calls_chart,
        cost_chart=cost_chart,
        table=table,
        partial=found.next_page_token is not None,
    )


@screen.get(f"{HOME}/calls")
async def calls(page: ConsolePage) -> Response:
    """The recent calls (the last 24 hours, newest first), a page at a time."""
    size_text = page.query.get("size", "")
    size = int(size_text) if size_text.isdigit() and len(size_text) < 5 else CALL_PAGE_SIZES[0]
    if size not in CALL_PAGE_SIZES:
        raise InvalidArgument.of("size", f"must be one of {', '.join(map(str, CALL_PAGE_SIZES))}")
    model = page.query.get("model", "").strip() or None
    status = page.query.get("status", "").strip() or None
    token = page.query.get("pageToken") or None
    hours = _choice(page, "window", {"1": 1, "24": 24, "168": 168}, "24")
    until = now_ms() + 1
    found = await service.records(
        store=page.store,
        actor=page.principal,
        since=until - int(hours) * HOUR_MS,
        until=until,
        model=model,
        status=status,
        page_size=size,
        page_token=token,
    )
    filters = {"model": model or "", "status": status or "", "window": hours, "size": str(size)}
    kept = {name: value for name, value in filters.items() if value}
    older = found.next_page_token
    return page.render(
        "gateway/calls.html",
        records=found.records,
        filters=filters,
        newest_url=f"{HOME}/calls?{urlencode(kept)}" if token is not None else None,
        older_url=f"{HOME}/calls?{urlencode({**kept, 'pageToken': older})}" if older else None,
        sizes=CALL_PAGE_SIZES,
    )
