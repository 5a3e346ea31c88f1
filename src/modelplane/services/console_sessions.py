"""The web console's sessions (sign in, the session of a request, sign out) and its
overview. A session lives in the database, so every replica knows it; it ends when it
expires, when it is signed out, and when the API key it signed in with is revoked or
expires (or its principal is deleted, which deletes the key)."""

from __future__ import annotations

import secrets as random

from modelplane.domain.audit import AuditFilter
from modelplane.domain.console_sessions import (
    CSRF_SECRET_BYTES,
    SESSION_ID_BYTES,
    ConsoleSession,
    GatewayDay,
    Overview,
    StartedSession,
)
from modelplane.domain.errors import Unauthenticated
from modelplane.domain.principals import Permission, Principal
from modelplane.domain.usage import StatusFilter, UsageFilter, UsageGroup, UsageQuery, day_of
from modelplane.security.tokens import hash_token
from modelplane.services.clock import now_ms
from modelplane.services.principals import authenticate_key
from modelplane.store.uow import Store

RECENT_CHANGES = 10  # audit events on the overview
SESSION_ID_MAX = 128  # characters of a cookie's session id worth looking up
_ENDED = "the console session has ended; sign in again"


async def sign_in(*, store: Store, token: str, ttl_seconds: int) -> StartedSession:
    """Start a session for the holder of an API key that may use the management API."""
    caller = await authenticate_key(store=store, token=token)
    caller.scope.require_management()
    session_id = random.token_urlsafe(SESSION_ID_BYTES)
    csrf = random.token_urlsafe(CSRF_SECRET_BYTES)
    now = now_ms()
    expires_at = now + ttl_seconds * 1000
    if caller.scope.expires_at is not None:
        expires_at = min(expires_at, caller.scope.expires_at)
    async with store.writer(invalidates=False) as uow:
        await uow.console.delete_expired(now=now)
        await uow.console.add_session(
            session_hash=hash_token(session_id),
            api_key_id=caller.api_key_id,
            principal_id=caller.principal.principal_id,
            csrf_secret=csrf,
            created_at=now,
            expires_at=expires_at,
        )
        await uow.commit()
    session = ConsoleSession(
        principal=caller.principal,
        api_key_id=caller.api_key_id,
        csrf_token=csrf,
        expires_at=expires_at,
    )
    return StartedSession(session_id=session_id, session=session)


async def session_of(*, store: Store, session_id: str) -> ConsoleSession:
    """The live session with this id (ended, unknown or malformed: Unauthenticated)."""
    if not session_id or len(session_id) > SESSION_ID_MAX:
        raise Unauthenticated(_ENDED)
    async with store.reader() as uow:
        found = await uow.console.active_session(hash_token(session_id), now=now_ms())
    if found is None:
        raise Unauthenticated(_ENDED)
    return found


async def sign_out(*, store: Store, session_id: str) -> bool:
    """End a session on every replica; whether there was one."""
    if not session_id or len(session_id) > SESSION_ID_MAX:
        return False
    async with store.writer(invalidates=False) as uow:
        deleted = await uow.console.delete_session(hash_token(session_id))
        await uow.commit()
    return deleted


async def overview(*, store: Store, actor: Principal) -> Overview:
    """Counts of what `actor` sees, recent changes (an admin: everyone's; a member: its
    own), and the gateway's calls over today and yesterday (a member: its own)."""
    sees_all = actor.has(Permission.MANAGE_PRINCIPALS)
    visible_to = None if sees_all else actor.principal_id
    audit = AuditFilter(principal_id=None if sees_all else actor.principal_id)
    today = day_of(now_ms())

    def calls(status: StatusFilter | None) -> UsageQuery:
        flt = UsageFilter(principal_id=visible_to, status=status)
        return UsageQuery(first_day=today - 1, last_day=today, group_by=(), filter=flt, page_size=1)

    async with store.reader() as uow:
        counts = await uow.console.counts(visible_to=visible_to)
        recent = await uow.audit.page(audit, before=None, limit=RECENT_CHANGES)
        every = await uow.usage.report(calls(None))
        client = await uow.usage.report(calls(StatusFilter(400, 499)))
        server = await uow.usage.report(calls(StatusFilter(500, 599)))

    def total(groups: list[UsageGroup]) -> tuple[int, int, int]:
        sums = [g.totals for g in groups]
        return (
            sum(t.calls for t in sums),
            sum(t.input_tokens for t in sums),
            sum(t.output_tokens for t in sums),
        )

    all_calls, input_tokens, output_tokens = total(every)
    gateway = GatewayDay(
        calls=all_calls,
        client_errors=total(client)[0],
        server_errors=total(server)[0],
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )
    return Overview(counts=counts, recent=recent, gateway=gateway)
