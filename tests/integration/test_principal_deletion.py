"""Deleting a principal that owns resources: refused, or everything handed to `transferTo`.

On SQLite and PostgreSQL, through the native face. Nothing may be left pointing at a
principal that no longer exists, and a refused deletion changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import new_member

CONFIGS = "/v1/configs/cn-hangzhou/service"


def llm_body(model: str = "gpt-4o", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": f"LLM {model}",
        "providerType": "OPENAI",
        "endpointUrl": "https://api.openai.com/v1",
        "modelIdentifier": model,
        "credentials": {
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": "sk-deletion-test-secret"},
        },
    }
    body.update(overrides)
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Owned:
    """What one principal made with its own key: one or more of every kind with an owner."""

    llms: list[str]
    group: str
    provider: str
    workspace: str
    template: str
    namespace: str


async def make_owned(client: httpx.AsyncClient, token: str, tag: str) -> Owned:
    """Two LLMs, a model group with a provider template, a workspace with a template, a
    config namespace: all created with `token`, so owned by its principal."""
    me = bearer(token)

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(path, json=body, headers=me)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    llms = [(await post("/v1/llms", llm_body(m)))["llm"]["llmId"] for m in ("gpt-4o", "o3")]
    group = (await post("/v1/model-groups", {"name": f"{tag} group"}))["modelTemplateId"]
    provider = await post(
        "/v1/provider-templates",
        {
            "modelTemplateId": group,
            "name": "Acme",
            "providerName": "provider-acme",
            "providerType": "Custom",
            "config": {"baseUrl": "https://api.acme.test/v1", "api": "openai"},
        },
    )
    workspace = f"ws-{tag}"
    await post("/v1/workspaces", {"workspaceId": workspace, "name": tag})
    template = await post(
        f"/v1/workspaces/{workspace}/prompt-templates", {"name": "t", "content": "Hi ${x}"}
    )
    put = await client.put(f"{CONFIGS}/{tag}-svc/rate", json={"value": "10"}, headers=me)
    assert put.status_code == 201, put.text
    return Owned(
        llms=llms,
        group=group,
        provider=provider["providerTemplateId"],
        workspace=workspace,
        template=template["promptTemplateId"],
        namespace=f"{tag}-svc",
    )


async def test_deleting_a_principal_that_owns_resources_is_refused_with_counts(
    client: httpx.AsyncClient,
) -> None:
    alice, token = await new_member(client, "alice")
    owned = await make_owned(client, token, "alice")

    response = await client.delete(f"/v1/principals/{alice}")

    assert response.status_code == 412, response.text
    assert response.json()["code"] == "FAILED_PRECONDITION"
    assert response.json()["message"] == (
        f"principal {alice} still owns 2 llms, 1 model group, 1 workspace, "
        "1 config namespace; pass transferTo to hand them to another principal"
    )
    # Nothing was deleted: the principal, its key and what it owns are all still there.
    assert (await client.get(f"/v1/principals/{alice}")).status_code == 200
    as_alice = bearer(token)
    listed = (await client.get("/v1/llms", headers=as_alice)).json()["llms"]
    assert sorted(llm["llmId"] for llm in listed) == sorted(owned.llms)
    group = await client.get(f"/v1/model-groups/{owned.group}", headers=as_alice)
    assert group.status_code == 200 and group.json()["ownerId"] == alice
    assert (await client.get(f"/v1/workspaces/{owned.workspace}", headers=as_alice)).json()[
        "ownerId"
    ] == alice


async def test_the_refusal_names_only_the_kinds_owned_in_the_singular_or_plural(
    client: httpx.AsyncClient,
) -> None:
    carol, token = await new_member(client, "carol")
    for name in ("a", "b", "c"):
        created = await client.post("/v1/model-groups", json={"name": name}, headers=bearer(token))
        assert created.status_code == 201, created.text

    response = await client.delete(f"/v1/principals/{carol}")

    assert response.status_code == 412
    assert response.json()["message"] == (
        f"principal {carol} still owns 3 model groups; "
        "delete them or pass transferTo to hand them to another principal"
    )


async def test_a_principal_that_owns_nothing_is_deleted_with_its_memberships(
    client: httpx.AsyncClient,
) -> None:
    dave, _ = await new_member(client, "dave")
    assert (
        await client.post("/v1/workspaces", json={"workspaceId": "ws-x", "name": "x"})
    ).is_success
    assert (await client.put(f"/v1/workspaces/ws-x/members/{dave}")).status_code == 200

    assert (await client.delete(f"/v1/principals/{dave}")).status_code == 200

    assert (await client.get("/v1/workspaces/ws-x/members")).json()["members"] == []


async def test_transfer_moves_every_owned_kind_to_the_new_owner(
    client: httpx.AsyncClient,
) -> None:
    alice, alice_token = await new_member(client, "alice")
    bob, bob_token = await new_member(client, "bob")
    owned = await make_owned(client, alice_token, "alice")
    made = await client.post(
        "/v1/workspaces", json={"workspaceId": "ws-bob", "name": "b"}, headers=bearer(bob_token)
    )
    assert made.status_code == 201
    assert (await client.put(f"/v1/workspaces/ws-bob/members/{alice}")).status_code == 200

    response = await client.delete(f"/v1/principals/{alice}", params={"transferTo": bob})

    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": True, "id": alice}
    # The old key is gone with its principal.
    assert (await client.get("/v1/llms", headers=bearer(alice_token))).status_code == 401
    assert (await client.get(f"/v1/principals/{alice}")).status_code == 404
    # The new owner sees, and may change, every kind of resource that was alice's.
    as_bob = bearer(bob_token)
    llms = (await client.get("/v1/llms", headers=as_bob)).json()["llms"]
    assert sorted(llm["llmId"] for llm in llms) == sorted(owned.llms)
    assert {llm["ownerId"] for llm in llms} == {bob}
    group = await client.get(f"/v1/model-groups/{owned.group}", headers=as_bob)
    assert group.status_code == 200 and group.json()["ownerId"] == bob
    provider = await client.get(f"/v1/provider-templates/{owned.provider}", headers=as_bob)
    assert provider.status_code == 200, provider.text
    providers = await client.get(
        "/v1/provider-templates", params={"modelTemplateId": owned.group}, headers=as_bob
    )
    assert [p["providerTemplateId"] for p in providers.json()["providerTemplates"]] == [
        owned.provider
    ]
    renamed = await client.patch(
        f"/v1/model-groups/{owned.group}", json={"description": "bob's now"}, headers=as_bob
    )
    assert renamed.status_code == 200, renamed.text
    workspace = await client.get(f"/v1/workspaces/{owned.workspace}", headers=as_bob)
    assert workspace.json()["ownerId"] == bob
    template = await client.get(
        f"/v1/workspaces/{owned.workspace}/prompt-templates/{owned.template}", headers=as_bob
    )
    assert template.status_code == 200, template.text
    namespaces = (await client.get("/v1/configs", headers=as_bob)).json()["namespaces"]
    assert [(n["name"], n["ownerId"]) for n in namespaces] == [(owned.namespace, bob)]
    put = await client.put(
        f"{CONFIGS}/{owned.namespace}/rate", json={"value": "20"}, headers=as_bob
    )
    assert put.status_code == 200, put.text
    # Alice's memberships went with her; nothing anywhere is still alice's.
    members = (await client.get("/v1/workspaces/ws-bob/members")).json()["members"]
    assert members == []
    everything = (await client.get("/v1/llms", params={"ownerId": alice})).json()["llms"]
    assert everything == []


async def test_transfer_to_is_checked_and_accepted_when_nothing_is_owned(
    client: httpx.AsyncClient,
) -> None:
    erin, _ = await new_member(client, "erin")
    frank, _ = await new_member(client, "frank")

    response = await client.delete(f"/v1/principals/{erin}", params={"transferTo": frank})

    assert response.status_code == 200, response.text
    assert (await client.get(f"/v1/principals/{erin}")).status_code == 404


async def test_transfer_to_must_name_another_principal_that_exists(
    client: httpx.AsyncClient,
) -> None:
    alice, token = await new_member(client, "alice")
    await make_owned(client, token, "alice")
    unknown = "00000000-0000-0000-0000-000000000000"

    for target, rule in (
        ("", "must name a principal when given"),
        (alice, "must differ from the principal being deleted"),
        (unknown, f"no principal {unknown!r} exists"),
    ):
        response = await client.delete(f"/v1/principals/{alice}", params={"transferTo": target})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["code"] == "INVALID_ARGUMENT"
        assert body["details"] == [{"field": "transferTo", "rule": rule}]
        assert body["message"] == f"transferTo: {rule}"

    assert (await client.get(f"/v1/principals/{alice}")).status_code == 200
    assert (await client.get("/v1/llms", headers=bearer(token))).status_code == 200
    gone = await client.delete(f"/v1/principals/{unknown}", params={"transferTo": alice})
    assert gone.status_code == 404


async def test_a_transfer_that_would_duplicate_an_llm_of_the_new_owner_is_409_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    alice, alice_token = await new_member(client, "alice")
    bob, bob_token = await new_member(client, "bob")
    owned = await make_owned(client, alice_token, "alice")
    same = await client.post("/v1/llms", json=llm_body("o3"), headers=bearer(bob_token))
    assert same.status_code == 201, same.text
    bobs_llm = same.json()["llm"]["llmId"]
    alices_llm = owned.llms[1]  # the o3 one: the same connection as bob's

    response = await client.delete(f"/v1/principals/{alice}", params={"transferTo": bob})

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "ALREADY_EXISTS"
    assert body["message"] == (
        f"cannot transfer to {bob}: LLM {alices_llm} has the same connection as "
        f"LLM {bobs_llm} of {bob}"
    )
    # Nothing changed: alice, her key, her resources, her ownership.
    as_alice = bearer(alice_token)
    listed = (await client.get("/v1/llms", headers=as_alice)).json()["llms"]
    assert sorted(llm["llmId"] for llm in listed) == sorted(owned.llms)
    assert {llm["ownerId"] for llm in listed} == {alice}
    group = await client.get(f"/v1/model-groups/{owned.group}", headers=as_alice)
    assert group.json()["ownerId"] == alice
    bobs = (await client.get("/v1/llms", headers=bearer(bob_token))).json()["llms"]
    assert [llm["llmId"] for llm in bobs] == [bobs_llm]
    # Once the duplicate is gone, the transfer goes through.
    assert (await client.delete(f"/v1/llms/{alices_llm}", headers=as_alice)).status_code == 200
    done = await client.delete(f"/v1/principals/{alice}", params={"transferTo": bob})
    assert done.status_code == 200, done.text


async def test_the_deletion_records_the_transfer_in_the_audit_log(
    client: httpx.AsyncClient,
) -> None:
    alice, token = await new_member(client, "alice")
    bob, _ = await new_member(client, "bob")
    await make_owned(client, token, "alice")
    assert (
        await client.post("/v1/workspaces", json={"workspaceId": "ws-y", "name": "y"})
    ).is_success
    assert (await client.put(f"/v1/workspaces/ws-y/members/{alice}")).status_code == 200
    query = {"resourceType": "principal", "resourceId": alice}

    refused = await client.delete(f"/v1/principals/{alice}")
    assert refused.status_code == 412
    before = (await client.get("/v1/audit-events", params=query)).json()["auditEvents"]
    assert [e["action"] for e in before] == ["create"]  # a refusal records nothing

    assert (
        await client.delete(f"/v1/principals/{alice}", params={"transferTo": bob})
    ).status_code == 200

    event = (await client.get("/v1/audit-events", params=query)).json()["auditEvents"][0]
    assert event["action"] == "delete"
    assert event["details"] == {
        "transferredTo": bob,
        "counts": {"llms": 2, "modelGroups": 1, "workspaces": 1, "configNamespaces": 1},
        "membershipsRemoved": 1,
    }
    assert "sk-deletion-test-secret" not in str(event)
