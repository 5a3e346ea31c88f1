"""The Audit screen through httpx, on both stores: the log newest first, a page at a time
through the API's page tokens; its filters (actor, resource, action, face, a range of
local dates in a time zone) as the API's service applies them; each entry's details;
admins only; bad filters answer 400 naming the field."""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo

import httpx
from fastapi import FastAPI

from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import post_form, signed_in

AUDIT = "/console/audit"
_ROW = re.compile(r'<span class="badge audit-(\w+)">\w+</span></td>\s*<td>(\w+) <a class="mono"')


def _rows(page: httpx.Response) -> list[tuple[str, str]]:
    """(action, resource type) of each row shown."""
    assert page.status_code == 200, page.text
    return _ROW.findall(page.text)


async def test_the_log_filters_by_actor_resource_action_face_and_local_dates(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    member_id, member_token = await new_member(client, "audited-member")  # native: 2 events
    async with signed_in(app, ADMIN_TOKEN) as http:
        made = await post_form(http, "/console/keys/new", {"name": "via-console", "role": "member"})
        console_principal = made.headers["location"].rsplit("/", 1)[1]
        await post_form(http, f"{made.headers['location']}/delete", {})
    async with signed_in(app, member_token) as member:
        await post_form(member, f"/console/keys/{member_id}/api-keys/new", {"label": "members own"})
    zone = "Pacific/Kiritimati"  # UTC+14: its date is often not UTC's
    today = dt.datetime.now(zoneinfo.ZoneInfo(zone)).date()
    day = dt.timedelta(days=1)
    async with signed_in(app, ADMIN_TOKEN) as http:
        everything = await http.get(AUDIT)
        console = await http.get(AUDIT, params={"face": "console"})
        deletes = await http.get(AUDIT, params={"face": "console", "action": "delete"})
        by_member = await http.get(AUDIT, params={"principalId": member_id})
        keys = await http.get(AUDIT, params={"resourceType": "api_key", "face": "native"})
        one = await http.get(AUDIT, params={"resourceId": console_principal})
        local = {"timeZone": zone, "face": "console"}
        today_only = await http.get(
            AUDIT, params={**local, "since": str(today), "until": str(today)}
        )
        from_tomorrow = await http.get(AUDIT, params={**local, "since": str(today + day)})
        until_yesterday = await http.get(AUDIT, params={**local, "until": str(today - day)})
    assert _rows(everything)[:3] == [
        ("create", "api_key"),
        ("delete", "principal"),
        ("create", "principal"),
    ]  # newest first; the bootstrap's and new_member's below
    assert len(_rows(everything)) >= 6
    assert _rows(console) == _rows(everything)[:3]
    assert _rows(deletes) == [("delete", "principal")]
    assert _rows(by_member) == [("create", "api_key")]
    assert ("create", "api_key") in _rows(keys) and all(t == "api_key" for _, t in _rows(keys))
    assert _rows(one) == [("delete", "principal"), ("create", "principal")]
    assert _rows(today_only) == _rows(console)
    assert _rows(from_tomorrow) == [] and _rows(until_yesterday) == []
    assert f"Times in {zone}" in today_only.text and "+14" in today_only.text
    details = html.unescape(one.text)
    assert re.search(r'"name": "via-console",\s*"role": "member"', details)  # its details
    assert 'value="Pacific/Kiritimati"' in today_only.text  # the filters stay in the form


async def test_the_log_pages_newest_first_through_older_links_keeping_the_filters(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(25):
        created = await client.post("/v1/principals", json={"name": f"p{n:02d}", "role": "member"})
        assert created.status_code == 201
    async with signed_in(app, ADMIN_TOKEN) as http:
        first = await http.get(AUDIT, params={"resourceType": "principal", "size": "20"})
        older = re.search(r'<a class="button" rel="next" href="([^"]+)">Older</a>', first.text)
        assert older is not None, first.text
        second = await http.get(older.group(1).replace("&amp;", "&"))
        bad_token = await http.get(AUDIT, params={"pageToken": "not-a-token"})
    names = re.compile(r'"name": "(p\d\d)"')
    shown = names.findall(html.unescape(first.text))
    assert shown == [f"p{n:02d}" for n in range(24, 4, -1)]
    assert "resourceType=principal" in older.group(1) and "pageToken=" in older.group(1)
    rest = names.findall(html.unescape(second.text))
    assert rest == [f"p{n:02d}" for n in range(4, -1, -1)]
    assert 'href="/console/audit?resourceType=principal&amp;size=20">Newest</a>' in second.text
    assert '<span class="button disabled" aria-disabled="true">Older</span>' in second.text
    assert bad_token.status_code == 400 and "pageToken" in bad_token.text


async def test_only_admins_read_the_log_and_bad_filters_name_their_field(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, member_token = await new_member(client, "curious-member")
    async with signed_in(app, member_token) as member:
        refused = await member.get(AUDIT)
    async with signed_in(app, ADMIN_TOKEN) as http:
        bad = {
            "face": await http.get(AUDIT, params={"face": "telnet"}),
            "action": await http.get(AUDIT, params={"action": "explode"}),
            "resourceType": await http.get(AUDIT, params={"resourceType": "planet"}),
            "since": await http.get(AUDIT, params={"since": "2026-02-30"}),
            "timeZone": await http.get(AUDIT, params={"timeZone": "Mars/Olympus"}),
            "until": await http.get(AUDIT, params={"since": "2026-03-02", "until": "2026-03-01"}),
        }
    assert refused.status_code == 403 and "READ_AUDIT_EVENTS" in refused.text
    assert "auditEvents" not in refused.text and "bootstrap" not in refused.text
    for name, answer in bad.items():
        assert answer.status_code == 400, (name, answer.text)
        assert f"<code>{name}</code>" in answer.text, name
