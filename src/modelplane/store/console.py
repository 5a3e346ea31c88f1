"""What the web console keeps and counts: its sessions, and the overview's numbers."""

from __future__ import annotations

import sqlalchemy as sa

from modelplane.domain.console_sessions import ConsoleSession, Counts
from modelplane.domain.principals import Principal, Role
from modelplane.store.engine import Connection
from modelplane.store.tables import (
    api_keys,
    config_namespaces,
    console_sessions,
    llms,
    model_groups,
    principals,
    prompt_templates,
    workspace_members,
    workspaces,
)

# A session is alive while it has not expired and its key is neither revoked nor expired;
# the key's row goes with its principal.
_ACTIVE = (
    sa.select(
        principals,
        console_sessions.c.api_key_id,
        console_sessions.c.csrf_secret,
        console_sessions.c.expires_at,
    )
    .select_from(console_sessions)
    .join(api_keys, api_keys.c.api_key_id == console_sessions.c.api_key_id)
    .join(principals, principals.c.principal_id == api_keys.c.principal_id)
    .where(
        console_sessions.c.session_hash == sa.bindparam("session_hash"),
        console_sessions.c.expires_at > sa.bindparam("now"),
        api_keys.c.revoked_at.is_(None),
        sa.or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > sa.bindparam("now")),
    )
)
EXPIRED_SWEEP_MAX = 100  # expired rows removed per sign-in: bounded work per request


class ConsoleRepository:
    """Console sessions and counts inside one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add_session(
        self,
        *,
        session_hash: str,
        api_key_id: str,
        principal_id: str,
        csrf_secret: str,
        created_at: int,
        expires_at: int,
    ) -> None:
        """Store a new session by the hash of its id."""
        await self._conn.execute(
            console_sessions.insert().values(
                session_hash=session_hash,
                api_key_id=api_key_id,
                principal_id=principal_id,
                csrf_secret=csrf_secret,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    async def active_session(self, session_hash: str, *, now: int) -> ConsoleSession | None:
        """The live session with this hash, with its principal; None when it has ended."""
        row = (
            await self._conn.execute(_ACTIVE, {"session_hash": session_hash, "now": now})
        ).first()
        if row is None:
            return None
        principal = Principal(
            principal_id=row.principal_id,
            name=row.name,
            role=Role(row.role),
            created_at=row.created_at,
        )
        return ConsoleSession(
            principal=principal,
            api_key_id=row.api_key_id,
            csrf_token=row.csrf_secret,
            expires_at=row.expires_at,
        )

    async def delete_session(self, session_hash: str) -> bool:
        """Delete a session; whether it existed."""
        result = await self._conn.execute(
            console_sessions.delete().where(console_sessions.c.session_hash == session_hash)
        )
        return bool(result.rowcount)

    async def delete_expired(self, *, now: int) -> int:
        """Delete up to EXPIRED_SWEEP_MAX sessions that have ended; how many went."""
        oldest = (
            sa.select(console_sessions.c.session_hash)
            .where(console_sessions.c.expires_at <= now)
            .order_by(console_sessions.c.expires_at)
            .limit(EXPIRED_SWEEP_MAX)
        )
        result = await self._conn.execute(
            console_sessions.delete().where(console_sessions.c.session_hash.in_(oldest))
        )
        return int(result.rowcount or 0)

    async def counts(self, *, visible_to: str | None) -> Counts:
        """How many of each resource there are (`visible_to`: only what that principal
        owns, and the templates of the workspaces it owns or belongs to)."""

        def owned(table: sa.Table) -> sa.ScalarSelect[int]:
            query = sa.select(sa.func.count()).select_from(table)
            if visible_to is not None:
                query = query.where(table.c.owner_id == visible_to)
            return query.scalar_subquery()

        templates = sa.select(sa.func.count()).select_from(prompt_templates)
        keys = (
            sa.select(sa.func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
        )
        if visible_to is not None:
            mine = sa.select(workspaces.c.workspace_id).where(workspaces.c.owner_id == visible_to)
            member = sa.select(workspace_members.c.workspace_id).where(
                workspace_members.c.principal_id == visible_to
            )
            templates = templates.where(
                prompt_templates.c.workspace_id.in_(mine.union(member).scalar_subquery())
            )
            keys = keys.where(api_keys.c.principal_id == visible_to)
        everyone = sa.select(sa.func.count()).select_from(principals).scalar_subquery()
        query = sa.select(
            owned(llms),
            owned(model_groups),
            templates.scalar_subquery(),
            owned(config_namespaces),
            everyone,
            keys.scalar_subquery(),
        )
        row: tuple[int, ...] = tuple((await self._conn.execute(query)).one())
        return Counts(
            llms=int(row[0]),
            model_groups=int(row[1]),
            prompt_templates=int(row[2]),
            namespaces=int(row[3]),
            principals=int(row[4]) if visible_to is None else None,
            api_keys=int(row[5]),
        )
