"""Who may write into a workspace, on SQLite and PostgreSQL, through the native and the
bailian faces: a member is a `reader` (read, list, render) unless made an `editor` (also
create, update, delete); an admin writes into another principal's workspace only naming
its owner (`ownerId`); a taken client-chosen id says so."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.services import workspaces
from tests.conftest import new_member
from tests.integration.test_bailian_face import error_of, keys_for
from tests.integration.test_catalog_services import admin_of
from tests.integration.test_configs_api import acting_as
from tests.support.roa import RoaClient, segment

WS = "llm-roles0001"
TEMPLATES = f"/v1/workspaces/{WS}/prompt-templates"


def member_url(principal_id: str) -> str:
    return f"/v1/workspaces/{WS}/members/{principal_id}"


async def template(client: httpx.AsyncClient, name: str = "t", **params: str) -> str:
    created = await client.post(
        TEMPLATES, json={"name": name, "content": "Hi ${who}"}, params=params
    )
    assert created.status_code == 201, created.text
    return str(created.json()["promptTemplateId"])


async def contents(client: httpx.AsyncClient) -> list[tuple[str, str, int]]:
    listed = await client.get(TEMPLATES)
    assert listed.status_code == 200, listed.text
    return [(t["name"], t["content"], t["version"]) for t in listed.json()["promptTemplates"]]


async def writes(client: httpx.AsyncClient, template_id: str) -> list[httpx.Response]:
    url = f"{TEMPLATES}/{template_id}"
    return [
        await client.post(TEMPLATES, json={"name": "new", "content": "planted"}),
        await client.patch(url, json={"content": "changed"}),
        await client.delete(url),
    ]


async def test_a_member_is_a_reader_unless_made_an_editor(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, owner_token = await new_member(client, "owner")
    member_id, member_token = await new_member(client, "member")
    async with acting_as(app, owner_token) as owner, acting_as(app, member_token) as member:
        created = await owner.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})
        assert created.status_code == 201, created.text
        template_id = await template(owner)
        url = f"{TEMPLATES}/{template_id}"

        added = await owner.put(member_url(member_id))
        assert added.status_code == 200, added.text
        assert (added.json()["principalId"], added.json()["role"]) == (member_id, "reader")
        # A reader reads, lists and renders ...
        assert (await member.get(url)).json()["content"] == "Hi ${who}"
        assert (await member.get(f"{url}/versions")).status_code == 200
        rendered = await member.post(f"{url}:render", json={"variables": {"who": "you"}})
        assert rendered.json()["text"] == "Hi you"
        assert await contents(member) == [("t", "Hi ${who}", 1)]
        # ... and writes nothing.
        needed = ["author", "author", "editor"]  # create, update; delete
        for response, role in zip(await writes(member, template_id), needed, strict=True):
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "PERMISSION_DENIED"
            assert "is a reader" in response.json()["message"]
            assert f"needs the {role} role" in response.json()["message"]
        assert await contents(owner) == [("t", "Hi ${who}", 1)]

        editor = await owner.put(member_url(member_id), json={"role": "editor"})
        assert editor.status_code == 200, editor.text
        assert editor.json() == {**added.json(), "role": "editor"}  # when it was added stays
        members = (await member.get(f"/v1/workspaces/{WS}/members")).json()["members"]
        assert members == [editor.json()]
        theirs = await template(member, "theirs")
        patched = await member.patch(url, json={"content": "Hello ${who}"})
        assert patched.status_code == 200, patched.text
        assert (await member.delete(f"{TEMPLATES}/{theirs}")).status_code == 200
        assert await contents(owner) == [("t", "Hello ${who}", 2)]
        # An editor still does not manage the workspace.
        for response in (
            await member.patch(f"/v1/workspaces/{WS}", json={"name": "mine"}),
            await member.put(member_url(member_id), json={"role": "reader"}),
            await member.delete(f"/v1/workspaces/{WS}"),
        ):
            assert response.status_code == 403, response.text

        back = await owner.put(member_url(member_id), json={"role": "reader"})
        assert back.json()["role"] == "reader"
        assert {r.status_code for r in await writes(member, template_id)} == {403}


async def test_a_bad_role_is_400_naming_it_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    member_id, _ = await new_member(client, "member")
    assert (await client.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})).is_success
    assert (await client.put(member_url(member_id), json={"role": "editor"})).is_success
    for body, field in (
        ({"role": "owner"}, "role"),
        ({"role": "Editor"}, "role"),
        ({"role": 1}, "role"),
        ({"rank": "editor"}, "rank"),
    ):
        response = await client.put(member_url(member_id), json=body)
        assert response.status_code == 400, (body, response.text)
        assert [d["field"] for d in response.json()["details"]] == [field]
    members = (await client.get(f"/v1/workspaces/{WS}/members")).json()["members"]
    assert [(m["principalId"], m["role"]) for m in members] == [(member_id, "editor")]


async def test_role_changes_are_audited_and_a_repeat_is_not(client: httpx.AsyncClient) -> None:
    member_id, _ = await new_member(client, "member")
    assert (await client.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})).is_success
    for role in ("reader", "reader", "editor", "editor", "reader"):
        assert (await client.put(member_url(member_id), json={"role": role})).is_success
    events = await client.get(
        "/v1/audit-events",
        params={"resourceType": "workspace_member", "resourceId": f"{WS}/{member_id}"},
    )
    assert events.status_code == 200, events.text
    found = [(e["action"], e["details"]) for e in reversed(events.json()["auditEvents"])]
    head = {"workspaceId": WS, "principalId": member_id}
    assert found == [
        ("create", {**head, "role": "reader"}),
        ("update", {**head, "role": "editor", "fields": ["role"]}),
        ("update", {**head, "role": "reader", "fields": ["role"]}),
    ]


async def test_an_admin_writes_into_a_members_workspace_only_naming_its_owner(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner_id, owner_token = await new_member(client, "owner")
    other_id, _ = await new_member(client, "other")
    async with acting_as(app, owner_token) as owner:
        assert (
            await owner.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})
        ).is_success
        template_id = await template(owner)
        url = f"{TEMPLATES}/{template_id}"
        for params in ({}, {"ownerId": other_id}):
            for response in (
                await client.post(
                    TEMPLATES, json={"name": "db", "content": "password"}, params=params
                ),
                await client.patch(url, json={"content": "password"}, params=params),
                await client.delete(url, params=params),
            ):
                assert response.status_code == 412, response.text
                assert response.json()["code"] == "FAILED_PRECONDITION"
                assert f"owned by principal {owner_id}" in response.json()["message"]
        assert await contents(owner) == [("t", "Hi ${who}", 1)]
        # Reading needs no owner named.
        assert (await client.get(url)).status_code == 200

        named = {"ownerId": owner_id}
        await template(client, "by-admin", **named)
        patched = await client.patch(url, json={"content": "Hello"}, params=named)
        assert patched.status_code == 200, patched.text
        assert await contents(owner) == [("t", "Hello", 2), ("by-admin", "Hi ${who}", 1)]


async def test_only_an_admin_names_another_owner_and_a_member_learns_nothing_by_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner_id, owner_token = await new_member(client, "owner")
    member_id, member_token = await new_member(client, "member")
    async with acting_as(app, owner_token) as owner, acting_as(app, member_token) as member:
        assert (
            await owner.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})
        ).is_success
        named = {"ownerId": owner_id}
        answers = []
        for workspace_id in (WS, "llm-nosuchspace"):
            answers.append(
                await member.post(
                    f"/v1/workspaces/{workspace_id}/prompt-templates",
                    json={"name": "n", "content": "c"},
                    params=named,
                )
            )
        assert [r.status_code for r in answers] == [403, 403]
        assert answers[0].json() == answers[1].json()
        for_other = await member.post(
            "/v1/workspaces", json={"name": "theirs", "ownerId": owner_id}
        )
        assert for_other.status_code == 403, for_other.text
    made = await client.post(
        "/v1/workspaces", json={"workspaceId": "llm-for-member", "name": "m", "ownerId": member_id}
    )
    assert made.status_code == 201, made.text
    assert made.json()["ownerId"] == member_id
    unknown = await client.post("/v1/workspaces", json={"name": "m", "ownerId": "nobody"})
    assert unknown.status_code == 400, unknown.text
    assert [d["field"] for d in unknown.json()["details"]] == ["ownerId"]


async def test_a_taken_client_chosen_id_says_taken(app: FastAPI, client: httpx.AsyncClient) -> None:
    _, member_token = await new_member(client, "member")
    llm = {"llmId": "0b7c7a4e-51a4-4d5e-9b1a-3a2f4c5d6e7f", "displayName": "x"}
    assert (await client.post("/v1/llms", json={**llm, "modelIdentifier": "gpt-4o"})).is_success
    assert (await client.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})).is_success
    async with acting_as(app, member_token) as member:
        for response in (
            await member.post("/v1/llms", json={**llm, "modelIdentifier": "gpt-4o-mini"}),
            await member.post("/v1/workspaces", json={"workspaceId": WS, "name": "mine"}),
        ):
            assert response.status_code == 409, response.text
            assert "is taken" in response.json()["message"]


# --- the bailian face -----------------------------------------------------------------------


@pytest.fixture(params=["acs3", "v2"])
def signer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def signed_by(app: FastAPI, principal_id: str, signer: str) -> RoaClient:
    return RoaClient(app, *await keys_for(app, principal_id), signer=signer)


def item(template_id: str) -> str:
    return f"/{WS}/promptTemplates/{segment(template_id)}"


async def test_bailian_writes_obey_the_members_role_and_the_owner_rule(
    app: FastAPI, client: httpx.AsyncClient, signer: str
) -> None:
    owner_id, owner_token = await new_member(client, "owner")
    member_id, _ = await new_member(client, "member")
    admin = await admin_of(app.state.store)
    as_member = await signed_by(app, member_id, signer)
    as_admin = await signed_by(app, admin.principal_id, signer)
    async with acting_as(app, owner_token) as owner:
        assert (
            await owner.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})
        ).is_success
        template_id = await template(owner)
        assert (await owner.put(member_url(member_id))).is_success

        def bailian_writes() -> list[tuple[str, str, dict[str, str]]]:
            return [
                ("POST", f"/{WS}/promptTemplates", {"name": "new", "content": "planted"}),
                ("PATCH", item(template_id), {"content": "changed"}),
                ("DELETE", item(template_id), {}),
            ]

        async def refused(roa: RoaClient, status: int, code: str, *words: str) -> None:
            for (method, path, query), said in zip(bailian_writes(), words * 3, strict=False):
                body: dict[str, Any] = error_of(await roa.call(method, path, query), status, code)
                assert said in body["message"], body

        # A reader reads through bailian, and writes nothing.
        got = await as_member.ok("GET", item(template_id))
        assert got["content"] == "Hi ${who}"
        assert (await as_member.ok("GET", f"/{WS}/promptTemplates"))["totalCount"] == 1
        await refused(
            as_member, 403, "Forbidden", *("needs the author role",) * 2, "needs the editor role"
        )
        # An admin reads, but bailian cannot name the owner: its writes are refused.
        assert (await as_admin.ok("GET", item(template_id)))["content"] == "Hi ${who}"
        await refused(as_admin, 409, "OperationDenied", f"owned by principal {owner_id}")
        assert await contents(owner) == [("t", "Hi ${who}", 1)]

        # An editor writes.
        await workspaces.add_member(
            store=app.state.store,
            actor=admin,
            workspace_id=WS,
            principal_id=member_id,
            role="editor",
        )
        created = await as_member.ok(
            "POST", f"/{WS}/promptTemplates", {"name": "n", "content": "c"}
        )
        await as_member.ok("PATCH", item(template_id), {"content": "changed"})
        await as_member.ok("DELETE", item(created["promptTemplateId"]))
        assert await contents(owner) == [("t", "changed", 2)]
