"""The Keys screen through httpx, on both stores: a new key's token is in the answer to the
issuing form once and nowhere else (no URL, cookie, later page, audit event or database
row); a member sees and changes only its own keys, within its key's scope and its
principal's limits; every change is audited as the console's; refused forms name the
field and write nothing; the principals list pages in SQL."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from modelplane.security.tokens import DISPLAY_PREFIX_LENGTH
from modelplane.store.tables import metadata
from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import csrf_of, post_form, signed_in

KEYS = "/console/keys"
_TOKEN = re.compile(r'<input id="token" class="mono token" type="text" readonly value="([^"]+)"')
_KEY_LINK = re.compile(r'href="/console/keys/([0-9a-f-]{36})/api-keys/([0-9a-f-]{36})"')


def _tomorrow() -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()


async def _database_text(app: FastAPI) -> str:
    """Every row of every table, as text."""
    conn = await app.state.store.engines.read.connect()
    try:
        rows = [repr((await conn.execute(sa.select(t))).all()) for t in metadata.sorted_tables]
    finally:
        await conn.close()
    return "\n".join(rows)


async def _audit(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    found = await client.get("/v1/audit-events", params={"pageSize": "500", **params})
    assert found.status_code == 200, found.text
    events: list[dict[str, Any]] = found.json()["auditEvents"]
    return events


async def test_a_new_keys_token_is_shown_once_on_the_issuing_answer_and_nowhere_else(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        made = await post_form(http, f"{KEYS}/new", {"name": "token-app", "role": "member"})
        assert made.status_code == 303, made.text
        principal_url = made.headers["location"]
        principal_id = principal_url.rsplit("/", 1)[1]
        issued = await post_form(
            http,
            f"{principal_url}/api-keys/new",
            {"label": "search app", "expiresAt": _tomorrow(), "timeZone": "Europe/Berlin"},
        )
        assert issued.status_code == 200, issued.text
        found = _TOKEN.search(issued.text)
        assert found is not None, issued.text
        token = found.group(1)
        secret_part = token[DISPLAY_PREFIX_LENGTH:]
        assert issued.text.count(secret_part) == 1  # once, in the one input
        assert "location" not in issued.headers and str(issued.url).find(secret_part) < 0
        assert issued.headers["cache-control"] == "no-store"
        assert all(secret_part not in v for v in issued.headers.values())
        assert all(secret_part not in (c.value or "") for c in http.cookies.jar)
        key_id = _KEY_LINK.search(issued.text)
        assert key_id is not None
        later = [
            await http.get(principal_url),
            await http.get(f"{principal_url}/api-keys/{key_id.group(2)}"),
            await http.get(f"{principal_url}/api-keys/{key_id.group(2)}/limits"),
            await http.get(KEYS),
            await http.get("/console/audit"),
            await http.get("/console"),
        ]
    assert [p.status_code for p in later] == [200] * len(later)
    assert all(secret_part not in p.text for p in later)
    assert token[:DISPLAY_PREFIX_LENGTH] in later[0].text  # the list names the key by prefix
    assert "search app" in later[0].text and "search app" in later[1].text
    api_events = (await client.get("/v1/audit-events", params={"pageSize": "500"})).text
    assert secret_part not in api_events
    assert secret_part not in (await client.get(f"/v1/principals/{principal_id}/api-keys")).text
    assert secret_part not in await _database_text(app)  # only its hash is kept
    works = await client.get("/v1/llms", headers={"Authorization": f"Bearer {token}"})
    assert works.status_code == 200  # the token shown is the key's


async def test_a_member_sees_and_changes_only_its_own_keys_as_the_api_lets_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    member_id, token = await new_member(client, "keys-member")
    admin_keys = (await client.get("/v1/principals/me/api-keys")).json()["apiKeys"]
    admin_id, admin_key = admin_keys[0]["principalId"], admin_keys[0]["apiKeyId"]
    put = await client.put(f"/v1/principals/{member_id}/limits", json={"rpm": 10})
    assert put.status_code == 200, put.text
    async with signed_in(app, token) as http:
        own = await http.get(KEYS)
        csrf = csrf_of(own)
        others = [
            await http.get(f"{KEYS}/{admin_id}"),
            await http.get(f"{KEYS}/{admin_id}/api-keys/{admin_key}"),
            await http.get(f"{KEYS}/{admin_id}/limits"),
            await http.get(f"{KEYS}/{admin_id}/delete"),
        ]
        filtered = await http.get(KEYS, params={"q": "admin", "role": "admin"})
        changes = [
            await http.post(f"{KEYS}/{admin_id}/api-keys/{admin_key}/revoke", data={"csrf": csrf}),
            await http.post(f"{KEYS}/{admin_id}/api-keys/new", data={"csrf": csrf}),
            await http.post(f"{KEYS}/new", data={"csrf": csrf, "name": "x", "role": "admin"}),
            await http.post(f"{KEYS}/{member_id}/limits", data={"csrf": csrf, "rpm": "99"}),
        ]
        mine = await post_form(
            http, f"{KEYS}/{member_id}/api-keys/new", {"label": "mine", "gatewayOnly": ""}
        )
        new_key = _KEY_LINK.search(mine.text)
        assert mine.status_code == 200 and new_key is not None, mine.text
        key_url = f"{KEYS}/{member_id}/api-keys/{new_key.group(2)}"
        beyond = await post_form(http, f"{key_url}/limits", {"rpm": "50"})
        within = await post_form(http, f"{key_url}/limits", {"rpm": "5"})
        audit = await http.get("/console/audit")
    assert own.status_code == 200 and "Your keys" in own.text
    for listed in (own, filtered):  # a member's Keys page is its own, whatever it asks
        assert "bootstrap-admin" not in listed.text and 'id="principals"' not in listed.text
    assert [p.status_code for p in others] == [403] * len(others)
    assert all("bootstrap-admin" not in p.text for p in others)
    assert [c.status_code for c in changes] == [403] * len(changes)
    assert (await client.get(f"/v1/principals/{admin_id}/api-keys")).json()["apiKeys"][0][
        "revokedAt"
    ] is None
    assert "The gateway only" in (await _form_of(app, token, member_id)).text
    keys = (await client.get(f"/v1/principals/{member_id}/api-keys")).json()["apiKeys"]
    made = next(k for k in keys if k["label"] == "mine")
    assert made["gatewayOnly"] is True  # a member's own key reaches the gateway only
    assert beyond.status_code == 403 and "rpm: at most 10" in beyond.text
    assert within.status_code == 303
    assert audit.status_code == 403
    limits = await client.get(f"/v1/principals/{member_id}/api-keys/{made['apiKeyId']}/limits")
    assert limits.json()["limits"]["rpm"] == 5


async def _form_of(app: FastAPI, token: str, principal_id: str) -> httpx.Response:
    async with signed_in(app, token) as http:
        return await http.get(f"{KEYS}/{principal_id}/api-keys/new")


async def test_a_member_signed_in_with_a_scoped_key_issues_keys_only_within_its_scope(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    member_id, member_token = await new_member(client, "scoped-member")
    for name in ("alpha", "beta"):
        made = await client.post(
            "/v1/llms",
            json={
                "displayName": name,
                "providerType": "OLLAMA",
                "endpointUrl": f"http://127.0.0.1:1/{name}/v1",
                "modelIdentifier": f"{name}-model",
            },
            headers={"Authorization": f"Bearer {member_token}"},
        )
        assert made.status_code == 201, made.text
    scoped = await client.post(
        f"/v1/principals/{member_id}/api-keys", json={"models": ["alpha-model"]}
    )
    assert scoped.status_code == 201, scoped.text
    async with signed_in(app, scoped.json()["token"]) as http:
        wider = await post_form(http, f"{KEYS}/{member_id}/api-keys/new", {"label": "wide"})
        other = await post_form(
            http, f"{KEYS}/{member_id}/api-keys/new", {"label": "o", "models": "beta-model"}
        )
        narrow = await post_form(
            http, f"{KEYS}/{member_id}/api-keys/new", {"label": "n", "models": "alpha-model"}
        )
    assert wider.status_code == 403 and "models: required" in wider.text
    assert other.status_code == 403 and "models.0" in other.text
    assert narrow.status_code == 200 and _TOKEN.search(narrow.text) is not None
    labels = [
        k["label"]
        for k in (await client.get(f"/v1/principals/{member_id}/api-keys")).json()["apiKeys"]
    ]
    assert sorted(label for label in labels if label) == ["n"]


async def test_console_changes_to_principals_keys_and_limits_are_audited_as_the_console(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        made = await post_form(http, f"{KEYS}/new", {"name": "audited-app", "role": "member"})
        principal_url = made.headers["location"]
        principal_id = principal_url.rsplit("/", 1)[1]
        issued = await post_form(http, f"{principal_url}/api-keys/new", {"gatewayOnly": "on"})
        key = _KEY_LINK.search(issued.text)
        assert key is not None
        key_url = f"{principal_url}/api-keys/{key.group(2)}"
        steps = [
            await post_form(
                http, f"{principal_url}/limits", {"rpm": "100", "budget": "2.5", "period": "day"}
            ),
            await post_form(http, f"{key_url}/limits", {"tpm": "1000"}),
            await post_form(http, f"{key_url}/limits/clear", {}, form_page=key_url),
            await post_form(http, f"{key_url}/revoke", {}),
            await post_form(http, f"{principal_url}/delete", {}),
        ]
        shown = await http.get(principal_url)
    assert [s.status_code for s in steps] == [303] * len(steps)
    assert steps[-1].headers["location"] == KEYS and shown.status_code == 404
    principal_events = await _audit(client, resourceId=principal_id)
    key_events = await _audit(client, resourceId=key.group(2))
    assert [(e["action"], e["face"]) for e in principal_events] == [
        ("delete", "console"),
        ("update", "console"),
        ("create", "console"),
    ]
    assert principal_events[1]["details"] == {
        "limits": {"rpm": 100, "tpm": None, "budget": "2.50", "period": "day"}
    }
    assert [(e["action"], e["face"]) for e in key_events] == [
        ("revoke", "console"),
        ("update", "console"),
        ("update", "console"),
        ("create", "console"),
    ]
    assert key_events[-1]["details"]["gatewayOnly"] is True


async def test_refused_forms_name_the_field_and_rule_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner_id, owner_token = await new_member(client, "owner-of-things")
    created = await client.post(
        "/v1/llms",
        json={
            "displayName": "owned",
            "providerType": "OLLAMA",
            "endpointUrl": "http://127.0.0.1:1/owned/v1",
            "modelIdentifier": "owned-model",
        },
        headers={"Authorization": f"Bearer {owner_token}"},
    )
    assert created.status_code == 201, created.text
    issue = f"{KEYS}/{owner_id}/api-keys/new"
    async with signed_in(app, ADMIN_TOKEN) as http:
        refused = {
            "blank name": await post_form(http, f"{KEYS}/new", {"name": "", "role": "member"}),
            "bad role": await post_form(http, f"{KEYS}/new", {"name": "r", "role": "boss"}),
            "taken": await post_form(
                http, f"{KEYS}/new", {"name": "owner-of-things", "role": "member"}
            ),
            "bad date": await post_form(http, issue, {"expiresAt": "2026-13-01"}),
            "past": await post_form(http, issue, {"expiresAt": "2001-01-01"}),
            "zone": await post_form(
                http, issue, {"expiresAt": _tomorrow(), "timeZone": "Mars/Olympus"}
            ),
            "models": await post_form(http, issue, {"models": "has space"}),
            "rpm": await post_form(http, f"{KEYS}/{owner_id}/limits", {"rpm": "abc"}),
            "period": await post_form(http, f"{KEYS}/{owner_id}/limits", {"budget": "3"}),
            "none": await post_form(http, f"{KEYS}/{owner_id}/limits", {}),
            "transfer": await post_form(
                http, f"{KEYS}/{owner_id}/delete", {"transferTo": "nobody"}
            ),
        }
        owns = await post_form(http, f"{KEYS}/{owner_id}/delete", {})
    expected = {
        "blank name": (400, "name"),
        "bad role": (400, "role"),
        "taken": (409, "name"),
        "bad date": (400, "expiresAt"),
        "past": (400, "expiresAt"),
        "zone": (400, "timeZone"),
        "models": (400, "models"),
        "rpm": (400, "rpm"),
        "period": (400, "period"),
        "none": (400, "limits"),
        "transfer": (400, "transferTo"),
    }
    for case, (status, name) in expected.items():
        answer = refused[case]
        assert answer.status_code == status, (case, answer.text)
        assert name in answer.text, case
    invalid = re.findall(r'id="f-(\w+)"[^>]*aria-invalid="true"', refused["bad date"].text)
    assert invalid == ["expiresAt"]
    assert "must be a whole number from 1 to" in refused["rpm"].text
    assert 'value="r"' in refused["bad role"].text  # what was typed stays
    assert owns.status_code == 412 and "transferTo" in owns.text
    keys = (await client.get(f"/v1/principals/{owner_id}/api-keys")).json()["apiKeys"]
    assert len(keys) == 1  # only the one new_member made
    assert (await client.get(f"/v1/principals/{owner_id}/limits")).json()["limits"] is None
    names = [p["name"] for p in (await client.get("/v1/principals")).json()["principals"]]
    assert sorted(names) == ["bootstrap-admin", "owner-of-things"]


async def test_the_principals_list_pages_in_sql_by_name_with_its_filters_in_the_links(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(23):
        await new_member(client, f"paged-{n:02d}")
    await new_member(client, "second-admin", role="admin")
    async with signed_in(app, ADMIN_TOKEN) as http:
        first = await http.get(KEYS, params={"q": "PAGED", "size": "10"})
        third = await http.get(KEYS, params={"q": "paged", "size": "10", "page": "3"})
        admins = await http.get(KEYS, params={"role": "admin"})
        bad_role = await http.get(KEYS, params={"role": "boss"})
        bad_size = await http.get(KEYS, params={"size": "100000"})
    names = re.compile(r'<a href="/console/keys/[0-9a-f-]{36}">([^<]+)</a>')
    assert names.findall(first.text) == [f"paged-{n:02d}" for n in range(10)]
    assert "1–10 of 23" in first.text  # noqa: RUF001 - the pager's dash
    assert 'href="/console/keys?q=PAGED&amp;page=2&amp;size=10"' in first.text
    assert names.findall(third.text) == ["paged-20", "paged-21", "paged-22"]
    assert names.findall(admins.text) == ["bootstrap-admin", "second-admin"]
    assert bad_role.status_code == 400 and "role" in bad_role.text
    assert bad_size.status_code == 400 and "size" in bad_size.text
