"""/v1/llms end to end through the native face, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import new_member


def llm_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": "GPT-4 Turbo",
        "providerType": "OPENAI",
        "endpointUrl": "https://api.openai.com/v1",
        "modelIdentifier": "gpt-4-turbo-preview",
        "credentials": {
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": "sk-test-secret-value"},
        },
        "labels": {"environment": "production", "team": "ai"},
    }
    body.update(overrides)
    return body


async def test_create_returns_the_llm_with_defaults_and_no_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/llms", json=llm_body(modelIdentifier="my-private-model"))
    assert response.status_code == 201, response.text
    llm = response.json()["llm"]
    assert llm["apiPath"] == "/chat/completions"
    assert llm["supportedModalities"] == ["TEXT"]
    assert llm["labels"] == {"environment": "production", "team": "ai"}
    assert llm["hasCredentials"] is True
    assert "credentials" not in llm
    assert "sk-test-secret-value" not in response.text
    assert isinstance(llm["createdAt"], int) and llm["createdAt"] == llm["updatedAt"]
    uuid.UUID(llm["llmId"])


async def test_seed_example_with_string_numbers_and_booleans_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    body = llm_body(
        capabilities={
            "supportsChat": "true",
            "supportsCompletion": "true",
            "supportsFunctionCalling": "true",
            "supportsSystemMessages": "true",
            "supportsStreaming": "true",
            "supportsSamplingParameters": "true",
        },
        defaultSamplingParams={"maxTokens": "2048", "temperature": "0.7", "topP": "0.9"},
        maxContextLength="32768",
        supportedModalities=["TEXT"],
    )
    response = await client.post("/v1/llms", json=body)
    assert response.status_code == 201, response.text
    llm = response.json()["llm"]
    assert llm["maxContextLength"] == 32768
    assert llm["defaultSamplingParams"] == {"maxTokens": 2048, "temperature": 0.7, "topP": 0.9}
    assert llm["capabilities"]["supportsCompletion"] is True
    assert response.json()["statuses"] == []


async def test_capabilities_are_inferred_for_a_known_model_and_reported(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/llms", json=llm_body(modelIdentifier="gpt-4o"))
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["llm"]["capabilities"]["supportsFunctionCalling"] is True
    assert data["llm"]["maxContextLength"] == 128000
    assert "IMAGE" in data["llm"]["supportedModalities"]
    assert [s["code"] for s in data["statuses"]] == ["LLM_CAPABILITY_INFERRED"]


async def test_unknown_model_gets_the_documented_baseline_and_no_inference_status(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/llms", json=llm_body(modelIdentifier="acme-internal-7b"))
    data = response.json()
    assert data["statuses"] == []
    assert data["llm"]["capabilities"] == {
        "supportsChat": True,
        "supportsCompletion": False,
        "supportsFunctionCalling": False,
        "supportsSystemMessages": True,
        "supportsStreaming": True,
        "supportsSamplingParameters": True,
    }
    assert data["llm"]["maxContextLength"] is None


async def test_known_model_fills_provider_type_and_endpoint_when_missing(
    client: httpx.AsyncClient,
) -> None:
    body = llm_body(modelIdentifier="deepseek-chat")
    del body["providerType"], body["endpointUrl"]
    response = await client.post("/v1/llms", json=body)
    assert response.status_code == 201, response.text
    llm = response.json()["llm"]
    assert llm["endpointUrl"].startswith("https://api.deepseek.com")
    assert "endpointUrl" in response.json()["statuses"][0]["details"]["fields"]


async def test_unknown_model_without_endpoint_is_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    body = llm_body(modelIdentifier="acme-internal-7b")
    del body["endpointUrl"]
    response = await client.post("/v1/llms", json=body)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "endpointUrl"


@pytest.mark.parametrize(
    "variant",
    [
        "HTTPS://API.OPENAI.COM/v1",
        "https://api.openai.com:443/v1/",
        "https://api.openai.com/v1/",
    ],
)
async def test_duplicate_after_url_canonicalization_is_409(
    client: httpx.AsyncClient, variant: str
) -> None:
    first = await client.post("/v1/llms", json=llm_body())
    assert first.status_code == 201
    second = await client.post("/v1/llms", json=llm_body(endpointUrl=variant, displayName="x"))
    assert second.status_code == 409, second.text
    assert second.json()["code"] == "ALREADY_EXISTS"


async def test_path_case_and_other_credentials_make_a_different_connection(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/v1/llms", json=llm_body())).status_code == 201
    other_path = await client.post(
        "/v1/llms", json=llm_body(endpointUrl="https://api.openai.com/V1")
    )
    assert other_path.status_code == 201
    other_key = llm_body(
        credentials={"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": "sk-other"}}
    )
    assert (await client.post("/v1/llms", json=other_key)).status_code == 201
    no_key = llm_body()
    del no_key["credentials"]
    assert (await client.post("/v1/llms", json=no_key)).status_code == 201
    assert (await client.post("/v1/llms", json=no_key)).status_code == 409


async def test_duplicates_are_per_owner(client: httpx.AsyncClient) -> None:
    _, token = await new_member(client, "alice")
    assert (await client.post("/v1/llms", json=llm_body())).status_code == 201
    as_alice = {"Authorization": f"Bearer {token}"}
    response = await client.post("/v1/llms", json=llm_body(), headers=as_alice)
    assert response.status_code == 201


async def test_concurrent_identical_creates_yield_exactly_one(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(client.post("/v1/llms", json=llm_body()) for _ in range(12)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 11, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    listing = await client.get("/v1/llms")
    assert len(listing.json()["llms"]) == 1


async def test_client_supplied_llm_id_is_used_and_reuse_is_409(client: httpx.AsyncClient) -> None:
    llm_id = str(uuid.uuid4())
    first = await client.post("/v1/llms", json=llm_body(llmId=llm_id))
    assert first.json()["llm"]["llmId"] == llm_id
    again = await client.post("/v1/llms", json=llm_body(llmId=llm_id, modelIdentifier="gpt-4o"))
    assert again.status_code == 409
    assert "llmId" in again.json()["message"]


async def test_llm_id_must_be_a_uuid(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/llms", json=llm_body(llmId="not-a-uuid"))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "llmId"


async def test_get_list_update_delete_life_cycle(client: httpx.AsyncClient) -> None:
    created = (await client.post("/v1/llms", json=llm_body())).json()["llm"]
    llm_id = created["llmId"]
    fetched = await client.get(f"/v1/llms/{llm_id}")
    assert fetched.status_code == 200 and fetched.json() == created

    updated = await client.put(
        f"/v1/llms/{llm_id}", json={"displayName": "Renamed", "mergeLabels": {"tier": "gold"}}
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["displayName"] == "Renamed"
    assert body["description"] == created["description"]
    assert body["labels"] == {"environment": "production", "team": "ai", "tier": "gold"}
    assert body["updatedAt"] >= created["updatedAt"]

    replaced = await client.put(f"/v1/llms/{llm_id}", json={"replaceLabels": {"only": "this"}})
    assert replaced.json()["labels"] == {"only": "this"}

    deleted = await client.delete(f"/v1/llms/{llm_id}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert (await client.get(f"/v1/llms/{llm_id}")).status_code == 404
    assert (await client.delete(f"/v1/llms/{llm_id}")).status_code == 404


async def test_update_with_replace_and_merge_labels_is_400_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    llm_id = (await client.post("/v1/llms", json=llm_body())).json()["llm"]["llmId"]
    response = await client.put(
        f"/v1/llms/{llm_id}",
        json={"displayName": "changed", "replaceLabels": {}, "mergeLabels": {"a": "b"}},
    )
    assert response.status_code == 400
    assert (await client.get(f"/v1/llms/{llm_id}")).json()["displayName"] == "GPT-4 Turbo"


async def test_provider_type_is_immutable(client: httpx.AsyncClient) -> None:
    llm_id = (await client.post("/v1/llms", json=llm_body())).json()["llm"]["llmId"]
    response = await client.put(f"/v1/llms/{llm_id}", json={"providerType": "VLLM"})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "providerType"
    same = await client.put(f"/v1/llms/{llm_id}", json={"providerType": "OPENAI"})
    assert same.status_code == 200


async def test_update_into_a_duplicate_is_409(client: httpx.AsyncClient) -> None:
    await client.post("/v1/llms", json=llm_body())
    other = (await client.post("/v1/llms", json=llm_body(modelIdentifier="gpt-4o"))).json()
    response = await client.put(
        f"/v1/llms/{other['llm']['llmId']}", json={"modelIdentifier": "gpt-4-turbo-preview"}
    )
    assert response.status_code == 409


async def test_empty_modalities_on_update_change_nothing(client: httpx.AsyncClient) -> None:
    llm = (
        await client.post("/v1/llms", json=llm_body(supportedModalities=["TEXT", "IMAGE"]))
    ).json()
    llm_id = llm["llm"]["llmId"]
    response = await client.put(f"/v1/llms/{llm_id}", json={"supportedModalities": []})
    assert response.json()["supportedModalities"] == ["TEXT", "IMAGE"]


async def test_list_filters_by_provider_owner_and_labels(client: httpx.AsyncClient) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    await client.post("/v1/llms", json=llm_body(labels={"env": "prod"}))
    await client.post(
        "/v1/llms",
        json=llm_body(
            providerType="VLLM", endpointUrl="http://10.0.0.1:8000/v1", labels={"env": "dev"}
        ),
    )
    await client.post(
        "/v1/llms",
        json=llm_body(labels={"env": "prod", "team": "x"}),
        headers={"Authorization": f"Bearer {alice_token}"},
    )

    async def count(params: dict[str, str]) -> int:
        response = await client.get("/v1/llms", params=params)
        assert response.status_code == 200, response.text
        return len(response.json()["llms"])

    assert await count({}) == 3
    assert await count({"providerType": "VLLM"}) == 1
    assert await count({"provider_type": "OPENAI"}) == 2
    assert await count({"ownerId": alice_id}) == 1
    assert await count({"owner_id": alice_id}) == 1
    assert await count({"label.env": "prod"}) == 2
    assert await count({"label[env]": "prod"}) == 2
    assert await count({"label.env": "prod", "label.team": "x"}) == 1
    assert await count({"label.env": "staging"}) == 0


async def test_unknown_provider_type_filter_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/llms", params={"providerType": "NOPE"})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "providerType"


async def test_members_see_only_their_own_and_get_404_for_others(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    _, alice = await new_member(client, "alice")
    _, bob = await new_member(client, "bob")
    as_alice = {"Authorization": f"Bearer {alice}"}
    as_bob = {"x-api-key": bob}
    llm_id = (await client.post("/v1/llms", json=llm_body(), headers=as_alice)).json()["llm"][
        "llmId"
    ]
    assert (await anon.get(f"/v1/llms/{llm_id}", headers=as_bob)).status_code == 404
    assert (
        await anon.put(f"/v1/llms/{llm_id}", json={"displayName": "x"}, headers=as_bob)
    ).status_code == 404
    assert (await anon.delete(f"/v1/llms/{llm_id}", headers=as_bob)).status_code == 404
    assert (await anon.get("/v1/llms", headers=as_bob)).json()["llms"] == []
    assert (await client.get(f"/v1/llms/{llm_id}", headers=as_alice)).status_code == 200
    assert (await client.get(f"/v1/llms/{llm_id}")).status_code == 200  # admin sees all


async def test_member_setting_another_owner_gets_403_and_admin_may(
    client: httpx.AsyncClient,
) -> None:
    alice_id, alice = await new_member(client, "alice")
    bob_id, _ = await new_member(client, "bob")
    response = await client.post(
        "/v1/llms", json=llm_body(ownerId=bob_id), headers={"Authorization": f"Bearer {alice}"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    own = await client.post(
        "/v1/llms", json=llm_body(ownerId=alice_id), headers={"Authorization": f"Bearer {alice}"}
    )
    assert own.status_code == 201
    by_admin = await client.post("/v1/llms", json=llm_body(ownerId=bob_id))
    assert by_admin.status_code == 201 and by_admin.json()["llm"]["ownerId"] == bob_id


async def test_admin_naming_an_unknown_owner_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/llms", json=llm_body(ownerId=str(uuid.uuid4())))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "ownerId"


async def test_include_credentials_is_refused(client: httpx.AsyncClient) -> None:
    llm_id = (await client.post("/v1/llms", json=llm_body())).json()["llm"]["llmId"]
    response = await client.get(f"/v1/llms/{llm_id}", params={"includeCredentials": "true"})
    assert response.status_code == 403


async def test_credentials_update_changes_the_fingerprint_used_for_duplicates(
    client: httpx.AsyncClient,
) -> None:
    llm_id = (await client.post("/v1/llms", json=llm_body())).json()["llm"]["llmId"]
    new_key = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"secretRef": {"uri": "env://KEY"}}}
    assert (
        await client.put(f"/v1/llms/{llm_id}", json={"credentials": new_key})
    ).status_code == 200
    # The old credentials are free again.
    assert (await client.post("/v1/llms", json=llm_body())).status_code == 201
