"""Usage records and their daily rollups: written in batches, read as reports and lists.

A batch inserts its records and adds their sums to the rollup rows they count in, in one
transaction (an upsert per row, in key order, so that two replicas adding to the same rows
wait for each other instead of deadlocking). Reports read only the rollups; a list of
records reads a time range of the records, newest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from modelplane.domain.prices import Tokens
from modelplane.domain.usage import (
    TOTAL_FIELDS,
    GroupBy,
    RecordQuery,
    RollupKey,
    Spans,
    Totals,
    UsageFilter,
    UsageGroup,
    UsageQuery,
    UsageRecord,
    monthly,
    spans,
)
from modelplane.store.engine import Connection
from modelplane.store.sql import insert_for
from modelplane.store.tables import usage_daily, usage_monthly, usage_records

R, D, M = usage_records.c, usage_daily.c, usage_monthly.c
_ROLLUP_KEY = ("day", "principal_id", "api_key_id", "model", "member", "status")
_GROUP_COLUMNS = {
    GroupBy.DAY: D.day,
    GroupBy.PRINCIPAL: D.principal_id,
    GroupBy.KEY: D.api_key_id,
    GroupBy.MODEL: D.model,
    GroupBy.MEMBER: D.member,
}


def _record_row(record: UsageRecord) -> dict[str, Any]:
    return {
        "at": record.at,
        "principal_id": record.principal_id,
        "api_key_id": record.api_key_id,
        "model": record.model,
        "member": record.member,
        "operation": record.operation,
        "status": record.status,
        "streamed": record.streamed,
        "input_tokens": record.tokens.input,
        "output_tokens": record.tokens.output,
        "cache_read_tokens": record.tokens.cache_read,
        "cache_write_tokens": record.tokens.cache_write,
        "cost_nanos": record.cost_nanos,
        "latency_us": record.latency_us,
        "request_id": record.request_id,
        "prompt": record.prompt,
    }


def _record(row: Any) -> UsageRecord:
    return UsageRecord(
        at=row.at,
        principal_id=row.principal_id,
        api_key_id=row.api_key_id,
        model=row.model,
        member=row.member,
        operation=row.operation,
        status=row.status,
        streamed=bool(row.streamed),
        tokens=Tokens(
            input=row.input_tokens,
            output=row.output_tokens,
            cache_read=row.cache_read_tokens,
            cache_write=row.cache_write_tokens,
        ),
        cost_nanos=row.cost_nanos,
        latency_us=row.latency_us,
        request_id=row.request_id,
        prompt=row.prompt,
    )


def _matching(columns: Any, flt: UsageFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions of `flt` on the columns of either table."""
    found: list[sa.ColumnElement[bool]] = []
    if flt.principal_id is not None:
        found.append(columns.principal_id == flt.principal_id)
    if flt.api_key_id is not None:
        found.append(columns.api_key_id == flt.api_key_id)
    if flt.model is not None:
        found.append(columns.model == flt.model)
    if flt.status is not None:
        found.append(columns.status.between(flt.status.low, flt.status.high))
    return found


def _rows(query: UsageQuery) -> sa.Subquery:
    """The rollup rows a report sums: its groups' columns and the sums, filtered."""
    names = [_GROUP_COLUMNS[group].name for group in query.group_by]
    picked = [*names, *TOTAL_FIELDS]
    if GroupBy.DAY in query.group_by:  # by day: the daily rows alone
        found = Spans(None, ((query.first_day, query.last_day),))
    else:
        found = spans(query.first_day, query.last_day)
    parts = []
    if found.days:
        ranges = [D.day.between(first, last) for first, last in found.days]
        parts.append(
            sa.select(*(D[n] for n in picked)).where(sa.or_(*ranges), *_matching(D, query.filter))
        )
    if found.months is not None:
        parts.append(
            sa.select(*(M[n] for n in picked)).where(
                M.month.between(*found.months), *_matching(M, query.filter)
            )
        )
    return (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery("rollups")


class UsageRepository:
    """Reads and writes usage inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def add(self, records: Sequence[UsageRecord]) -> None:
        """Insert `records`, in one statement."""
        if records:
            await self._conn.execute(usage_records.insert(), [_record_row(r) for r in records])

    async def add_to_rollups(self, sums: Mapping[RollupKey, Totals]) -> None:
        """Add daily `sums` to their daily and monthly rows (made when missing), in key
        order."""
        for table, period, found in (
            (usage_daily, "day", sums),
            (usage_monthly, "month", monthly(sums)),
        ):
            await self._upsert(table, period, found)

    async def _upsert(self, table: sa.Table, period: str, sums: Mapping[RollupKey, Totals]) -> None:
        if not sums:
            return
        rows = [
            {period: key.day}
            | {name: getattr(key, name) for name in _ROLLUP_KEY[1:]}
            | {name: getattr(totals, name) for name in TOTAL_FIELDS}
            for key, totals in sorted(sums.items())
        ]
        statement = insert_for(table, is_postgres=self._is_postgres)
        added = {name: table.c[name] + statement.excluded[name] for name in TOTAL_FIELDS}
        keys = [period, *_ROLLUP_KEY[1:]]
        await self._conn.execute(
            statement.on_conflict_do_update(index_elements=keys, set_=added), rows
        )

    async def prune(self, *, before_ms: int, limit: int) -> int:
        """Delete up to `limit` records older than `before_ms`; how many went."""
        oldest = sa.select(R.record_id).where(R.at < before_ms).limit(limit)
        deleted = await self._conn.execute(
            usage_records.delete().where(R.record_id.in_(oldest.scalar_subquery()))
        )
        return int(deleted.rowcount)

    async def report(self, query: UsageQuery) -> list[UsageGroup]:
        """Up to `query.page_size` groups after `query.after`, in group order: by day from
        the daily rows; else from the monthly rows of the whole months in the range and the
        daily rows of the days around them."""
        source = _rows(query)
        columns = [source.c[_GROUP_COLUMNS[group].name] for group in query.group_by]
        sums = [sa.func.sum(source.c[name]).label(name) for name in TOTAL_FIELDS]
        statement = sa.select(*columns, *sums)
        if columns:
            if query.after is not None:
                statement = statement.where(sa.tuple_(*columns) > sa.tuple_(*query.after))
            statement = statement.group_by(*columns).order_by(*columns).limit(query.page_size)
        groups = []
        for row in await self._conn.execute(statement):
            if row.calls is None:  # no group, no rows: one empty total
                return [UsageGroup(query.group_by, ())]
            totals = Totals(**{name: int(getattr(row, name)) for name in TOTAL_FIELDS})
            groups.append(UsageGroup(query.group_by, tuple(row[: len(columns)]), totals))
        return groups

    async def records(self, query: RecordQuery) -> list[tuple[int, UsageRecord]]:
        """Up to `query.page_size` records (with their ids), newest first."""
        statement = (
            sa.select(usage_records)
            .where(R.at >= query.since, R.at < query.until, *_matching(R, query.filter))
            .order_by(R.at.desc(), R.record_id.desc())
            .limit(query.page_size)
        )
        if query.before is not None:
            statement = statement.where(sa.tuple_(R.at, R.record_id) < sa.tuple_(*query.before))
        return [(row.record_id, _record(row)) for row in await self._conn.execute(statement)]

    async def count(self) -> int:
        """How many records are kept (for tests and the benchmark)."""
        found = await self._conn.execute(sa.select(sa.func.count()).select_from(usage_records))
        return int(found.scalar_one())
