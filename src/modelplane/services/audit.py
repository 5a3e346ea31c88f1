"""The audit log: every change records one event in its own transaction; admins list them."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from modelplane.domain.audit import FACES, AuditAction, AuditEvent, AuditFilter, ResourceType
from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.principals import Permission, Principal
from modelplane.services.clock import now_ms
from modelplane.services.request_context import current_origin
from modelplane.store.uow import Store, UnitOfWork

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 500
_EVENT_ID = re.compile(r"^[0-9]{13}[0-9a-f]{16}$")
_TIME_MAX = 2**63 - 1


@dataclass(frozen=True)
class AuditPage:
    """One page of events, newest first, and the token of the next (None on the last)."""

    events: list[AuditEvent]
    next_page_token: str | None


_last_id = [0, 0]  # the last id's millisecond and its sequence number within it


def new_event_id(at: int) -> str:
    """An id that sorts by time, then by order of recording in this process.

    13 decimal digits of epoch ms, 6 hex digits of a sequence within that ms (so
    events recorded in one ms keep their order), then 10 random hex digits (so
    replicas never collide). A clock that steps back keeps the last ms.
    """
    last_ms, seq = _last_id
    if at > last_ms:
        last_ms, seq = at, 0
    else:
        seq += 1
    _last_id[0], _last_id[1] = last_ms, seq
    return f"{last_ms:013d}{seq:06x}{os.urandom(5).hex()}"


async def record(
    uow: UnitOfWork,
    actor: Principal | None,
    action: AuditAction,
    resource_type: ResourceType,
    resource_id: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record a change in `uow`'s transaction: it exists iff the change commits.

    `details` must name what changed (field names, counts), never a secret's value.
    """
    at = now_ms()
    origin = current_origin()
    await uow.audit.add(
        AuditEvent(
            event_id=new_event_id(at),
            at=at,
            actor_id=actor.principal_id if actor is not None else None,
            face=origin.face,
            request_id=origin.request_id,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            details=dict(details or {}),
        )
    )


async def record_many(
    uow: UnitOfWork,
    actor: Principal | None,
    changes: Sequence[tuple[AuditAction, ResourceType, str, Mapping[str, Any]]],
) -> None:
    """`record` of several changes of one use case (`(action, type, id, details)` each), in
    one statement."""
    at = now_ms()
    origin = current_origin()
    await uow.audit.add_many(
        [
            AuditEvent(
                event_id=new_event_id(at),
                at=at,
                actor_id=actor.principal_id if actor is not None else None,
                face=origin.face,
                request_id=origin.request_id,
                action=action,
                resource_type=resource_type,
                resource_id=resource_id,
                details=dict(details),
            )
            for action, resource_type, resource_id, details in changes
        ]
    )


def wire_name(name: str) -> str:
    """`snake_case` as `camelCase`."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def given_fields(patch: Any) -> list[str]:
    """The (camelCase) names of a patch dataclass's fields that are set: what a change asks."""
    return [wire_name(f.name) for f in fields(patch) if getattr(patch, f.name) is not None]


def named(**given: Any) -> list[str]:
    """The (camelCase) names of the keyword arguments that are not None."""
    return [wire_name(name) for name, value in given.items() if value is not None]


def _encode_token(event_id: str) -> str:
    return base64.urlsafe_b64encode(event_id.encode()).decode().rstrip("=")


def _decode_token(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (ValueError, binascii.Error):
        raw = ""
    if not _EVENT_ID.match(raw):
        raise InvalidArgument.of("pageToken", "not a token this service gave out")
    return raw


def audit_filter(
    *,
    principal_id: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: int | None = None,
    until: int | None = None,
    action: str | None = None,
    face: str | None = None,
) -> AuditFilter:
    """Validate the filters of a list; each error names its (wire) field."""
    errors = ViolationCollector()
    kinds = {k.value: k for k in ResourceType}
    kind = None
    if resource_type is not None:
        kind = kinds.get(resource_type)
        if kind is None:
            errors.add("resourceType", f"must be one of {', '.join(kinds)}")
    actions = {a.value: a for a in AuditAction}
    verb = None
    if action is not None:
        verb = actions.get(action)
        if verb is None:
            errors.add("action", f"must be one of {', '.join(actions)}")
    if face is not None and face not in FACES:
        errors.add("face", f"must be one of {', '.join(FACES)}")
    for name, value in (("since", since), ("until", until)):
        if value is not None and not 0 <= value <= _TIME_MAX:
            errors.add(name, "must be epoch milliseconds, 0 or more")
    if since is not None and until is not None and 0 <= until < since:
        errors.add("until", "must not be before since")
    for name, text in (("principalId", principal_id), ("resourceId", resource_id)):
        if text is not None and not 1 <= len(text) <= 512:
            errors.add(name, "1..512 characters")
    errors.raise_if_any()
    return AuditFilter(
        principal_id=principal_id,
        resource_type=kind,
        resource_id=resource_id,
        since=since,
        until=until,
        action=verb,
        face=face,
    )


async def list_events(
    *,
    store: Store,
    actor: Principal,
    principal_id: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: int | None = None,
    until: int | None = None,
    action: str | None = None,
    face: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> AuditPage:
    """A page of audit events, newest first (admins only).

    `principal_id` is the actor; the time range is `since <= at < until` (epoch ms);
    `action` and `face` as recorded.
    """
    actor.require(Permission.READ_AUDIT_EVENTS)
    flt = audit_filter(
        principal_id=principal_id,
        resource_type=resource_type,
        resource_id=resource_id,
        since=since,
        until=until,
        action=action,
        face=face,
    )
    if page_size is not None and not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidArgument.of("pageSize", f"must be 1..{PAGE_SIZE_MAX}")
    limit = page_size or PAGE_SIZE_DEFAULT
    before = _decode_token(page_token) if page_token else None
    async with store.reader() as uow:
        events = await uow.audit.page(flt, before=before, limit=limit + 1)
    more = len(events) > limit
    events = events[:limit]
    return AuditPage(
        events=events, next_page_token=_encode_token(events[-1].event_id) if more else None
    )
