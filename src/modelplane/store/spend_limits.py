"""Repository of the gateway's limits (`spend_limits`) and of the counters kept in the
database when no Redis is configured (`spend_counters`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from modelplane.domain.spend_limits import (
    BudgetPeriod,
    CallLimits,
    Limits,
    SubjectKind,
    SubjectLimits,
    Take,
)
from modelplane.store.engine import Connection
from modelplane.store.sql import insert_for
from modelplane.store.tables import spend_counters, spend_limits

L = spend_limits.c
C = spend_counters.c


def _limits(row: Any) -> Limits:
    period = BudgetPeriod(row.budget_period) if row.budget_period is not None else None
    return Limits(row.rpm, row.tpm, row.budget_nanos, period)


def _subject(row: Any) -> SubjectLimits:
    return SubjectLimits(
        kind=SubjectKind(row.subject_kind),
        subject_id=row.subject_id,
        principal_id=row.principal_id,
        limits=_limits(row),
        updated_at=row.updated_at,
    )


class SpendLimitRepository:
    """Reads and writes limits and counters inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def get(self, kind: SubjectKind, subject_id: str) -> SubjectLimits | None:
        """The limits of one subject, if it has any."""
        found = await self._conn.execute(
            sa.select(spend_limits).where(L.subject_kind == kind.value, L.subject_id == subject_id)
        )
        row = found.first()
        return _subject(row) if row is not None else None

    async def for_call(self, principal_id: str, api_key_id: str) -> CallLimits:
        """The limits of a call made with `api_key_id` by `principal_id`, in one query."""
        found = await self._conn.execute(
            sa.select(spend_limits).where(
                sa.or_(
                    sa.and_(
                        L.subject_kind == SubjectKind.PRINCIPAL.value,
                        L.subject_id == principal_id,
                    ),
                    sa.and_(
                        L.subject_kind == SubjectKind.API_KEY.value, L.subject_id == api_key_id
                    ),
                )
            )
        )
        key = principal = None
        for row in found:
            if row.subject_kind == SubjectKind.API_KEY.value:
                key = _limits(row)
            else:
                principal = _limits(row)
        return CallLimits(principal_id, api_key_id, key, principal)

    async def put(self, subject: SubjectLimits) -> None:
        """Store a subject's limits, replacing any it had."""
        limits = subject.limits
        values = {
            "principal_id": subject.principal_id,
            "api_key_id": subject.api_key_id,
            "rpm": limits.rpm,
            "tpm": limits.tpm,
            "budget_nanos": limits.budget_nanos,
            "budget_period": limits.period.value if limits.period is not None else None,
            "updated_at": subject.updated_at,
        }
        statement = insert_for(spend_limits, is_postgres=self._is_postgres).values(
            subject_kind=subject.kind.value, subject_id=subject.subject_id, **values
        )
        await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["subject_kind", "subject_id"], set_=values
            )
        )

    async def delete(self, kind: SubjectKind, subject_id: str) -> bool:
        """Remove a subject's limits; whether it had any."""
        deleted = await self._conn.execute(
            spend_limits.delete().where(L.subject_kind == kind.value, L.subject_id == subject_id)
        )
        return bool(deleted.rowcount)

    async def take(self, takes: Sequence[Take]) -> int | None:
        """Add every take (in key order, so that concurrent calls lock rows in one order),
        or stop at the first whose counter would pass its cap: its index in `takes`. The
        caller commits only when none was refused (all or nothing)."""
        for index in sorted(range(len(takes)), key=lambda i: takes[i].key):
            one = takes[index]
            if one.cap is not None and one.amount > one.cap:
                return index
            statement = insert_for(spend_counters, is_postgres=self._is_postgres).values(
                counter_key=one.key, value=one.amount, expires_at=one.expires_at
            )
            added = C.value + statement.excluded.value
            upsert = statement.on_conflict_do_update(
                index_elements=["counter_key"],
                set_={"value": added},
                where=None if one.cap is None else added <= one.cap,
            ).returning(C.value)
            if (await self._conn.execute(upsert)).first() is None:
                return index
        return None

    async def values(self, keys: Sequence[str]) -> list[int]:
        """The value of each counter (0 for one that does not exist)."""
        found = await self._conn.execute(
            sa.select(C.counter_key, C.value).where(C.counter_key.in_(list(keys)))
        )
        by_key = {row.counter_key: int(row.value) for row in found}
        return [by_key.get(key, 0) for key in keys]

    async def prune(self, now_ms: int) -> int:
        """Delete the counters past their expiry; how many went."""
        deleted = await self._conn.execute(spend_counters.delete().where(C.expires_at < now_ms))
        return int(deleted.rowcount)
