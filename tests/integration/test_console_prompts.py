"""The Prompts screen through httpx, on both stores: a template written in the console's
editor, its versions, labels moved (promote, roll back) and removed, a diff, a preview
and a playground call through the gateway; chat templates written as `[role]` blocks;
refused forms answer 400 naming the field and write nothing; a member reaches only its
workspaces and may move `production` only as an editor; every change is audited as the
console's; the list pages in SQL with its search in the links."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import csrf_of, post_form, signed_in
from tests.support.upstreams import FixtureUpstream

HOME = "/console/prompts"


async def _workspace(http: httpx.AsyncClient, workspace_id: str) -> str:
    made = await post_form(
        http,
        f"{HOME}/workspaces",
        {"name": workspace_id, "workspaceId": workspace_id},
        form_page=HOME,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == f"{HOME}/{workspace_id}"
    return workspace_id


async def _template(http: httpx.AsyncClient, workspace_id: str, **fields: str) -> str:
    made = await post_form(http, f"{HOME}/{workspace_id}/new", fields)
    assert made.status_code == 303, made.text
    where: str = made.headers["location"]
    return where


async def test_a_template_is_written_versioned_labelled_diffed_previewed_and_deleted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        ws = await _workspace(http, "console-ws")
        where = await _template(
            http, ws, name="greeting", content="Hello ${name},\nwelcome to ${place}.\n"
        )
        template_id = where.rsplit("/", 1)[1]
        first = await http.get(where)
        edited = await post_form(
            http,
            f"{where}/edit",
            {"name": "greeting", "content": "Hi ${name},\nwelcome to ${place}.\nBye.\n"},
        )
        promoted = await post_form(
            http, f"{where}/labels", {"label": "production", "version": "2"}, form_page=where
        )
        rolled_back = await post_form(
            http, f"{where}/labels", {"label": "production", "version": "1"}, form_page=where
        )
        staged = await post_form(
            http, f"{where}/labels", {"label": "staging", "version": "2"}, form_page=where
        )
        removed = await post_form(
            http, f"{where}/labels/remove", {"label": "staging"}, form_page=where
        )
        shown = await http.get(where)
        older = await http.get(where, params={"version": "1"})
        diff = await http.get(f"{where}/diff", params={"from": "production", "to": "latest"})
        preview = await http.get(
            f"{where}/preview", params={"version": "1", "prompt.variables.name": "Ada"}
        )
        deleted = await post_form(http, f"{where}/delete", {})
    assert "<code>name</code>" in first.text or ">name</code>" in first.text
    assert edited.status_code == 303 and edited.headers["location"] == where
    assert promoted.status_code == rolled_back.status_code == 303
    assert staged.status_code == removed.status_code == 303
    assert re.search(r'<td><span class="badge ok">production</span></td>\s*<td>1</td>', shown.text)
    table = re.search(r'<table class="table" id="labels">.*?</table>', shown.text, flags=re.S)
    assert table is not None and "staging" not in table.group(0)
    assert "Hello ${name}" in older.text and "Hi ${name}" in shown.text
    assert '<span class="diff-remove">-Hello ${name},</span>' in diff.text
    assert '<span class="diff-add">+Hi ${name},</span>' in diff.text
    assert '<span class="diff-add">+Bye.</span>' in diff.text
    assert "Hello Ada,\nwelcome to ${place}." in preview.text
    assert 'id="rendered-missing"' in preview.text and "<code>place</code>" in preview.text
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{HOME}/{ws}"
    events = (await client.get("/v1/audit-events", params={"resourceId": template_id})).json()
    seen = [(e["action"], e["face"]) for e in events["auditEvents"]]
    assert seen == [("delete", "console")] + [("update", "console")] * 5 + [("create", "console")]
    labels = (await client.get("/v1/audit-events", params={"resourceId": ws})).json()
    assert [(e["action"], e["face"]) for e in labels["auditEvents"]] == [("create", "console")]


async def test_a_chat_template_is_written_as_role_blocks_and_shown_as_messages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    chat = "[system]\nYou are ${persona}.\n\n[user]\nTell me about ${topic}.\nBriefly."
    async with signed_in(app, ADMIN_TOKEN) as http:
        ws = await _workspace(http, "chat-ws")
        where = await _template(
            http, ws, name="chatty", messages=chat, config='{"temperature": 0.2}'
        )
        edit = await http.get(f"{where}/edit")
    template_id = where.rsplit("/", 1)[1]
    got = (await client.get(f"/v1/workspaces/{ws}/prompt-templates/{template_id}")).json()
    assert got["messages"] == [
        {"role": "system", "content": "You are ${persona}."},
        {"role": "user", "content": "Tell me about ${topic}.\nBriefly."},
    ]
    assert got["variables"] == ["persona", "topic"] and got["config"] == {"temperature": 0.2}
    assert "[system]\nYou are ${persona}.\n\n[user]\nTell me about ${topic}." in edit.text


async def test_refused_editor_forms_name_the_field_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        ws = await _workspace(http, "refusals")
        new = f"{HOME}/{ws}/new"
        empty = await post_form(http, new, {"name": "", "content": ""})
        no_role = await post_form(http, new, {"name": "x", "messages": "hello\n[user]\nhi"})
        bad_role = await post_form(http, new, {"name": "x", "messages": "[robot]\nbeep"})
        both = await post_form(http, new, {"name": "x", "content": "a", "messages": "[user]\nb"})
        bad_config = await post_form(http, new, {"name": "x", "content": "a", "config": "{nope"})
        bad_id = await post_form(http, new, {"name": "x", "content": "a", "promptTemplateId": "z"})
        bad_workspace = await post_form(
            http, f"{HOME}/workspaces", {"name": "w", "workspaceId": "UPPER"}, form_page=HOME
        )
    for refused, field in (
        (empty, "name"),
        (empty, "content"),
        (no_role, "messages"),
        (bad_role, "messages"),
        (both, "messages"),
        (bad_config, "config"),
        (bad_id, "promptTemplateId"),
        (bad_workspace, "workspaceId"),
    ):
        assert refused.status_code == 400, (field, refused.text)
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', refused.text), field
    assert "line 1: start each message with its role" in no_role.text
    assert "messages.0.role" in bad_role.text
    assert 'value="x"' in bad_config.text  # what was typed stays
    listed = (await client.get(f"/v1/workspaces/{ws}/prompt-templates")).json()
    assert listed["promptTemplates"] == []
    assert [
        w["workspaceId"] for w in (await client.get("/v1/workspaces")).json()["workspaces"]
    ] == [ws]


async def test_the_playground_sends_the_rendered_prompt_through_the_gateway(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    llm = await client.post(
        "/v1/llms",
        json={
            "displayName": "Playground model",
            "providerType": "CUSTOM_OPENAI_COMPATIBLE",
            "endpointUrl": upstream.base("ok-playground"),
            "modelIdentifier": "play-model",
        },
    )
    assert llm.status_code == 201, llm.text
    llm_id = llm.json()["llm"]["llmId"]
    async with signed_in(app, ADMIN_TOKEN) as http:
        ws = await _workspace(http, "play-ws")
        where = await _template(
            http, ws, name="asker", messages="[system]\nBe ${tone}.\n[user]\nWhat is ${thing}?"
        )
        preview = await http.get(f"{where}/preview")
        fields = {
            "version": "1",
            "model": llm_id,
            "maxTokens": "20",
            "prompt.variables.tone": "brief",
            "prompt.variables.thing": "modelplane",
        }
        played = await http.post(f"{where}/playground", data={"csrf": csrf_of(preview), **fields})
        missing = await http.post(
            f"{where}/playground",
            data={"csrf": csrf_of(preview), **fields, "prompt.variables.thing": ""},
        )
        unknown = await http.post(
            f"{where}/playground",
            data={"csrf": csrf_of(preview), **fields, "model": "no-such-model"},
        )
        no_csrf = await http.post(f"{where}/playground", data=fields)
    assert 'name="prompt.variables.tone"' in preview.text
    assert played.status_code == 200, played.text
    assert "Hello from the fixture upstream." in played.text
    sent = upstream.requests_to("ok-playground")
    assert len(sent) == 1
    assert sent[0].body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is modelplane?"},
    ]
    assert sent[0].body["max_tokens"] == 20
    assert missing.status_code == 400
    assert re.search(r'id="f-prompt.variables.thing"[^>]*aria-invalid="true"', missing.text)
    assert unknown.status_code == 404
    assert no_csrf.status_code == 403
    assert len(upstream.requests_to("ok-playground")) == 1


async def test_a_member_reaches_only_its_workspaces_and_moves_production_only_as_editor(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await client.post("/v1/workspaces", json={"name": "admins", "workspaceId": "admins-ws"})
    assert made.status_code == 201, made.text
    template = await client.post(
        "/v1/workspaces/admins-ws/prompt-templates", json={"name": "t", "content": "v1"}
    )
    assert template.status_code == 201, template.text
    template_id = template.json()["promptTemplateId"]
    member_id, token = await new_member(client, "prompts-member")
    where = f"{HOME}/admins-ws/templates/{template_id}"
    async with signed_in(app, token) as http:
        listed = await http.get(HOME)
        outside = await http.get(f"{HOME}/admins-ws")
        outside_template = await http.get(where)
        added = await client.put(
            f"/v1/workspaces/admins-ws/members/{member_id}", json={"role": "author"}
        )
        assert added.status_code in (200, 201), added.text
        inside = await http.get(f"{HOME}/admins-ws")
        staging = await post_form(
            http, f"{where}/labels", {"label": "staging", "version": "1"}, form_page=where
        )
        production = await post_form(
            http, f"{where}/labels", {"label": "production", "version": "1"}, form_page=where
        )
        delete = await post_form(http, f"{where}/delete", {})
    assert "admins-ws" not in listed.text
    assert outside.status_code == 404 and outside_template.status_code == 404
    assert inside.status_code == 200 and ">t</a>" in inside.text
    assert staging.status_code == 303
    assert production.status_code == 403 and "production" in production.text
    assert delete.status_code == 403
    labels = (
        await client.get(f"/v1/workspaces/admins-ws/prompt-templates/{template_id}/labels")
    ).json()
    assert sorted(label["label"] for label in labels["labels"]) == ["latest", "staging"]


async def test_the_list_pages_by_token_in_sql_with_its_search_in_the_links(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.post("/v1/workspaces", json={"name": "paged", "workspaceId": "paged-ws"})
    for n in range(12):
        made = await client.post(
            "/v1/workspaces/paged-ws/prompt-templates",
            json={"name": f"paged {n:02d}", "content": "x"},
        )
        assert made.status_code == 201
    await client.post(
        "/v1/workspaces/paged-ws/prompt-templates", json={"name": "other", "content": "y"}
    )
    link = re.compile(r'<a href="/console/prompts/paged-ws/templates/[0-9a-f]{32}">([^<]+)</a>')
    async with signed_in(app, ADMIN_TOKEN) as http:
        first = await http.get(f"{HOME}/paged-ws", params={"q": "PAGED", "size": "5"})
        found = re.search(
            r'href="(/console/prompts/paged-ws\?[^"]+)" rel="next"|rel="next" href="([^"]+)"',
            first.text,
        )
        assert found is not None, first.text
        second_url = (found.group(1) or found.group(2)).replace("&amp;", "&")
        second = await http.get(second_url)
        too_big = await http.get(f"{HOME}/paged-ws", params={"size": "500"})
        bad_token = await http.get(f"{HOME}/paged-ws", params={"after": "nonsense"})
    assert link.findall(first.text) == [f"paged {n:02d}" for n in range(5)]
    assert "1\u20135 of 12" in first.text
    assert "q=PAGED" in second_url and "size=5" in second_url and "page=2" in second_url
    assert link.findall(second.text) == [f"paged {n:02d}" for n in range(5, 10)]
    assert "6\u201310 of 12" in second.text
    assert too_big.status_code == 400 and "size" in too_big.text
    assert bad_token.status_code == 400 and "nextToken" in bad_token.text
