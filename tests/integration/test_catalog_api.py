"""The model catalog through the native face (/v1/model-groups, …), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import new_member

API_KEY = "sk-live-0123456789abcdefWXYZ"


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def fields(response: httpx.Response) -> list[str]:
    data = response.json()
    assert data["code"] == "INVALID_ARGUMENT", data
    return [d["field"] for d in data["details"]]


async def make_group(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/model-groups", json={"name": "team", **body})
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


async def make_provider(
    client: httpx.AsyncClient, group_id: str, provider_name: str = "provider-acme", **body: Any
) -> dict[str, Any]:
    payload = {
        "modelTemplateId": group_id,
        "name": "Acme",
        "providerName": provider_name,
        "providerType": "Custom",
        "config": {"baseUrl": "https://api.acme.test/v1", "api": "openai", "apiKey": API_KEY},
        **body,
    }
    response = await client.post("/v1/provider-templates", json=payload)
    assert response.status_code == 201, response.text
    provider: dict[str, Any] = response.json()
    return provider


async def batch(
    client: httpx.AsyncClient, provider_id: str, *items: dict[str, Any] | str, **body: Any
) -> httpx.Response:
    wire = [{"llmCode": i} if isinstance(i, str) else i for i in items]
    return await client.post(
        "/v1/llm-templates:batchCreate",
        json={"providerTemplateId": provider_id, "items": wire, **body},
    )


async def setup(client: httpx.AsyncClient, *items: dict[str, Any] | str) -> tuple[str, str]:
    """A group with one provider (`provider-acme`) holding `items`; (group id, provider id)."""
    group = await make_group(client)
    provider = await make_provider(client, group["modelTemplateId"])
    if items:
        response = await batch(client, provider["providerTemplateId"], *items)
        assert response.status_code == 200, response.text
    return group["modelTemplateId"], provider["providerTemplateId"]


async def templates(client: httpx.AsyncClient, group_id: str) -> dict[str, bool]:
    """llmCode -> isDefaultModel of every template of a group."""
    response = await client.get("/v1/llm-templates", params={"modelTemplateId": group_id})
    assert response.status_code == 200, response.text
    return {t["llmCode"]: t["isDefaultModel"] for t in response.json()["llmTemplates"]}


async def default_of(client: httpx.AsyncClient, group_id: str) -> tuple[list[str], str | None]:
    """(codes flagged default, the group's pointer)."""
    group = (await client.get(f"/v1/model-groups/{group_id}")).json()
    flagged = [
        code for code, is_default in (await templates(client, group_id)).items() if is_default
    ]
    return flagged, group["defaultModel"]


# --- life cycles ----------------------------------------------------------------------------


async def test_a_groups_model_count_is_the_same_in_get_and_in_the_list(
    client: httpx.AsyncClient,
) -> None:
    group_id, provider_id = await setup(client, "qwen-max", "qwen-plus")
    other = await make_provider(client, group_id, "provider-other")
    assert (await batch(client, other["providerTemplateId"], "glm-4")).status_code == 200
    empty = (await make_group(client, name="empty"))["modelTemplateId"]

    async def counts() -> dict[str, tuple[int, int]]:
        listed = (await client.get("/v1/model-groups")).json()["modelGroups"]
        return {
            g["modelTemplateId"]: (
                g["modelCount"],
                (await client.get(f"/v1/model-groups/{g['modelTemplateId']}")).json()["modelCount"],
            )
            for g in listed
        }

    assert await counts() == {group_id: (3, 3), empty: (0, 0)}
    first = (await client.get("/v1/llm-templates", params={"modelTemplateId": group_id})).json()
    removed = await client.delete(f"/v1/llm-templates/{first['llmTemplates'][0]['llmTemplateId']}")
    assert removed.status_code == 200, removed.text
    assert await counts() == {group_id: (2, 2), empty: (0, 0)}
    assert (await client.delete(f"/v1/provider-templates/{provider_id}")).status_code == 200
    assert await counts() == {group_id: (1, 1), empty: (0, 0)}


async def test_model_group_life_cycle(client: httpx.AsyncClient) -> None:
    created = await make_group(
        client,
        description="models of the team",
        agentPlatform="web",
        agentProvider="acme",
        bizType=2,
        refScope="ALL_USER",
    )
    group_id = created["modelTemplateId"]
    assert group_id.startswith("mt-")
    assert created["config"] == {} and created["defaultModel"] is None
    assert created["bizType"] == 2 and created["refScope"] == "ALL_USER"
    assert isinstance(created["createdAt"], int) and created["createdAt"] == created["updatedAt"]
    got = (await client.get(f"/v1/model-groups/{group_id}")).json()
    assert got == {**created, "modelCount": 0}

    listed = (await client.get("/v1/model-groups")).json()
    assert listed["totalCount"] == 1 and listed["modelGroups"] == [got]

    patched = await client.patch(f"/v1/model-groups/{group_id}", json={"name": "renamed"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "renamed"
    assert patched.json()["description"] == "models of the team"
    assert patched.json()["refScope"] == "ALL_USER"
    assert patched.json()["updatedAt"] >= created["updatedAt"]
    config = await client.patch(f"/v1/model-groups/{group_id}", json={"config": {"k": [1, "x"]}})
    assert config.json()["config"] == {"k": [1, "x"]} and config.json()["name"] == "renamed"
    deep = await client.patch(f"/v1/model-groups/{group_id}", json={"config": nested(32)})
    assert deep.status_code == 200 and deep.json()["config"] == nested(32)

    deleted = await client.delete(f"/v1/model-groups/{group_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": True, "id": group_id}
    assert (await client.get(f"/v1/model-groups/{group_id}")).status_code == 404
    again = await client.delete(f"/v1/model-groups/{group_id}")
    assert again.status_code == 404 and again.json()["code"] == "NOT_FOUND"
    assert (await client.patch(f"/v1/model-groups/{group_id}", json={})).status_code == 404


async def test_provider_template_life_cycle(client: httpx.AsyncClient) -> None:
    group_id = (await make_group(client))["modelTemplateId"]
    created = await make_provider(client, group_id, description="the acme API")
    provider_id = created["providerTemplateId"]
    assert provider_id.startswith("mpt-")
    assert created["modelTemplateId"] == group_id
    assert created["providerType"] == "Custom" and created["providerName"] == "provider-acme"
    assert created["config"] == {
        "baseUrl": "https://api.acme.test/v1",
        "api": "openai",
        "apiKey": "sk-****WXYZ",
    }
    assert created["hasApiKey"] is True and created["enableWuyingProxy"] is False
    assert (await client.get(f"/v1/provider-templates/{provider_id}")).json() == created

    other = await make_provider(client, group_id, "provider-other", config=None)
    assert other["config"] == {} and other["hasApiKey"] is False
    by_group = await client.get("/v1/provider-templates", params={"modelTemplateId": group_id})
    # Oldest first; things created in the same millisecond come in the order of their ids.
    assert {p["providerTemplateId"] for p in by_group.json()["providerTemplates"]} == {
        provider_id,
        other["providerTemplateId"],
    }
    assert by_group.json()["totalCount"] == 2
    by_name = await client.get("/v1/provider-templates", params={"providerName": "provider-other"})
    assert [p["providerTemplateId"] for p in by_name.json()["providerTemplates"]] == [
        other["providerTemplateId"]
    ]
    by_ids = await client.get("/v1/provider-templates", params={"ids": provider_id})
    assert by_ids.json()["totalCount"] == 1

    patched = await client.patch(
        f"/v1/provider-templates/{provider_id}",
        json={"name": "Acme Inc", "enableWuyingProxy": True},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Acme Inc" and patched.json()["enableWuyingProxy"] is True
    assert patched.json()["config"] == created["config"]
    assert patched.json()["description"] == "the acme API"

    deleted = await client.delete(f"/v1/provider-templates/{provider_id}")
    assert deleted.json() == {"deleted": True, "id": provider_id}
    assert (await client.get(f"/v1/provider-templates/{provider_id}")).status_code == 404
    assert (await client.delete(f"/v1/provider-templates/{provider_id}")).status_code == 404
    patch_gone = await client.patch(f"/v1/provider-templates/{provider_id}", json={"name": "x"})
    assert patch_gone.status_code == 404


async def test_llm_template_life_cycle(client: httpx.AsyncClient) -> None:
    group_id, provider_id = await setup(client)
    response = await batch(
        client,
        provider_id,
        {
            "llmCode": "qwen-max",
            "name": "Qwen Max",
            "description": "the big one",
            "config": {"temperature": 0.7, "tools": ["search"]},
            "isDefaultModel": True,
        },
        "qwen-turbo",
        modelTemplateId=group_id,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["successCount"] == 2 and result["totalCount"] == 2
    assert result["skippedItems"] == []
    max_id, turbo_id = result["llmTemplateIds"]
    assert max_id.startswith("llmt-")

    template = (await client.get(f"/v1/llm-templates/{max_id}")).json()
    assert template == {
        "llmTemplateId": max_id,
        "providerTemplateId": provider_id,
        "modelTemplateId": group_id,
        "llmCode": "qwen-max",
        "name": "Qwen Max",
        "description": "the big one",
        "config": {"temperature": 0.7, "tools": ["search"]},
        "isDefaultModel": True,
        "createdAt": template["createdAt"],
    }
    by_provider = await client.get("/v1/llm-templates", params={"providerTemplateId": provider_id})
    assert {t["llmTemplateId"] for t in by_provider.json()["llmTemplates"]} == {max_id, turbo_id}
    by_code = await client.get("/v1/llm-templates", params={"llmCode": "qwen-turbo"})
    assert [t["llmTemplateId"] for t in by_code.json()["llmTemplates"]] == [turbo_id]
    comma = await client.get("/v1/llm-templates", params={"ids": f"{max_id},{turbo_id}"})
    repeated = await client.get("/v1/llm-templates", params=[("ids", max_id), ("ids", turbo_id)])
    assert comma.json() == repeated.json() and comma.json()["totalCount"] == 2
    listed = await client.get("/v1/model-groups", params={"ids": group_id})
    assert listed.json()["modelGroups"][0]["modelCount"] == 2

    deleted = await client.delete(f"/v1/llm-templates/{turbo_id}")
    assert deleted.json() == {"deleted": True, "id": turbo_id}
    assert (await client.get(f"/v1/llm-templates/{turbo_id}")).status_code == 404
    assert (await client.delete(f"/v1/llm-templates/{turbo_id}")).status_code == 404
    assert await templates(client, group_id) == {"qwen-max": True}


async def test_batch_create_and_item_routes_do_not_collide(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/llm-templates:batchCreate")).status_code == 405
    assert (await client.post("/v1/llm-templates/llmt-1", json={})).status_code == 405
    missing = await client.get("/v1/llm-templates/batchCreate")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


# --- batches and the default model ----------------------------------------------------------


async def test_batch_skips_existing_codes_and_repeats_with_a_reason(
    client: httpx.AsyncClient,
) -> None:
    group_id, provider_id = await setup(client, "a", "b")
    response = await batch(client, provider_id, "b", "c", "c", "d", "a")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["totalCount"] == 5 and result["successCount"] == 2
    assert result["successCount"] + len(result["skippedItems"]) == result["totalCount"]
    assert len(result["llmTemplateIds"]) == 2
    skipped = [(s["llmCode"], s["reason"]) for s in result["skippedItems"]]
    assert [code for code, _ in skipped] == ["b", "c", "a"]
    assert "already exists" in skipped[0][1] and "more than once" in skipped[1][1]
    assert sorted(await templates(client, group_id)) == ["a", "b", "c", "d"]
    all_skipped = (await batch(client, provider_id, "a")).json()
    assert all_skipped["successCount"] == 0 and all_skipped["llmTemplateIds"] == []


async def test_two_defaults_in_one_batch_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
) -> None:
    group_id, provider_id = await setup(client)
    response = await batch(
        client,
        provider_id,
        {"llmCode": "a", "isDefaultModel": True},
        {"llmCode": "b", "isDefaultModel": True},
        "c",
    )
    assert response.status_code == 400
    assert fields(response) == ["items"]
    assert "IsDefaultModel" in response.json()["message"] or "default" in response.text
    assert await templates(client, group_id) == {}
    assert await default_of(client, group_id) == ([], None)


async def test_a_bad_item_fails_the_whole_batch_naming_it(client: httpx.AsyncClient) -> None:
    group_id, provider_id = await setup(client)
    response = await batch(client, provider_id, "good", "bad code", {"llmCode": "x" * 129})
    assert response.status_code == 400
    assert fields(response) == ["items.1.llmCode", "items.2.llmCode"]
    assert await templates(client, group_id) == {}


async def test_a_new_default_moves_the_flag_and_the_group_pointer(
    client: httpx.AsyncClient,
) -> None:
    group_id, provider_id = await setup(client, {"llmCode": "a", "isDefaultModel": True}, "b")
    assert await default_of(client, group_id) == (["a"], "provider-acme/a")
    group = (await client.get(f"/v1/model-groups/{group_id}")).json()
    assert group["config"] == {"defaults": {"model": {"primary": "provider-acme/a"}}}

    await batch(client, provider_id, {"llmCode": "c", "isDefaultModel": True})
    assert await default_of(client, group_id) == (["c"], "provider-acme/c")

    other = await make_provider(client, group_id, "provider-other")
    response = await batch(
        client, other["providerTemplateId"], {"llmCode": "z", "isDefaultModel": True}
    )
    assert response.status_code == 200, response.text
    assert await default_of(client, group_id) == (["z"], "provider-other/z")
    # A default that is skipped (the code exists) does not move the default.
    await batch(client, provider_id, {"llmCode": "a", "isDefaultModel": True})
    assert await default_of(client, group_id) == (["z"], "provider-other/z")


async def test_a_config_pointer_moves_the_default_after_checks(client: httpx.AsyncClient) -> None:
    group_id, _ = await setup(client, {"llmCode": "a", "isDefaultModel": True}, "b")
    config = {"defaults": {"model": {"primary": "provider-acme/b"}}, "other": 1}
    response = await client.patch(f"/v1/model-groups/{group_id}", json={"config": config})
    assert response.status_code == 200, response.text
    assert response.json()["config"] == config
    assert response.json()["defaultModel"] == "provider-acme/b"
    assert await default_of(client, group_id) == (["b"], "provider-acme/b")

    convenience = await client.patch(
        f"/v1/model-groups/{group_id}", json={"defaultModel": "provider-acme/a"}
    )
    assert convenience.status_code == 200, convenience.text
    assert convenience.json()["config"] == {
        "defaults": {"model": {"primary": "provider-acme/a"}},
        "other": 1,
    }
    assert await default_of(client, group_id) == (["a"], "provider-acme/a")

    cleared = await client.patch(f"/v1/model-groups/{group_id}", json={"defaultModel": ""})
    assert cleared.json()["config"] == {"other": 1} and cleared.json()["defaultModel"] is None
    assert await default_of(client, group_id) == ([], None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"config": {"defaults": {"model": {"primary": "provider-x/a"}}}}, "config"),
        ({"config": {"defaults": {"model": {"primary": "provider-acme/zz"}}}}, "config"),
        ({"config": {"defaults": {"model": {"primary": "no-slash"}}}}, "config"),
        ({"config": {"defaults": {"model": {"primary": 3}}}}, "config"),
        ({"config": {"defaults": {"model": "provider-acme/b"}}}, "config.defaults.model"),
        ({"config": {"defaults": ["x"]}}, "config.defaults"),
        ({"defaultModel": "provider-x/a"}, "defaultModel"),
        ({"defaultModel": "provider-acme/zz"}, "defaultModel"),
        ({"defaultModel": "/"}, "defaultModel"),
    ],
)
async def test_a_pointer_outside_the_group_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    group_id, _ = await setup(client, {"llmCode": "a", "isDefaultModel": True}, "b")
    response = await client.patch(f"/v1/model-groups/{group_id}", json={"name": "new", **body})
    assert response.status_code == 400, response.text
    named = fields(response)
    assert named == [field] or (field == "config" and named == ["config.defaults.model.primary"])
    group = (await client.get(f"/v1/model-groups/{group_id}")).json()
    assert group["name"] == "team"
    assert await default_of(client, group_id) == (["a"], "provider-acme/a")


# --- provider templates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider_type", "provider_name", "status"),
    [
        ("Custom", "provider-mine", 201),
        ("Custom", "mine", 400),
        ("WuyingCredit", "wuying-credit", 201),
        ("WuyingCredit", "provider-credit", 400),
        ("Managed", "openai", 201),
        ("Managed", "Open AI", 400),
        ("Managed", "", 400),
    ],
)
async def test_provider_names_follow_the_provider_type(
    client: httpx.AsyncClient, provider_type: str, provider_name: str, status: int
) -> None:
    group_id = (await make_group(client))["modelTemplateId"]
    response = await client.post(
        "/v1/provider-templates",
        json={
            "modelTemplateId": group_id,
            "name": "p",
            "providerName": provider_name,
            "providerType": provider_type,
        },
    )
    assert response.status_code == status, response.text
    if status == 400:
        assert fields(response) == ["providerName"]
        listed = await client.get("/v1/provider-templates", params={"modelTemplateId": group_id})
        assert listed.json()["totalCount"] == 0


async def test_a_provider_name_is_unique_in_its_group_only(client: httpx.AsyncClient) -> None:
    group_id, _ = await setup(client)
    again = await client.post(
        "/v1/provider-templates",
        json={
            "modelTemplateId": group_id,
            "name": "again",
            "providerName": "provider-acme",
            "providerType": "Custom",
        },
    )
    assert again.status_code == 409
    assert again.json()["code"] == "ALREADY_EXISTS"
    other_group = (await make_group(client, name="other"))["modelTemplateId"]
    await make_provider(client, other_group)


async def test_the_api_key_is_never_returned(client: httpx.AsyncClient) -> None:
    group_id, provider_id = await setup(client, "a")
    await client.post(f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": ["r1"]})
    responses = [
        await client.get(f"/v1/provider-templates/{provider_id}"),
        await client.get("/v1/provider-templates"),
        await client.get("/v1/model-groups"),
        await client.get("/v1/llm-templates"),
        await client.get("/v1/runtimes/Default/r1/model-config"),
        await client.patch(f"/v1/provider-templates/{provider_id}", json={"name": "renamed"}),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert API_KEY not in response.text and API_KEY[3:-4] not in response.text
    shown = responses[0].json()
    assert shown["config"]["apiKey"] == "sk-****WXYZ" and shown["hasApiKey"] is True

    new_key = "sk-rotated-9876543210fedcbaQRST"
    rotated = await client.patch(
        f"/v1/provider-templates/{provider_id}", json={"config": {"apiKey": new_key}}
    )
    assert new_key not in rotated.text and API_KEY not in rotated.text
    assert rotated.json()["config"]["apiKey"] == "sk-****QRST"
    short = await client.patch(
        f"/v1/provider-templates/{provider_id}", json={"config": {"apiKey": "short-key"}}
    )
    assert short.json()["config"]["apiKey"] == "****" and "short-key" not in short.text


async def test_a_provider_patch_changes_only_what_is_given(client: httpx.AsyncClient) -> None:
    group_id = (await make_group(client))["modelTemplateId"]
    created = await make_provider(client, group_id, description="d")
    url = f"/v1/provider-templates/{created['providerTemplateId']}"

    base = await client.patch(url, json={"config": {"baseUrl": "https://eu.acme.test/v2"}})
    assert base.status_code == 200, base.text
    assert base.json()["config"] == {**created["config"], "baseUrl": "https://eu.acme.test/v2"}
    assert base.json()["name"] == "Acme" and base.json()["description"] == "d"

    api_type = await client.patch(url, json={"config": {"apiType": "anthropic"}})
    assert api_type.json()["config"]["api"] == "anthropic"
    assert api_type.json()["config"]["baseUrl"] == "https://eu.acme.test/v2"
    assert api_type.json()["hasApiKey"] is True

    no_key = await client.patch(url, json={"config": {"apiKey": None}})
    assert no_key.json()["hasApiKey"] is False and "apiKey" not in no_key.json()["config"]
    assert no_key.json()["config"] == {"baseUrl": "https://eu.acme.test/v2", "api": "anthropic"}
    no_base = await client.patch(url, json={"config": {"baseUrl": ""}, "description": "e"})
    assert no_base.json()["config"] == {"api": "anthropic"}
    assert no_base.json()["description"] == "e"

    unchanged = await client.patch(url, json={})
    assert unchanged.status_code == 200
    assert (await client.get(url)).json()["config"] == {"api": "anthropic"}


async def test_an_llm_template_patch_changes_it_in_place_keeping_its_id_and_the_default(
    client: httpx.AsyncClient,
) -> None:
    item = {
        "llmCode": "qwen-max",
        "name": "Qwen Max",
        "description": "the big one",
        "config": {"temperature": 0.7},
        "isDefaultModel": True,
    }
    group_id, provider_id = await setup(client, item, "qwen-turbo")
    before = {
        t["llmCode"]: t for t in (await client.get("/v1/llm-templates")).json()["llmTemplates"]
    }
    url = f"/v1/llm-templates/{before['qwen-max']['llmTemplateId']}"

    renamed = await client.patch(url, json={"name": "Qwen Max (2025)"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {**before["qwen-max"], "name": "Qwen Max (2025)"}
    config = {"temperature": 0.2, "cost": {"input": 1.6, "output": 6.4}}
    reconfigured = await client.patch(url, json={"config": config, "description": None})
    assert reconfigured.json()["config"] == config  # the whole object replaced
    assert reconfigured.json()["description"] == "the big one"  # null: unchanged
    same_code = await client.patch(url, json={"llmCode": "qwen-max", "description": ""})
    assert same_code.status_code == 200 and same_code.json()["description"] == ""
    cleared = await client.patch(url, json={"config": {}})
    assert cleared.json()["config"] == {}
    assert (await client.patch(url, json={})).status_code == 200

    assert (await client.get(url)).json() == {
        **before["qwen-max"],
        "name": "Qwen Max (2025)",
        "description": "",
        "config": {},
    }
    assert await default_of(client, group_id) == (["qwen-max"], "provider-acme/qwen-max")
    turbo = before["qwen-turbo"]
    assert (await client.get(f"/v1/llm-templates/{turbo['llmTemplateId']}")).json() == turbo
    events = await client.get(
        "/v1/audit-events",
        params={"resourceType": "llm_template", "resourceId": before["qwen-max"]["llmTemplateId"]},
    )
    updates = [e for e in events.json()["auditEvents"] if e["action"] == "update"]
    given = sorted(tuple(e["details"]["fields"]) for e in updates)
    assert given == sorted([("name",), ("config",), ("llmCode", "description"), ("config",), ()])
    assert all(e["details"]["providerTemplateId"] == provider_id for e in updates)


async def test_an_llm_template_patch_of_an_unseen_or_read_only_caller_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await setup(client, "a")
    template = (await client.get("/v1/llm-templates")).json()["llmTemplates"][0]
    url = f"/v1/llm-templates/{template['llmTemplateId']}"
    missing = await client.patch("/v1/llm-templates/llmt-nothing", json={"name": "x"})
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"

    _, token = await new_member(client, "member-patch")
    gateway_key = await client.post(
        "/v1/principals/me/api-keys", json={"gatewayOnly": True}
    )  # the admin's own key, limited to the gateway: it reads nothing and changes nothing
    assert gateway_key.status_code == 201, gateway_key.text
    transport = httpx.ASGITransport(app=app)
    for bearer, status in ((token, 404), (gateway_key.json()["token"], 403)):
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://modelplane.test",
            headers={"Authorization": f"Bearer {bearer}"},
        ) as other:
            refused = await other.patch(url, json={"name": "mine", "config": {"x": 1}})
            assert refused.status_code == status, refused.text
            assert template["modelTemplateId"] not in refused.text
    assert (await client.get(url)).json() == template


# --- deletes --------------------------------------------------------------------------------


async def test_deleting_the_default_template_clears_the_pointer(
    client: httpx.AsyncClient,
) -> None:
    group_id, _ = await setup(client, {"llmCode": "a", "isDefaultModel": True}, "b")
    ids = {
        t["llmCode"]: t["llmTemplateId"]
        for t in (await client.get("/v1/llm-templates")).json()["llmTemplates"]
    }
    await client.delete(f"/v1/llm-templates/{ids['b']}")
    assert await default_of(client, group_id) == (["a"], "provider-acme/a")
    await client.delete(f"/v1/llm-templates/{ids['a']}")
    assert await default_of(client, group_id) == ([], None)
    group = (await client.get(f"/v1/model-groups/{group_id}")).json()
    assert group["config"] == {}


async def test_deleting_the_provider_of_the_default_clears_the_pointer(
    client: httpx.AsyncClient,
) -> None:
    group_id, provider_id = await setup(client, {"llmCode": "a", "isDefaultModel": True})
    other = await make_provider(client, group_id, "provider-other")
    await batch(client, other["providerTemplateId"], "z")
    await client.delete(f"/v1/provider-templates/{other['providerTemplateId']}")
    assert await default_of(client, group_id) == (["a"], "provider-acme/a")
    assert await templates(client, group_id) == {"a": True}
    await client.delete(f"/v1/provider-templates/{provider_id}")
    assert await default_of(client, group_id) == ([], None)
    assert await templates(client, group_id) == {}


async def test_deleting_a_group_removes_its_providers_templates_and_bindings(
    client: httpx.AsyncClient,
) -> None:
    group_id, provider_id = await setup(client, {"llmCode": "a", "isDefaultModel": True})
    template_id = (await client.get("/v1/llm-templates")).json()["llmTemplates"][0]["llmTemplateId"]
    bound = await client.post(f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": ["r1"]})
    assert bound.json()["results"][0]["success"] is True
    kept_id, _ = await setup(client, "k")

    assert (await client.delete(f"/v1/model-groups/{group_id}")).status_code == 200
    assert (await client.get(f"/v1/provider-templates/{provider_id}")).status_code == 404
    assert (await client.get(f"/v1/llm-templates/{template_id}")).status_code == 404
    assert (await client.get("/v1/runtimes/Default/r1/model-config")).status_code == 404
    providers = (await client.get("/v1/provider-templates")).json()["providerTemplates"]
    assert [p["modelTemplateId"] for p in providers] == [kept_id]
    assert await templates(client, kept_id) == {"k": False}
    # The runtime is free again: it binds to another group.
    rebound = await client.post(f"/v1/model-groups/{kept_id}/runtimes", json={"runtimeIds": ["r1"]})
    assert rebound.json()["results"][0]["success"] is True


# --- runtimes -------------------------------------------------------------------------------


async def test_runtime_bindings_and_the_model_config(client: httpx.AsyncClient) -> None:
    group_id, provider_id = await setup(client, "a", {"llmCode": "b", "isDefaultModel": True})
    response = await client.post(
        f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": ["r1", "r2", "r1"]}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "results": [
            {
                "runtimeId": runtime_id,
                "success": True,
                "code": "OK",
                "message": "bound",
                "httpStatusCode": 200,
            }
            for runtime_id in ("r1", "r2")
        ],
        "totalCount": 2,
    }
    config = await client.get("/v1/runtimes/Default/r2/model-config")
    assert config.status_code == 200, config.text
    data = config.json()
    assert data["modelTemplateId"] == group_id and data["modelTemplateName"] == "team"
    assert data["defaultModel"] == "provider-acme/b"
    [provider] = data["providers"]
    assert provider["providerTemplateId"] == provider_id
    assert provider["providerName"] == "provider-acme" and provider["name"] == "Acme"
    assert sorted((m["llmCode"], m["isDefaultModel"]) for m in provider["models"]) == [
        ("a", False),
        ("b", True),
    ]
    assert set(provider["models"][0]) == {
        "llmTemplateId",
        "llmCode",
        "name",
        "description",
        "isDefaultModel",
    }


async def test_rebinding_moves_a_runtime_and_unbinding_reports_each(
    client: httpx.AsyncClient,
) -> None:
    first, _ = await setup(client, "a")
    second = (await make_group(client, name="second"))["modelTemplateId"]
    await client.post(f"/v1/model-groups/{first}/runtimes", json={"runtimeIds": ["r1"]})
    moved = await client.post(f"/v1/model-groups/{second}/runtimes", json={"runtimeIds": ["r1"]})
    assert moved.json()["results"][0]["success"] is True
    config = (await client.get("/v1/runtimes/Default/r1/model-config")).json()
    assert config["modelTemplateId"] == second
    assert config["providers"] == [] and config["defaultModel"] is None

    removed = await client.post(
        f"/v1/model-groups/{first}/runtimes:remove", json={"runtimeIds": ["r1", "r9"]}
    )
    assert removed.status_code == 200, removed.text
    results = removed.json()["results"]
    assert [(r["runtimeId"], r["success"], r["code"], r["httpStatusCode"]) for r in results] == [
        ("r1", False, "NOT_FOUND", 404),
        ("r9", False, "NOT_FOUND", 404),
    ]
    assert removed.json()["totalCount"] == 2
    removed = await client.post(
        f"/v1/model-groups/{second}/runtimes:remove", json={"runtimeIds": ["r1"]}
    )
    assert [(r["success"], r["code"]) for r in removed.json()["results"]] == [(True, "OK")]
    gone = await client.get("/v1/runtimes/Default/r1/model-config")
    assert gone.status_code == 404 and gone.json()["code"] == "NOT_FOUND"


async def test_runtime_types_and_ids_with_slashes(client: httpx.AsyncClient) -> None:
    group_id, _ = await setup(client, "a")
    body = {"runtimeType": "CloudDesktop", "runtimeIds": ["eu/desk-1"]}
    bound = await client.post(f"/v1/model-groups/{group_id}/runtimes", json=body)
    assert bound.json()["results"][0]["success"] is True, bound.text
    found = await client.get("/v1/runtimes/CloudDesktop/eu/desk-1/model-config")
    assert found.status_code == 200 and found.json()["modelTemplateId"] == group_id
    encoded = await client.get("/v1/runtimes/CloudDesktop/eu%2Fdesk-1/model-config")
    assert encoded.status_code == 200
    assert (await client.get("/v1/runtimes/Default/eu/desk-1/model-config")).status_code == 404


async def test_unknown_runtime_or_group_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/runtimes/Default/nobody/model-config")).status_code == 404
    response = await client.post("/v1/model-groups/mt-nope/runtimes", json={"runtimeIds": ["r"]})
    assert response.status_code == 404
    response = await client.post(
        "/v1/model-groups/mt-nope/runtimes:remove", json={"runtimeIds": ["r"]}
    )
    assert response.status_code == 404


# --- lists and paging -----------------------------------------------------------------------


async def test_paging_of_model_groups(client: httpx.AsyncClient) -> None:
    created = [(await make_group(client, name=f"g{n}"))["modelTemplateId"] for n in range(5)]
    pages = [
        (await client.get("/v1/model-groups", params={"pageNumber": n, "pageSize": 2})).json()
        for n in (0, 1, 2, 3, 4)
    ]
    assert pages[0] == pages[1]
    assert [p["totalCount"] for p in pages] == [5] * 5
    assert [p["pageNumber"] for p in pages] == [1, 1, 2, 3, 4]
    assert {p["pageSize"] for p in pages} == {2}
    seen = [g["modelTemplateId"] for p in pages[1:] for g in p["modelGroups"]]
    assert sorted(seen) == sorted(created)  # each group once, on one page
    assert pages[4]["modelGroups"] == []
    default = (await client.get("/v1/model-groups")).json()
    assert default["pageNumber"] == 1 and default["pageSize"] == 20


async def test_paging_of_provider_and_llm_templates(client: httpx.AsyncClient) -> None:
    group_id, provider_id = await setup(client, *(f"m{n}" for n in range(7)))
    await make_provider(client, group_id, "provider-two")
    names = []
    for number in (1, 2):
        page = await client.get(
            "/v1/provider-templates", params={"pageSize": 1, "pageNumber": number}
        )
        assert page.json()["totalCount"] == 2
        names += [p["providerName"] for p in page.json()["providerTemplates"]]
    assert sorted(names) == ["provider-acme", "provider-two"]
    codes = []
    for number in (1, 2, 3):
        response = await client.get(
            "/v1/llm-templates",
            params={"providerTemplateId": provider_id, "pageNumber": number, "pageSize": 3},
        )
        assert response.json()["totalCount"] == 7
        codes += [t["llmCode"] for t in response.json()["llmTemplates"]]
    assert sorted(codes) == [f"m{n}" for n in range(7)]


@pytest.mark.parametrize(
    "path", ["/v1/model-groups", "/v1/provider-templates", "/v1/llm-templates"]
)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 501}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"pageNumber": -1}, "pageNumber"),
        ({"pageNumber": 2**40}, "pageNumber"),
        ({"pageNumber": "1.5"}, "pageNumber"),
    ],
)
async def test_bad_paging_is_400_naming_the_field(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], field: str
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert fields(response) == [field]


async def test_model_group_filters(client: httpx.AsyncClient) -> None:
    with_model, _ = await setup(client, "a")
    sale = (await make_group(client, name="50%_Off Sale", refScope="USER_MIXED"))["modelTemplateId"]
    plain = (await make_group(client, name="plain"))["modelTemplateId"]

    async def ids(**params: Any) -> set[str]:
        response = await client.get("/v1/model-groups", params=params)
        assert response.status_code == 200, response.text
        assert response.json()["totalCount"] == len(response.json()["modelGroups"])
        return {g["modelTemplateId"] for g in response.json()["modelGroups"]}

    assert await ids(hasModel="true") == {with_model}
    assert await ids(hasModel="false") == {sale, plain}
    assert await ids(name="OFF s") == {sale}
    assert await ids(name="%") == {sale}
    assert await ids(refScope="USER_MIXED") == {sale}
    assert await ids(ids=f"{plain}, {with_model}") == {with_model, plain}
    assert await ids(ids=[plain, sale]) == {sale, plain}
    assert await ids(ids=[plain, sale], hasModel="true") == set()
    response = await client.get("/v1/model-groups", params={"hasModel": "maybe"})
    assert response.status_code == 400 and fields(response) == ["hasModel"]


async def test_provider_endpoints_catalog(client: httpx.AsyncClient) -> None:
    everything = await client.get("/v1/provider-endpoints")
    assert everything.status_code == 200
    names = [p["providerName"] for p in everything.json()["providers"]]
    assert {"openai", "bailian", "anthropic"} <= set(names)
    one = (await client.get("/v1/provider-endpoints", params={"providerName": "OpenAI"})).json()
    [openai] = one["providers"]
    assert openai["providerName"] == "openai" and openai["providerUrl"].startswith("https://")
    endpoint = openai["endpoints"][0]
    assert set(endpoint) == {"name", "description", "apiType", "baseUrl", "tags"}
    assert endpoint["baseUrl"].startswith("https://") and isinstance(endpoint["tags"], list)
    unknown = await client.get("/v1/provider-endpoints", params={"providerName": "nobody"})
    assert unknown.json() == {"providers": []}


# --- who sees what --------------------------------------------------------------------------


async def test_members_see_and_change_only_their_own_groups(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin_group, admin_provider = await setup(client, {"llmCode": "a", "isDefaultModel": True})
    admin_template = (await client.get("/v1/llm-templates")).json()["llmTemplates"][0]
    await client.post(f"/v1/model-groups/{admin_group}/runtimes", json={"runtimeIds": ["r-admin"]})
    member_id, token = await new_member(client, "member-1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as member:
        own_group, own_provider = await setup(member, "m")
        assert (await member.get(f"/v1/model-groups/{own_group}")).json()["ownerId"] == member_id

        listed = (await member.get("/v1/model-groups")).json()
        assert [g["modelTemplateId"] for g in listed["modelGroups"]] == [own_group]
        assert listed["totalCount"] == 1
        providers = (await member.get("/v1/provider-templates")).json()["providerTemplates"]
        assert [p["providerTemplateId"] for p in providers] == [own_provider]
        codes = [
            t["llmCode"] for t in (await member.get("/v1/llm-templates")).json()["llmTemplates"]
        ]
        assert codes == ["m"]
        filtered = await member.get("/v1/llm-templates", params={"modelTemplateId": admin_group})
        assert filtered.json()["totalCount"] == 0

        hidden = [
            await member.get(f"/v1/model-groups/{admin_group}"),
            await member.patch(f"/v1/model-groups/{admin_group}", json={"name": "mine"}),
            await member.delete(f"/v1/model-groups/{admin_group}"),
            await member.get(f"/v1/provider-templates/{admin_provider}"),
            await member.patch(f"/v1/provider-templates/{admin_provider}", json={"name": "x"}),
            await member.delete(f"/v1/provider-templates/{admin_provider}"),
            await member.get(f"/v1/llm-templates/{admin_template['llmTemplateId']}"),
            await member.delete(f"/v1/llm-templates/{admin_template['llmTemplateId']}"),
            await batch(member, admin_provider, "sneaky"),
            await batch(member, admin_provider, "sneaky", modelTemplateId=own_group),
            await member.post(
                "/v1/provider-templates",
                json={
                    "modelTemplateId": admin_group,
                    "name": "x",
                    "providerName": "provider-x",
                    "providerType": "Custom",
                },
            ),
            await member.post(
                f"/v1/model-groups/{admin_group}/runtimes", json={"runtimeIds": ["r-m"]}
            ),
            await member.get("/v1/runtimes/Default/r-admin/model-config"),
        ]
        for response in hidden:
            assert response.status_code == 404, response.text
            asked = str(response.request.url) + response.request.content.decode()
            if admin_group not in asked:  # a 404 does not tell which group holds a thing
                assert admin_group not in response.text, response.text

        # A runtime bound to the admin's group stays there.
        stolen = await member.post(
            f"/v1/model-groups/{own_group}/runtimes", json={"runtimeIds": ["r-admin", "r-own"]}
        )
        results = stolen.json()["results"]
        assert [(r["runtimeId"], r["code"], r["httpStatusCode"]) for r in results] == [
            ("r-admin", "PERMISSION_DENIED", 403),
            ("r-own", "OK", 200),
        ]
    config = (await client.get("/v1/runtimes/Default/r-admin/model-config")).json()
    assert config["modelTemplateId"] == admin_group
    assert await templates(client, admin_group) == {"a": True}

    # The admin sees and changes every group.
    everything = (await client.get("/v1/model-groups")).json()
    assert {g["modelTemplateId"] for g in everything["modelGroups"]} == {admin_group, own_group}
    renamed = await client.patch(f"/v1/model-groups/{own_group}", json={"name": "by admin"})
    assert renamed.status_code == 200 and renamed.json()["ownerId"] == member_id
    assert (await client.delete(f"/v1/model-groups/{own_group}")).status_code == 200


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"name": 12}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "g", "description": "d" * 1025}, "description"),
        ({"name": "g", "refScope": "EVERYONE"}, "refScope"),
        ({"name": "g", "bizType": "two"}, "bizType"),
        ({"name": "g", "bizType": 2**31}, "bizType"),
        ({"name": "g", "agentPlatform": "p" * 65}, "agentPlatform"),
        ({"name": "g", "agentProvider": "\x00"}, "agentProvider"),
        ({"name": "g", "config": {}}, "config"),
        ({"name": "g", "modelTemplateId": "mine"}, "modelTemplateId"),
        ({"name": "g", "ownerId": "alice"}, "ownerId"),
    ],
)
async def test_bad_model_group_is_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/model-groups", json=body)
    assert response.status_code == 400, response.text
    assert field in fields(response)
    assert (await client.get("/v1/model-groups")).json()["totalCount"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None, "refScope": "x"}, "refScope"),
        ({"description": "d" * 1025}, "description"),
        ({"config": [1]}, "config"),
        ({"config": "not json"}, "config"),
        ({"config": {"big": 2**64}}, "config"),
        ({"config": {"x": float("inf")}}, "config"),
        ({"config": {"x": float("nan")}}, "config"),
        ({"config": nested(300)}, "config"),
        ({"config": json.dumps({"t": "\x00"})}, "config"),  # JSON text: checked as the body
        ({"config": json.dumps({"t": "\ud800"})}, "config"),
        ({"defaultModel": 5}, "defaultModel"),
        ({"ownerId": "someone"}, "ownerId"),
    ],
)
async def test_bad_model_group_patch_is_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    group = await make_group(client)
    response = await client.patch(
        f"/v1/model-groups/{group['modelTemplateId']}",
        content=json.dumps(body),  # the standard encoder writes NaN and Infinity
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert field in fields(response)
    unchanged = (await client.get(f"/v1/model-groups/{group['modelTemplateId']}")).json()
    assert unchanged == {**group, "modelCount": 0}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"modelTemplateId": None}, "modelTemplateId"),
        ({"name": ""}, "name"),
        ({"providerType": "Hosted"}, "providerType"),
        ({"providerName": 7}, "providerName"),
        ({"config": {"baseUrl": "ftp://acme.test"}}, "config.baseUrl"),
        ({"config": {"baseUrl": "https://acme.test/\x00"}}, "config.baseUrl"),
        ({"config": {"apiKey": 5}}, "config.apiKey"),
        ({"config": {"api": "a" * 65}}, "config.api"),
        ({"config": {"secret": "x"}}, "config.secret"),
        ({"config": "text"}, "config"),
        ({"enableWuyingProxy": "perhaps"}, "enableWuyingProxy"),
        ({"description": "d\x00"}, "description"),
    ],
)
async def test_bad_provider_template_is_400_naming_the_field(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    group_id = (await make_group(client))["modelTemplateId"]
    body = {
        "modelTemplateId": group_id,
        "name": "p",
        "providerName": "provider-p",
        "providerType": "Custom",
        **overrides,
    }
    body = {k: v for k, v in body.items() if v is not None}
    response = await client.post("/v1/provider-templates", json=body)
    assert response.status_code == 400, response.text
    assert field in fields(response)
    assert (await client.get("/v1/provider-templates")).json()["totalCount"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"config": {"baseUrl": "acme.test"}}, "config.baseUrl"),
        ({"config": {"apiKey": ["k"]}}, "config.apiKey"),
        ({"config": {"BaseUrl": "https://x.test"}}, "config.BaseUrl"),
        ({"providerName": "provider-new"}, "providerName"),
        ({"enableWuyingProxy": "sometimes"}, "enableWuyingProxy"),
    ],
)
async def test_bad_provider_patch_is_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    group_id = (await make_group(client))["modelTemplateId"]
    provider = await make_provider(client, group_id)
    url = f"/v1/provider-templates/{provider['providerTemplateId']}"
    response = await client.patch(url, json=body)
    assert response.status_code == 400, response.text
    assert field in fields(response)
    assert (await client.get(url)).json() == provider


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"llmCode": "qwen-other"}, "llmCode"),
        ({"llmCode": 5}, "llmCode"),
        ({"name": "n" * 129}, "name"),
        ({"name": 12}, "name"),
        ({"description": "d" * 1025}, "description"),
        ({"description": "d\x00"}, "description"),
        ({"config": [1]}, "config"),
        ({"config": {"n": 2**70}}, "config"),
        ({"config": nested(33)}, "config"),
        ({"config": {"cost": {"input": -1, "output": 1}}}, "config.cost.input"),
        ({"config": {"cost": {"input": 1}}}, "config.cost.output"),
        ({"isDefaultModel": True}, "isDefaultModel"),
        ({"providerTemplateId": "mpt-x"}, "providerTemplateId"),
    ],
)
async def test_bad_llm_template_patch_is_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    await setup(client, {"llmCode": "qwen-max", "name": "Qwen", "config": {"t": 1}})
    template = (await client.get("/v1/llm-templates")).json()["llmTemplates"][0]
    url = f"/v1/llm-templates/{template['llmTemplateId']}"
    response = await client.patch(url, json={"name": "would be renamed", **body})
    assert response.status_code == 400, response.text
    assert field in fields(response)
    assert (await client.get(url)).json() == template


async def test_every_bad_field_of_an_llm_template_patch_is_named_at_once(
    client: httpx.AsyncClient,
) -> None:
    await setup(client, "qwen-max")
    template = (await client.get("/v1/llm-templates")).json()["llmTemplates"][0]
    response = await client.patch(
        f"/v1/llm-templates/{template['llmTemplateId']}",
        json={"llmCode": "renamed", "name": "n" * 129, "config": {"cost": "free"}},
    )
    assert response.status_code == 400
    assert set(fields(response)) == {"llmCode", "name", "config.cost"}
    details = {d["field"]: d["rule"] for d in response.json()["details"]}
    assert details["llmCode"].startswith("cannot be changed")


@pytest.mark.parametrize(
    ("items", "extra", "field"),
    [
        ([], {}, "items"),
        ([{"name": "no code"}], {}, "items.0.llmCode"),
        ([{"llmCode": ""}], {}, "items.0.llmCode"),
        (["ok", {"llmCode": 5}], {}, "items.1.llmCode"),
        ([{"llmCode": "a", "isDefaultModel": "often"}], {}, "items.0.isDefaultModel"),
        ([{"llmCode": "a", "config": [1]}], {}, "items.0.config"),
        ([{"llmCode": "a", "config": {"n": 2**70}}], {}, "items.0.config"),
        ([{"llmCode": "a", "config": nested(33)}], {}, "items.0.config"),
        ([{"llmCode": "a", "name": "n" * 129}], {}, "items.0.name"),
        ([{"llmCode": "a", "description": "\x00"}], {}, "items.0.description"),
        ([{"llmCode": "a", "extra": 1}], {}, "items.0.extra"),
        (["a"], {"modelTemplateId": "mt-elsewhere"}, "modelTemplateId"),
        (["a"], {"unknown": True}, "unknown"),
    ],
)
async def test_bad_batch_is_400_naming_the_field(
    client: httpx.AsyncClient, items: list[Any], extra: dict[str, Any], field: str
) -> None:
    group_id, provider_id = await setup(client)
    response = await batch(client, provider_id, *items, **extra)
    assert response.status_code == 400, response.text
    assert field in fields(response)
    assert await templates(client, group_id) == {}


async def test_batch_without_a_provider_is_400_or_404(client: httpx.AsyncClient) -> None:
    missing = await client.post("/v1/llm-templates:batchCreate", json={"items": [{"llmCode": "a"}]})
    assert missing.status_code == 400 and fields(missing) == ["providerTemplateId"]
    unknown = await batch(client, "mpt-nope", "a")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "runtimeIds"),
        ({"runtimeIds": []}, "runtimeIds"),
        ({"runtimeIds": "r1"}, "runtimeIds"),
        ({"runtimeIds": ["ok", "bad id!"]}, "runtimeIds.1"),
        ({"runtimeIds": [f"r{n}" for n in range(101)]}, "runtimeIds"),
        ({"runtimeIds": ["r1"], "runtimeType": "9lives"}, "runtimeType"),
        ({"runtimeIds": ["r1"], "groupId": "x"}, "groupId"),
    ],
)
@pytest.mark.parametrize("suffix", ["runtimes", "runtimes:remove"])
async def test_bad_runtime_binding_is_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, suffix: str
) -> None:
    group_id = (await make_group(client))["modelTemplateId"]
    response = await client.post(f"/v1/model-groups/{group_id}/{suffix}", json=body)
    assert response.status_code == 400, response.text
    assert field in fields(response)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/runtimes/9lives/r1/model-config", "runtimeType"),
        ("/v1/runtimes/Default/bad%20id/model-config", "runtimeId"),
    ],
)
async def test_bad_runtime_lookup_is_400_naming_the_field(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 400, response.text
    assert fields(response) == [field]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/model-groups/mt-\x00",
        "/v1/provider-templates/mpt-\x00",
        "/v1/llm-templates/llmt-\x00",
        "/v1/model-groups?name=%00",
        "/v1/model-groups?ids=%00",
        "/v1/provider-templates?providerName=%00",
        "/v1/llm-templates?llmCode=%00",
    ],
)
async def test_nul_characters_in_lookups_are_never_a_server_error(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path.replace("\x00", "%00"))
    assert response.status_code in (200, 400, 404), response.text
    assert response.headers["content-type"] == "application/json"


async def test_the_openapi_document_lists_every_catalog_route(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    expected = {
        "/v1/model-groups": {"get", "post"},
        "/v1/model-groups/{model_template_id}": {"get", "patch", "delete"},
        "/v1/provider-templates": {"get", "post"},
        "/v1/provider-templates/{provider_template_id}": {"get", "patch", "delete"},
        "/v1/llm-templates:batchCreate": {"post"},
        "/v1/llm-templates": {"get"},
        "/v1/llm-templates/{llm_template_id}": {"get", "patch", "delete"},
        "/v1/model-groups/{model_template_id}/runtimes": {"get", "post"},
        "/v1/model-groups/{model_template_id}/runtimes:remove": {"post"},
        "/v1/runtimes/{runtime_type}/{runtime_id}/model-config": {"get"},
        "/v1/provider-endpoints": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    created = paths["/v1/model-groups"]["post"]["responses"]
    assert "201" in created and "400" in created
