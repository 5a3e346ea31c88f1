"""Principals, API keys and access keys through the native face (admin only)."""

from __future__ import annotations

import httpx

from tests.conftest import new_member


async def test_admin_creates_lists_gets_and_deletes_a_principal(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/principals", json={"name": "svc-a", "role": "member"})
    assert created.status_code == 201
    principal_id = created.json()["principalId"]
    listing = (await client.get("/v1/principals")).json()["principals"]
    assert {p["name"] for p in listing} == {"bootstrap-admin", "svc-a"}
    got = await client.get(f"/v1/principals/{principal_id}")
    assert got.json()["role"] == "member"
    assert (await client.delete(f"/v1/principals/{principal_id}")).status_code == 200
    assert (await client.get(f"/v1/principals/{principal_id}")).status_code == 404


async def test_principal_names_are_unique_and_roles_checked(client: httpx.AsyncClient) -> None:
    await client.post("/v1/principals", json={"name": "dup", "role": "member"})
    again = await client.post("/v1/principals", json={"name": "dup", "role": "member"})
    assert again.status_code == 409
    bad = await client.post("/v1/principals", json={"name": "x", "role": "owner"})
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "role"


async def test_members_cannot_manage_principals(client: httpx.AsyncClient) -> None:
    _, token = await new_member(client, "alice")
    as_alice = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/principals", headers=as_alice)).status_code == 403
    response = await client.post(
        "/v1/principals", json={"name": "x", "role": "admin"}, headers=as_alice
    )
    assert response.status_code == 403


async def test_api_key_token_is_shown_once_and_works_until_revoked(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    principal_id, token = await new_member(client, "alice")
    assert token.startswith("mp_")
    keys = (await client.get(f"/v1/principals/{principal_id}/api-keys")).json()["apiKeys"]
    assert len(keys) == 1 and "token" not in keys[0]
    assert token.startswith(keys[0]["keyPrefix"])
    as_alice = {"x-api-key": token}
    assert (await anon.get("/v1/llms", headers=as_alice)).status_code == 200
    revoked = await client.delete(f"/v1/principals/{principal_id}/api-keys/{keys[0]['apiKeyId']}")
    assert revoked.status_code == 200 and revoked.json()["revokedAt"] is not None
    assert (await anon.get("/v1/llms", headers=as_alice)).status_code == 401


async def test_access_key_secret_is_shown_once_and_can_be_revoked(
    client: httpx.AsyncClient,
) -> None:
    principal_id, _ = await new_member(client, "alice")
    issued = await client.post(f"/v1/principals/{principal_id}/access-keys")
    assert issued.status_code == 201
    body = issued.json()
    assert body["accessKeyId"].startswith("MPAK") and len(body["accessKeySecret"]) == 30
    listing = (await client.get(f"/v1/principals/{principal_id}/access-keys")).json()
    assert "accessKeySecret" not in listing["accessKeys"][0]
    revoked = await client.delete(
        f"/v1/principals/{principal_id}/access-keys/{body['accessKeyId']}"
    )
    assert revoked.json()["revokedAt"] is not None


async def test_deleting_a_principal_revokes_its_keys(client: httpx.AsyncClient) -> None:
    principal_id, token = await new_member(client, "alice")
    await client.delete(f"/v1/principals/{principal_id}")
    response = await client.get("/v1/llms", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_the_last_admin_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    me = next(
        p
        for p in (await client.get("/v1/principals")).json()["principals"]
        if p["name"] == "bootstrap-admin"
    )
    response = await client.delete(f"/v1/principals/{me['principalId']}")
    assert response.status_code == 412
    assert response.json()["code"] == "FAILED_PRECONDITION"
    assert (await client.get("/v1/llms")).status_code == 200


async def test_keys_of_an_unknown_principal_are_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/principals/00000000-0000-0000-0000-000000000000/api-keys")
    assert response.status_code == 404


async def test_me_names_the_caller_when_reading_a_principal(client: httpx.AsyncClient) -> None:
    member_id, token = await new_member(client, "bob")
    as_bob = {"Authorization": f"Bearer {token}"}
    mine = await client.get("/v1/principals/me", headers=as_bob)
    assert mine.status_code == 200, mine.text
    assert mine.json()["principalId"] == member_id and mine.json()["name"] == "bob"
    admin = await client.get("/v1/principals/me")
    assert admin.status_code == 200 and admin.json()["role"] == "admin"
    other = await client.post("/v1/principals", json={"name": "carol", "role": "member"})
    denied = await client.get(f"/v1/principals/{other.json()['principalId']}", headers=as_bob)
    assert denied.status_code == 403  # a member reads itself, no one else
