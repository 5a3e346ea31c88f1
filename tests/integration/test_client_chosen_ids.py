"""What copying an instance needs of the API, on SQLite and PostgreSQL: a model group and a
prompt template may be created with the id the client chooses (checked, 409 when taken,
nothing written when refused), a group with another owner (admins), and a group's runtime
bindings can be listed, a page at a time."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.conftest import new_member
from tests.integration.test_configs_api import acting_as

TEMPLATE_ID = "00112233445566778899aabbccddeeff"


def _violations(response: httpx.Response) -> list[dict[str, str]]:
    body = response.json()
    assert body["code"] == "INVALID_ARGUMENT", body
    details: list[dict[str, str]] = body["details"]
    return details


async def test_a_group_takes_the_id_and_the_owner_its_creator_chooses(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    made = await client.post(
        "/v1/model-groups",
        json={"name": "support", "modelTemplateId": "mt-support", "ownerId": alice_id},
    )
    assert made.status_code == 201, made.text
    assert (made.json()["modelTemplateId"], made.json()["ownerId"]) == ("mt-support", alice_id)
    again = await client.post(
        "/v1/model-groups", json={"name": "x", "modelTemplateId": "mt-support"}
    )
    assert again.status_code == 409, again.text
    assert "modelTemplateId 'mt-support' is taken" in again.json()["message"]
    for bad in ("support", "mt-", "mt-Upper", "mt-" + "a" * 30, "mt-a/b"):
        refused = await client.post("/v1/model-groups", json={"name": "x", "modelTemplateId": bad})
        assert refused.status_code == 400, (bad, refused.text)
        assert [d["field"] for d in _violations(refused)] == ["modelTemplateId"]
    async with acting_as(app, alice_token) as alice:
        others = await alice.post(
            "/v1/model-groups", json={"name": "x", "ownerId": (await _admin_id(client))}
        )
        assert others.status_code == 403, others.text
        mine = await alice.get("/v1/model-groups/mt-support")
        assert mine.status_code == 200
    listed = (await client.get("/v1/model-groups")).json()
    assert [g["modelTemplateId"] for g in listed["modelGroups"]] == ["mt-support"]


async def _admin_id(client: httpx.AsyncClient) -> str:
    principals = (await client.get("/v1/principals")).json()["principals"]
    return str(next(p["principalId"] for p in principals if p["role"] == "admin"))


async def test_a_prompt_template_takes_the_id_its_creator_chooses_once(
    client: httpx.AsyncClient,
) -> None:
    for ws in ("one", "two"):
        assert (
            await client.post("/v1/workspaces", json={"workspaceId": ws, "name": ws})
        ).is_success
    body = {"name": "greeting", "content": "Hi ${who}", "promptTemplateId": TEMPLATE_ID}
    made = await client.post("/v1/workspaces/one/prompt-templates", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["promptTemplateId"] == TEMPLATE_ID
    got = await client.get(f"/v1/workspaces/one/prompt-templates/{TEMPLATE_ID}")
    assert got.json()["content"] == "Hi ${who}"
    elsewhere = await client.post("/v1/workspaces/two/prompt-templates", json=body)
    assert elsewhere.status_code == 409, elsewhere.text
    assert "promptTemplateId" in elsewhere.json()["message"]
    system = (await client.get("/v1/workspaces/two/prompt-templates?type=System")).json()
    built_in = system["promptTemplates"][0]["promptTemplateId"]
    taken = await client.post(
        "/v1/workspaces/two/prompt-templates", json={**body, "promptTemplateId": built_in}
    )
    assert taken.status_code == 409, taken.text
    for bad in ("ABCDEF" * 5 + "ab", "0" * 31, "g" * 32):
        refused = await client.post(
            "/v1/workspaces/two/prompt-templates", json={**body, "promptTemplateId": bad}
        )
        assert refused.status_code == 400, (bad, refused.text)
        assert [d["field"] for d in _violations(refused)] == ["promptTemplateId"]
    listed = (await client.get("/v1/workspaces/two/prompt-templates")).json()
    assert listed["promptTemplates"] == []


async def test_a_groups_bound_runtimes_are_listed_by_type_and_id_a_page_at_a_time(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    group = (await client.post("/v1/model-groups", json={"name": "g"})).json()["modelTemplateId"]
    other = (await client.post("/v1/model-groups", json={"name": "h"})).json()["modelTemplateId"]
    runtimes = f"/v1/model-groups/{group}/runtimes"
    bound = await client.post(runtimes, json={"runtimeIds": ["b", "a", "c"]})
    assert bound.is_success, bound.text
    await client.post(runtimes, json={"runtimeIds": ["z"], "runtimeType": "Sandbox"})
    await client.post(f"/v1/model-groups/{other}/runtimes", json={"runtimeIds": ["elsewhere"]})
    first = (await client.get(runtimes, params={"pageSize": 3})).json()
    assert [(r["runtimeType"], r["runtimeId"]) for r in first["runtimes"]] == [
        ("Default", "a"),
        ("Default", "b"),
        ("Default", "c"),
    ]
    assert (first["totalCount"], first["pageNumber"], first["pageSize"]) == (4, 1, 3)
    second = (await client.get(runtimes, params={"pageSize": 3, "pageNumber": 2})).json()
    assert [(r["runtimeType"], r["runtimeId"]) for r in second["runtimes"]] == [("Sandbox", "z")]
    refused = await client.get(runtimes, params={"pageSize": 0})
    assert [d["field"] for d in _violations(refused)] == ["pageSize"]
    _, token = await new_member(client, "mallory")
    async with acting_as(app, token) as mallory:
        assert (await mallory.get(runtimes)).status_code == 404
