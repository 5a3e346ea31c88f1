"""Audit: the audit log, newest first, a page at a time (the API's pages: each page's
token leads to the next, older one), filtered by actor, resource, action, face and a
range of local dates; each entry opens to its details. Admins only, like the API
(`services/audit.py`, the same function as `GET /v1/audit-events`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.responses import Response

from modelplane.domain.audit import FACES, AuditAction, AuditEvent, ResourceType
from modelplane.domain.errors import ViolationCollector
from modelplane.faces.console.web import PREFIX, ConsolePage, Screen
from modelplane.faces.console.zones import (
    ZONE_FIELD,
    date_of,
    day_end_ms,
    day_start_ms,
    local_text,
    zone_of,
)
from modelplane.services import audit as service

screen = Screen()
HOME = f"{PREFIX}/audit"
CURSOR = "pageToken"  # the API's page token: where the next page starts
FILTERS = ("principalId", "resourceType", "resourceId", "action", "face", "since", "until")
PAGE_SIZES = (20, 50, 100)
TYPE_CHOICES = [("", "Any resource")] + [(t.value, t.value) for t in ResourceType]
ACTION_CHOICES = [("", "Any action")] + [(a.value, a.value) for a in AuditAction]
FACE_CHOICES = [("", "Any face")] + [(f, f) for f in FACES]


@dataclass(frozen=True)
class Entry:
    """One event as the page shows it: its time in the chosen zone, its details as JSON."""

    event: AuditEvent
    at_text: str
    details: str


@screen.get(HOME)
async def audit_log(page: ConsolePage) -> Response:
    """A page of the audit log, newest first, with the filters kept in the links."""
    query = page.list_query(*FILTERS, ZONE_FIELD, CURSOR)
    given = query.filters
    errors = ViolationCollector()
    zone = zone_of(given[ZONE_FIELD], errors)
    since = date_of(given["since"], "since", errors)
    until = date_of(given["until"], "until", errors)
    if since is not None and until is not None and until < since:
        errors.add("until", "must not be before the date from")
    errors.raise_if_any()
    found = await service.list_events(
        store=page.store,
        actor=page.principal,
        principal_id=given["principalId"] or None,
        resource_type=given["resourceType"] or None,
        resource_id=given["resourceId"] or None,
        action=given["action"] or None,
        face=given["face"] or None,
        since=day_start_ms(since, zone) if since is not None else None,
        until=day_end_ms(until, zone) if until is not None else None,
        page_size=query.page.size,
        page_token=given[CURSOR] or None,
    )
    entries = [
        Entry(e, local_text(e.at, zone), json.dumps(e.details, indent=2, sort_keys=True))
        for e in found.events
    ]
    return page.render(
        "audit/list.html",
        entries=entries,
        query=query,
        filters=given,
        filtered=any(given[name] for name in FILTERS),
        zone_name=getattr(zone, "key", "UTC"),
        newest_url=query.url(**{CURSOR: None}) if given[CURSOR] else None,
        older_url=query.url(**{CURSOR: found.next_page_token}) if found.next_page_token else None,
        sizes=PAGE_SIZES,
        type_choices=TYPE_CHOICES,
        action_choices=ACTION_CHOICES,
        face_choices=FACE_CHOICES,
    )
