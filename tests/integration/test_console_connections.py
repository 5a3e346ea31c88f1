"""The Connections and Overview screens through httpx, on both stores: what a member sees,
that changes are audited as the console's, that refused forms name the field and rule
and write nothing, and that lists page in SQL with their filters."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import post_form, signed_in

NEW = "/console/connections/new"
MINI = {"displayName": "Mini", "modelIdentifier": "gpt-4o-mini", "apiKey": "sk-test-1234"}


async def _llm(client: httpx.AsyncClient, name: str, **extra: str) -> str:
    body = {
        "displayName": name,
        "providerType": "OLLAMA",
        "endpointUrl": f"http://127.0.0.1:1/{name.replace(' ', '-')}/v1",
        "modelIdentifier": f"model-{name.replace(' ', '-')}",
        **extra,
    }
    created = await client.post("/v1/llms", json=body)
    assert created.status_code == 201, created.text
    llm_id: str = created.json()["llm"]["llmId"]
    return llm_id


async def test_a_member_sees_and_changes_only_its_own_connections(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admins = await _llm(client, "admins own")
    _, token = await new_member(client, "console-member")
    async with signed_in(app, token) as http:
        mine = await post_form(http, NEW, MINI)
        assert mine.status_code == 303
        listed = await http.get("/console/connections")
        other = await http.get(f"/console/connections/{admins}")
        edit = await http.get(f"/console/connections/{admins}/edit")
        csrf = re.search(r'name="csrf" value="([^"]+)"', listed.text)
        assert csrf is not None
        delete = await http.post(
            f"/console/connections/{admins}/delete", data={"csrf": csrf.group(1)}
        )
        overview = await http.get("/console")
    assert "Mini" in listed.text and "admins own" not in listed.text
    assert (other.status_code, edit.status_code, delete.status_code) == (404, 404, 404)
    assert (await client.get(f"/v1/llms/{admins}")).status_code == 200  # still there
    assert 'id="count-llms">1<' in overview.text  # its own only
    assert "Principals" not in overview.text


async def test_console_changes_are_in_the_audit_log_as_the_console_face(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        created = await post_form(http, NEW, MINI)
        assert created.status_code == 303, created.text
        where = created.headers["location"]
        llm_id = where.rsplit("/", 1)[1]
        edited = await post_form(
            http, f"{where}/edit", {**MINI, "displayName": "Mini 2", "apiKey": ""}
        )
        assert edited.status_code == 303
        deleted = await post_form(http, f"{where}/delete", {})
        assert deleted.status_code == 303 and deleted.headers["location"] == "/console/connections"
        overview = await http.get("/console")
    events = (await client.get("/v1/audit-events", params={"resourceId": llm_id})).json()
    seen = [(e["action"], e["face"]) for e in events["auditEvents"]]
    assert seen == [("delete", "console"), ("update", "console"), ("create", "console")]
    assert llm_id in overview.text  # the overview's recent changes


async def test_a_refused_form_names_each_field_and_rule_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        refused = await post_form(
            http,
            NEW,
            {"displayName": "", "modelIdentifier": "unknown-model-x", "endpointUrl": "ftp://x"},
        )
        labels = await post_form(http, NEW, {**MINI, "labels": "no equals"})
        twice = await post_form(http, NEW, MINI)
        again = await post_form(http, NEW, MINI)
    assert refused.status_code == 400
    invalid = re.findall(r'<input id="f-(\w+)"[^>]*aria-invalid="true"', refused.text)
    assert {"displayName", "endpointUrl"} <= set(invalid)
    assert 'value="unknown-model-x"' in refused.text  # what was typed stays
    assert labels.status_code == 400 and "line 1: must be key=value" in labels.text
    assert twice.status_code == 303
    assert again.status_code == 409 and "already exists" in again.text
    assert len((await client.get("/v1/llms")).json()["llms"]) == 1


async def test_the_list_pages_in_sql_with_its_filters_in_the_links(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(23):
        await _llm(client, f"paged {n:02d}")
    await _llm(client, "other one", providerType="VLLM")
    async with signed_in(app, ADMIN_TOKEN) as http:
        first = await http.get("/console/connections", params={"q": "PAGED", "size": "10"})
        third = await http.get(
            "/console/connections", params={"q": "paged", "size": "10", "page": "3"}
        )
        vllm = await http.get("/console/connections", params={"providerType": "VLLM"})
        bad = await http.get("/console/connections", params={"size": "100000"})
        bad_provider = await http.get("/console/connections", params={"providerType": "NOPE"})
    rows = re.findall(r'<a href="/console/connections/[0-9a-f-]+">([^<]+)</a>', first.text)
    assert rows == [f"paged {n:02d}" for n in range(22, 12, -1)]  # newest first
    assert "1\N{EN DASH}10 of 23" in first.text
    assert 'href="/console/connections?q=PAGED&amp;page=2&amp;size=10"' in first.text
    third_rows = re.findall(r'<a href="/console/connections/[0-9a-f-]+">([^<]+)</a>', third.text)
    assert third_rows == ["paged 02", "paged 01", "paged 00"]
    assert re.findall(r'<a href="/console/connections/[0-9a-f-]+">([^<]+)</a>', vllm.text) == [
        "other one"
    ]
    assert bad.status_code == 400 and "size" in bad.text
    assert bad_provider.status_code == 400 and "providerType" in bad_provider.text


async def test_the_overview_counts_what_the_admin_sees(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _llm(client, "counted")
    await new_member(client, "counted-member")
    async with signed_in(app, ADMIN_TOKEN) as http:
        overview = await http.get("/console")
    assert overview.status_code == 200
    assert 'id="count-llms">1<' in overview.text
    assert re.search(r'<span class="value">2</span><span class="label">Principals', overview.text)
    assert 'id="gateway-calls">0<' in overview.text
