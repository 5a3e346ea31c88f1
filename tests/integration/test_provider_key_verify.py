"""`POST /v1/provider-templates/{id}:verifyApiKey`, on SQLite and PostgreSQL: the stored
key is compared, never shown; "" matches a provider without a key; who may ask."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import new_member

API_KEY = "sk-provider-SECRET-4c1e8b"


@asynccontextmanager
async def acting_as(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


async def make_provider(
    client: httpx.AsyncClient, *, api_key: str | None = API_KEY, **body: Any
) -> str:
    """A new group with one Custom provider holding `api_key`; the provider's id."""
    group = await client.post("/v1/model-groups", json={"name": "team"})
    assert group.status_code == 201, group.text
    config: dict[str, Any] = {"baseUrl": "https://api.acme.test/v1", "api": "openai"}
    if api_key is not None:
        config["apiKey"] = api_key
    payload = {
        "modelTemplateId": group.json()["modelTemplateId"],
        "name": "Acme",
        "providerName": "provider-acme",
        "providerType": "Custom",
        "config": config,
        **body,
    }
    created = await client.post("/v1/provider-templates", json=payload)
    assert created.status_code == 201, created.text
    assert API_KEY not in created.text
    provider_id: str = created.json()["providerTemplateId"]
    return provider_id


async def verify(client: httpx.AsyncClient, provider_id: str, body: Any) -> httpx.Response:
    return await client.post(f"/v1/provider-templates/{provider_id}:verifyApiKey", json=body)


async def matches(client: httpx.AsyncClient, provider_id: str, api_key: str) -> bool:
    response = await verify(client, provider_id, {"apiKey": api_key})
    assert response.status_code == 200, response.text
    assert response.json().keys() == {"matches"}
    assert API_KEY not in response.text
    result = response.json()["matches"]
    assert isinstance(result, bool)
    return result


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["code"] == "INVALID_ARGUMENT", data
    return [d["field"] for d in data["details"]]


async def test_only_the_stored_key_matches(client: httpx.AsyncClient) -> None:
    provider_id = await make_provider(client)
    candidates = {
        API_KEY: True,
        "": False,
        API_KEY + " ": False,
        " " + API_KEY: False,
        API_KEY[:-1]: False,
        API_KEY.upper(): False,
        "****": False,
        "sk-completely-different": False,
    }
    assert {k: await matches(client, provider_id, k) for k in candidates} == candidates
    shown = await client.get(f"/v1/provider-templates/{provider_id}")
    assert shown.status_code == 200
    assert API_KEY not in shown.text


async def test_the_empty_key_matches_a_provider_without_one(client: httpx.AsyncClient) -> None:
    keyless = await make_provider(client, api_key=None)
    assert await matches(client, keyless, "") is True
    assert await matches(client, keyless, API_KEY) is False

    group = await client.post("/v1/model-groups", json={"name": "credit"})
    credit = await client.post(
        "/v1/provider-templates",
        json={
            "modelTemplateId": group.json()["modelTemplateId"],
            "name": "Credit",
            "providerName": "wuying-credit",
            "providerType": "WuyingCredit",
        },
    )
    assert credit.status_code == 201, credit.text
    credit_id = credit.json()["providerTemplateId"]
    assert await matches(client, credit_id, "") is True
    assert await matches(client, credit_id, "x") is False


async def test_a_changed_or_cleared_key_is_verified_as_it_now_is(
    client: httpx.AsyncClient,
) -> None:
    provider_id = await make_provider(client)
    path = f"/v1/provider-templates/{provider_id}"
    rotated = "sk-rotated-0123456789"

    changed = await client.patch(path, json={"config": {"apiKey": rotated}})
    assert changed.status_code == 200, changed.text
    assert await matches(client, provider_id, rotated) is True
    assert await matches(client, provider_id, API_KEY) is False

    # A change that does not touch the key keeps it.
    renamed = await client.patch(path, json={"name": "Acme 2", "config": {"baseUrl": "https://b"}})
    assert renamed.status_code == 200, renamed.text
    assert await matches(client, provider_id, rotated) is True

    cleared = await client.patch(path, json={"config": {"apiKey": ""}})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["hasApiKey"] is False
    assert await matches(client, provider_id, "") is True
    assert await matches(client, provider_id, rotated) is False


async def test_a_key_that_is_not_utf8_is_refused_naming_it(client: httpx.AsyncClient) -> None:
    """A lone surrogate is valid JSON but no text: refused where it enters, never compared."""
    provider_id = await make_provider(client)
    response = await client.post(
        f"/v1/provider-templates/{provider_id}:verifyApiKey",
        content=b'{"apiKey": "sk-\\ud800"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert fields(response) == ["apiKey"]


async def test_bad_bodies_name_the_field(client: httpx.AsyncClient) -> None:
    provider_id = await make_provider(client)
    assert fields(await verify(client, provider_id, {})) == ["apiKey"]
    assert fields(await verify(client, provider_id, {"apiKey": None})) == ["apiKey"]
    assert fields(await verify(client, provider_id, {"apiKey": [API_KEY]})) == ["apiKey"]
    extra = await verify(client, provider_id, {"apiKey": "x", "secret": API_KEY})
    assert fields(extra) == ["secret"]
    assert API_KEY not in extra.text


async def test_members_verify_only_their_own_providers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admins = await make_provider(client)
    _, token = await new_member(client, "erin")
    async with acting_as(app, token) as erin:
        own = await make_provider(erin, api_key="sk-erin-own-key")
        hidden = await verify(erin, admins, {"apiKey": API_KEY})
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["code"] == "NOT_FOUND"
        assert await matches(erin, own, "sk-erin-own-key") is True
        assert await matches(erin, own, API_KEY) is False
    # Admins may verify every provider.
    assert await matches(client, own, "sk-erin-own-key") is True


async def test_unknown_deleted_and_anonymous(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    provider_id = await make_provider(client)
    assert (await verify(anon, provider_id, {"apiKey": API_KEY})).status_code == 401
    deleted = await client.delete(f"/v1/provider-templates/{provider_id}")
    assert deleted.status_code == 200, deleted.text
    for gone in (provider_id, "mpt-0000000000000000"):
        response = await verify(client, gone, {"apiKey": API_KEY})
        assert response.status_code == 404, response.text
