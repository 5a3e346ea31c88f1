"""The Parameters screen through httpx, on both stores: namespaces paged; a parameter
created, edited and deleted; several published as one revision; a revert; a gray release
opened, promoted and dropped; what a member sees and may change; the audit log's face; and
refused forms naming the field and rule with nothing written."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import post_form, signed_in

HOME = "/console/parameters"
NS = f"{HOME}/cn-test/orders"
API = "/v1/configs/cn-test/service/orders"


def _rows(*rows: tuple[str, str, str, str]) -> dict[str, str]:
    """A publish form's fields: (key, op, value, format) per row."""
    fields = {"rows": str(len(rows))}
    for n, (key, op, value, fmt) in enumerate(rows):
        fields |= {f"key.{n}": key, f"op.{n}": op, f"value.{n}": value, f"format.{n}": fmt}
    return fields


async def _state(client: httpx.AsyncClient, api: str = API) -> dict[str, Any]:
    found = await client.get(api)
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def _values(state: dict[str, Any]) -> dict[str, str]:
    configs = state["configs"]
    assert isinstance(configs, list)
    return {c["key"]: c["value"] for c in configs}


async def test_parameters_are_created_edited_published_as_one_revision_reverted_and_deleted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        created = await post_form(
            http,
            f"{HOME}/new",
            {
                "cluster": "cn-test",
                "name": "orders",
                "key": "limit",
                "value": "10",
                "format": "text",
            },
        )
        assert (created.status_code, created.headers["location"]) == (303, NS)
        added = await post_form(
            http, f"{NS}/add", {"key": "flags", "value": '{"a": 1}', "format": "json"}
        )
        assert added.status_code == 303, added.text
        edited = await post_form(
            http,
            f"{NS}/edit",
            {"key": "limit", "value": " 20 \n", "format": ""},
            form_page=f"{NS}/edit?key=limit",
        )
        assert edited.status_code == 303, edited.text
        before = await _state(client)
        published = await post_form(
            http,
            f"{NS}/publish",
            _rows(
                ("limit", "set", "30", ""),
                ("", "set", "", ""),  # a blank row is left out
                ("flags", "delete", "", ""),
                ("new/key", "set", "fresh", "text"),
            ),
        )
        assert published.status_code == 303, published.text
        after = await _state(client)
        shown = await http.get(NS)
        history = await http.get(f"{NS}/history")
        reverted = await post_form(http, f"{NS}/revert", {"revision": "2"}, form_page=NS)
        reverted_state = await _state(client)
        deleted = await post_form(
            http, f"{NS}/delete", {"key": "flags"}, form_page=f"{NS}/delete?key=flags"
        )
        listed = await http.get(HOME, params={"q": "ORDERS"})
    assert after["revision"] == before["revision"] + 1  # three changes, one revision
    assert _values(after) == {"limit": "30", "new/key": "fresh"}
    assert _values(before)["limit"] == " 20 \n"  # a value keeps its white space
    assert 'data-key="new/key"' in shown.text and 'id="ns-revision">4<' in shown.text
    assert f'data-parameters-live="{NS}/events?since=4"' in shown.text
    assert re.findall(r'<h2 id="rev-(\d+)">', history.text) == ["4", "3", "2", "1"]
    assert reverted.status_code == 303
    assert _values(reverted_state) == {"limit": "10", "flags": '{"a": 1}'}
    assert reverted_state["revision"] == 5
    assert deleted.status_code == 303
    assert _values(await _state(client)) == {"limit": "10"}
    assert "cn-test/orders" in listed.text
    events = await client.get(
        "/v1/audit-events", params={"resourceId": "cn-test/service/orders/flags"}
    )
    seen = [
        (e["action"], e["face"], e["details"].get("revision")) for e in events.json()["auditEvents"]
    ]
    assert seen == [
        ("delete", "console", 6),
        ("create", "console", 5),  # the revert
        ("delete", "console", 4),  # the publish
        ("create", "console", 2),
    ]


async def test_a_gray_release_is_opened_replaced_promoted_and_dropped(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.put(f"{API}/limit", json={"value": "10"})
    async with signed_in(app, ADMIN_TOKEN) as http:
        opened = await post_form(
            http,
            f"{NS}/gray",
            {"labels": "canary, eu-1", "ifVersion": "0", **_rows(("limit", "set", "99", ""))},
        )
        assert opened.status_code == 303, opened.text
        shown = await http.get(NS)
        canary = (await client.get(API, params={"clientLabel": "canary"})).json()
        everyone = await _state(client)
        form = await http.get(f"{NS}/gray")
        version = re.search(r'name="ifVersion" value="(\d+)"', form.text)
        assert version is not None
        stale = await post_form(
            http,
            f"{NS}/gray",
            {"labels": "canary", "ifVersion": "0", **_rows(("limit", "set", "1", ""))},
        )
        replaced = await post_form(
            http,
            f"{NS}/gray",
            {
                "labels": "canary",
                "ifVersion": version.group(1),
                **_rows(("limit", "set", "77", "")),
            },
        )
        assert replaced.status_code == 303, replaced.text
        held = (await client.get(f"{API}:candidate")).json()
        promoted = await post_form(
            http, f"{NS}/gray/promote", {"version": str(held["version"])}, form_page=NS
        )
        after = await _state(client)
        await post_form(
            http,
            f"{NS}/gray",
            {"labels": "beta", "ifVersion": "0", **_rows(("limit", "delete", "", ""))},
        )
        again = (await client.get(f"{API}:candidate")).json()
        dropped = await post_form(
            http, f"{NS}/gray/drop", {"version": str(again["version"])}, form_page=NS
        )
        gone = await client.get(f"{API}:candidate")
    assert "canary" in shown.text and "Promote to everyone" in shown.text
    candidate = shown.text.split('id="candidate"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<pre class="param-value">([^<]*)</pre>', candidate) == ["10", "99"]
    assert _values(canary) == {"limit": "99"} and _values(everyone) == {"limit": "10"}
    assert 'name="key.0" type="text" value="limit"' in form.text  # a replace starts from it
    assert stale.status_code == 409 and "open candidate" in stale.text
    assert held["labels"] == ["canary"]
    assert promoted.status_code == 303
    assert _values(after) == {"limit": "77"} and after["revision"] == 2
    assert dropped.status_code == 303 and gone.status_code == 404
    assert _values(await _state(client)) == {"limit": "77"}
    events = await client.get("/v1/audit-events", params={"resourceType": "config_candidate"})
    faces = {e["face"] for e in events.json()["auditEvents"]}
    assert faces == {"console"}


async def test_a_member_sees_and_changes_only_its_own_namespaces(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.put(f"{API}/limit", json={"value": "10"})
    _, token = await new_member(client, "params-member")
    async with signed_in(app, token) as http:
        mine = await post_form(
            http, f"{HOME}/new", {"cluster": "cn-test", "name": "mine", "key": "k", "value": "v"}
        )
        taken = await post_form(
            http, f"{HOME}/new", {"cluster": "cn-test", "name": "orders", "key": "x", "value": "v"}
        )
        listed = await http.get(HOME)
        other = await http.get(NS)
        edit = await http.get(f"{NS}/edit?key=limit")
        csrf = re.search(r'name="csrf" value="([^"]+)"', listed.text)
        assert csrf is not None
        token_field = {"csrf": csrf.group(1)}
        publish = await http.post(
            f"{NS}/publish", data={**token_field, **_rows(("limit", "set", "1", ""))}
        )
        delete = await http.post(f"{NS}/delete", data={**token_field, "key": "limit"})
        revert = await http.post(f"{NS}/revert", data={**token_field, "revision": "1"})
        listeners = await http.get(f"{NS}/listeners")
        history = await http.get(f"{NS}/history")
        named_owner = await http.post(
            f"{HOME}/cn-test/mine/add",
            data={
                **token_field,
                "key": "y",
                "value": "v",
                "ownerId": "00000000-0000-4000-8000-000000000000",
            },
        )
    assert mine.status_code == 303
    assert taken.status_code == 409 and "another principal owns it" in taken.text
    assert "cn-test/mine" in listed.text and "cn-test/orders" not in listed.text
    assert (other.status_code, edit.status_code) == (404, 404)
    assert publish.status_code == 409  # as on the API: a set there would claim a taken name
    assert (delete.status_code, revert.status_code, listeners.status_code) == (404, 404, 404)
    assert "No history" in history.text
    assert named_owner.status_code == 403
    assert _values(await _state(client)) == {"limit": "10"}  # untouched


async def test_refused_forms_name_the_field_and_rule_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.put(f"{API}/flags", json={"value": "{}", "format": "json"})
    async with signed_in(app, ADMIN_TOKEN) as http:
        bad_place = await post_form(
            http, f"{HOME}/new", {"cluster": "-bad", "name": "ok", "key": "k", "value": "v"}
        )
        bad_rows = await post_form(
            http,
            f"{NS}/publish",
            _rows(("ok", "set", "1", ""), ("", "set", "", ""), ("flags", "set", "{not json", "")),
        )
        orphan = await post_form(http, f"{NS}/publish", _rows(("", "set", "orphan", "")))
        nothing = await post_form(http, f"{NS}/publish", _rows(("", "set", "", "")))
        bad_edit = await post_form(
            http,
            f"{NS}/edit",
            {"key": "flags", "value": "[1,", "format": ""},
            form_page=f"{NS}/edit?key=flags",
        )
        bad_labels = await post_form(
            http, f"{NS}/gray", {"labels": "-x", "ifVersion": "0", **_rows(("ok", "set", "1", ""))}
        )
        bad_revert = await post_form(http, f"{NS}/revert", {"revision": "x"}, form_page=NS)
    assert bad_place.status_code == 400
    assert re.search(r'<input id="f-cluster"[^>]*aria-invalid="true"', bad_place.text)
    assert bad_rows.status_code == 400
    assert re.search(r'name="key.1" [^>]*value="flags"[^>]*aria-invalid="true"', bad_rows.text)
    assert "value: " in re.sub(r"\s+", " ", bad_rows.text.split('id="row-e-1"')[1])[:200]
    assert orphan.status_code == 400 and "key: give the key of this row" in orphan.text
    assert nothing.status_code == 400 and "fill in at least one row" in nothing.text
    assert bad_edit.status_code == 400 and 'id="f-value"' in bad_edit.text
    assert re.search(r'<textarea id="f-value"[^>]*aria-invalid="true"', bad_edit.text)
    assert bad_labels.status_code == 400 and "labels.0" in bad_labels.text
    assert bad_revert.status_code == 400 and "revision" in bad_revert.text
    state = await _state(client)
    assert _values(state) == {"flags": "{}"} and state["revision"] == 1
    assert (await client.get("/v1/configs/ok/service/ok")).json()["revision"] == 0


async def test_the_namespace_list_pages_in_sql_with_its_search_in_the_links(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(23):
        await client.put(f"/v1/configs/cn-page/service/svc-{n:02d}/k", json={"value": "v"})
    await client.put("/v1/configs/other/service/else/k", json={"value": "v"})
    async with signed_in(app, ADMIN_TOKEN) as http:
        first = await http.get(HOME, params={"q": "SVC", "size": "10"})
        third = await http.get(HOME, params={"q": "svc", "size": "10", "page": "3"})
        long = await http.get(HOME, params={"q": "x" * 201})
    names = re.findall(r'<a href="/console/parameters/[^"]+">([^<]+)</a>', first.text)
    assert names == [f"cn-page/svc-{n:02d}" for n in range(10)]
    assert "1\N{EN DASH}10 of 23" in first.text
    assert 'href="/console/parameters?q=SVC&amp;page=2&amp;size=10"' in first.text
    third_names = re.findall(r'<a href="/console/parameters/[^"]+">([^<]+)</a>', third.text)
    assert third_names == ["cn-page/svc-20", "cn-page/svc-21", "cn-page/svc-22"]
    assert long.status_code == 400 and "q" in long.text


async def test_an_admin_changes_a_members_namespace_naming_its_owner_from_the_page(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    member_id, token = await new_member(client, "owner-member")
    headers = {"Authorization": f"Bearer {token}"}
    made = await client.put(f"{API}/limit", json={"value": "1"}, headers=headers)
    assert made.status_code in (200, 201), made.text
    async with signed_in(app, ADMIN_TOKEN) as http:
        shown = await http.get(NS)
        link = re.search(
            r'href="(/console/parameters/cn-test/orders/publish\?owner=[^"]+)"', shown.text
        )
        assert link is not None
        form = await http.get(link.group(1))
        published = await post_form(
            http,
            f"{NS}/publish",
            {"ownerId": member_id, **_rows(("limit", "set", "2", ""))},
            form_page=link.group(1),
        )
        unnamed = await post_form(
            http, f"{NS}/publish", _rows(("limit", "set", "3", "")), form_page=link.group(1)
        )
        events = await http.get(f"{NS}/events", params={"since": "x"})
    assert f'name="ownerId" value="{member_id}"' in form.text
    assert published.status_code == 303, published.text
    assert unnamed.status_code == 412 and member_id in unnamed.text
    assert _values(await _state(client)) == {"limit": "2"}
    assert events.status_code == 400 and "since" in events.text
