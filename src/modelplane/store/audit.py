"""The repository of audit events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from modelplane.domain.audit import AuditAction, AuditEvent, AuditFilter, ResourceType
from modelplane.store.engine import Connection
from modelplane.store.tables import audit_events

_ADD = audit_events.insert()  # built once: compiled once, on every write


def _event(row: Any) -> AuditEvent:
    return AuditEvent(
        event_id=row.event_id,
        at=row.at,
        actor_id=row.actor_id,
        face=row.face,
        request_id=row.request_id,
        action=AuditAction(row.action),
        resource_type=ResourceType(row.resource_type),
        resource_id=row.resource_id,
        details=dict(row.details or {}),
    )


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "at": event.at,
        "actor_id": event.actor_id,
        "face": event.face,
        "request_id": event.request_id,
        "action": event.action.value,
        "resource_type": event.resource_type.value,
        "resource_id": event.resource_id,
        "details": event.details,
    }


class AuditRepository:
    """Audit events inside one unit of work: added with a change, listed newest first."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, event: AuditEvent) -> None:
        """Record one event in the current transaction."""
        await self._conn.execute(_ADD, _row(event))

    async def add_many(self, events: list[AuditEvent]) -> None:
        """Record events in the current transaction, in one statement."""
        if events:
            await self._conn.execute(_ADD, [_row(event) for event in events])

    async def page(self, flt: AuditFilter, *, before: str | None, limit: int) -> list[AuditEvent]:
        """Up to `limit` matching events, newest first, older than event `before`."""
        query = sa.select(audit_events)
        c = audit_events.c
        if flt.principal_id is not None:
            query = query.where(c.actor_id == flt.principal_id)
        if flt.resource_type is not None:
            query = query.where(c.resource_type == flt.resource_type.value)
        if flt.resource_id is not None:
            query = query.where(c.resource_id == flt.resource_id)
        if flt.action is not None:
            query = query.where(c.action == flt.action.value)
        if flt.face is not None:
            query = query.where(c.face == flt.face)
        if flt.since is not None:
            query = query.where(c.at >= flt.since)
        if flt.until is not None:
            query = query.where(c.at < flt.until)
        if before is not None:
            query = query.where(c.event_id < before)
        query = query.order_by(c.event_id.desc()).limit(limit)
        return [_event(row) for row in await self._conn.execute(query)]
