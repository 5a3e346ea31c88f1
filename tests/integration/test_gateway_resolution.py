"""What a model name means for a caller: groups, codes, providers, connections (both stores)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.domain.errors import InvalidArgument, NotFound
from modelplane.domain.gateway import ApiFamily, Operation, Route
from modelplane.domain.principals import Principal
from modelplane.services import gateway
from modelplane.services import principals as principal_service
from tests.conftest import ADMIN_TOKEN, new_member

KEY = "sk-upstream-0123456789"


async def resolve(app: FastAPI, token: str, name: str, **environ: str) -> Route:
    caller = await principal_service.authenticate_key(store=app.state.store, token=token)
    actor: Principal = caller.principal
    return await gateway.resolve(
        store=app.state.store, secrets=app.state.secrets, actor=actor, name=name, environ=environ
    )


async def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def make_llm(client: httpx.AsyncClient, **fields: Any) -> str:
    body = {
        "displayName": fields.pop("displayName", "up"),
        "providerType": "CUSTOM_OPENAI_COMPATIBLE",
        "endpointUrl": "http://127.0.0.1:9/v1",
        "modelIdentifier": "mock-1",
        "credentials": {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": KEY}},
        **fields,
    }
    created = await ok(await client.post("/v1/llms", json=body))
    llm_id: str = created["llm"]["llmId"]
    return llm_id


async def make_group(client: httpx.AsyncClient, name: str = "assistants") -> dict[str, str]:
    group = await ok(await client.post("/v1/model-groups", json={"name": name}))
    ids = {"group": group["modelTemplateId"]}
    for provider_name, url in (
        ("provider-a", "http://a.test/v1"),
        ("provider-b", "http://b.test/v1"),
    ):
        provider = await ok(
            await client.post(
                "/v1/provider-templates",
                json={
                    "modelTemplateId": ids["group"],
                    "name": provider_name,
                    "providerName": provider_name,
                    "providerType": "Custom",
                    "config": {"baseUrl": url, "apiKey": f"{KEY}-{provider_name}"},
                },
            )
        )
        ids[provider_name] = provider["providerTemplateId"]
        items: list[dict[str, Any]] = [
            {"llmCode": "shared", "config": {"weight": 3}},
            {"llmCode": f"only-{provider_name}"},
        ]
        if provider_name == "provider-a":
            items[0]["isDefaultModel"] = True
        await ok(
            await client.post(
                "/v1/llm-templates:batchCreate",
                json={"providerTemplateId": ids[provider_name], "items": items},
            )
        )
    return ids


async def test_a_group_by_name_or_id_means_its_default_model(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ids = await make_group(client)
    for name in ("assistants", ids["group"]):
        route = await resolve(app, ADMIN_TOKEN, name)
        [target] = route.targets
        assert target.member == f"{ids['group']}/provider-a/shared"
        assert (target.base_url, target.model) == ("http://a.test/v1", "shared")
        assert target.auth == ("Authorization", f"Bearer {KEY}-provider-a")
        assert target.weight == 3.0


async def test_a_code_pools_every_provider_and_a_provider_picks_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ids = await make_group(client)
    pool = await resolve(app, ADMIN_TOKEN, "assistants/shared")
    assert [t.base_url for t in pool.targets] == ["http://a.test/v1", "http://b.test/v1"]
    exact = await resolve(app, ADMIN_TOKEN, "assistants/provider-b/shared")
    assert [t.member for t in exact.targets] == [f"{ids['group']}/provider-b/shared"]
    only = await resolve(app, ADMIN_TOKEN, "assistants/only-provider-b")
    assert [t.model for t in only.targets] == ["only-provider-b"]
    with pytest.raises(NotFound):
        await resolve(app, ADMIN_TOKEN, "assistants/provider-a/only-provider-b")


async def test_a_connection_by_id_or_by_identifier_pools_the_callers_own(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await make_llm(client, defaultSamplingParams={"temperature": 0.3})
    second = await make_llm(client, endpointUrl="http://127.0.0.1:8/v1", apiPath="/chat")
    pool = await resolve(app, ADMIN_TOKEN, "mock-1")
    assert [t.member for t in pool.targets] == [f"llm/{first}", f"llm/{second}"]
    assert pool.targets[0].sampling is not None and pool.targets[0].sampling.temperature == 0.3
    assert pool.targets[1].url(Operation.CHAT) == "http://127.0.0.1:8/v1/chat"
    by_id = await resolve(app, ADMIN_TOKEN, second)
    assert [t.member for t in by_id.targets] == [f"llm/{second}"]
    # A member's connection with the same identifier is not in the admin's pool, and the
    # member's own pool holds only the member's.
    _, member_token = await new_member(client, "dana")
    async with member_client(app, member_token) as dana:
        theirs = await make_llm(dana)
    assert [t.member for t in (await resolve(app, ADMIN_TOKEN, "mock-1")).targets] == [
        f"llm/{first}",
        f"llm/{second}",
    ]
    assert [t.member for t in (await resolve(app, member_token, "mock-1")).targets] == [
        f"llm/{theirs}"
    ]


def member_client(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_member_reaches_no_name_of_another_owner(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ids = await make_group(client)
    llm_id = await make_llm(client)
    _, member_token = await new_member(client, "erin")
    for name in ("assistants", ids["group"], "assistants/shared", "mock-1", llm_id):
        with pytest.raises(NotFound):
            await resolve(app, member_token, name)


async def test_a_group_name_two_owners_use_is_ambiguous_to_an_admin(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ids = await make_group(client)
    _, member_token = await new_member(client, "fay")
    async with member_client(app, member_token) as fay:
        theirs = await ok(await fay.post("/v1/model-groups", json={"name": "assistants"}))
    with pytest.raises(InvalidArgument) as caught:
        await resolve(app, ADMIN_TOKEN, "assistants")
    assert (
        ids["group"] in caught.value.message and theirs["modelTemplateId"] in caught.value.message
    )
    route = await resolve(app, ADMIN_TOKEN, f"{ids['group']}/shared")  # an id is never ambiguous
    assert len(route.targets) == 2


async def test_keys_come_as_the_connection_says_and_env_references_from_the_environment(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_llm(
        client,
        modelIdentifier="claude-x",
        apiPath="/messages",
        credentials={
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"secretRef": {"uri": "env://UP_KEY"}},
        },
    )
    route = await resolve(app, ADMIN_TOKEN, "claude-x", UP_KEY="sk-from-env")
    assert route.family is ApiFamily.ANTHROPIC
    assert route.targets[0].auth == ("x-api-key", "sk-from-env")
    await make_llm(
        client,
        modelIdentifier="custom-h",
        credentials={
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": KEY, "headerName": "api-key", "prefix": ""},
        },
    )
    assert (await resolve(app, ADMIN_TOKEN, "custom-h")).targets[0].auth == ("api-key", KEY)


async def test_a_pool_keeps_the_members_it_can_call_and_is_refused_only_when_none(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    env_only = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"secretRef": {"uri": "env://GONE"}}}
    await make_llm(client, modelIdentifier="pool-x", credentials=env_only)
    with pytest.raises(InvalidArgument) as caught:
        await resolve(app, ADMIN_TOKEN, "pool-x")
    assert "env://GONE" in caught.value.message and "not set" in caught.value.message
    working = await make_llm(client, modelIdentifier="pool-x", endpointUrl="http://127.0.0.1:7/v1")
    route = await resolve(app, ADMIN_TOKEN, "pool-x")
    assert [t.member for t in route.targets] == [f"llm/{working}"]


async def test_a_changed_key_is_used_by_the_next_resolution(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    llm_id = await make_llm(client)
    assert (await resolve(app, ADMIN_TOKEN, "mock-1")).targets[0].auth == (
        "Authorization",
        f"Bearer {KEY}",
    )
    credentials = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": "sk-rotated-99"}}
    await ok(await client.put(f"/v1/llms/{llm_id}", json={"credentials": credentials}))
    assert (await resolve(app, ADMIN_TOKEN, "mock-1")).targets[0].auth == (
        "Authorization",
        "Bearer sk-rotated-99",
    )


async def test_a_model_changed_in_place_is_used_by_the_next_resolution(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ids = await make_group(client)
    assert (await resolve(app, ADMIN_TOKEN, "assistants")).targets[0].weight == 3.0
    listed = await client.get("/v1/llm-templates", params={"providerTemplateId": ids["provider-a"]})
    shared = next(t for t in listed.json()["llmTemplates"] if t["llmCode"] == "shared")
    config = {"weight": 5, "cost": {"input": 2, "output": 8}}
    await ok(
        await client.patch(f"/v1/llm-templates/{shared['llmTemplateId']}", json={"config": config})
    )
    [target] = (await resolve(app, ADMIN_TOKEN, "assistants")).targets  # still the default
    assert target.member == f"{ids['group']}/provider-a/shared"
    assert target.weight == 5.0
    assert target.prices is not None and (target.prices.input, target.prices.output) == (2, 8)


async def test_the_models_route_lists_every_usable_name_and_gets_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ids = await make_group(client)
    llm_id = await make_llm(client)
    listed = await ok(await client.get("/openai/v1/models"))
    names = {m["id"] for m in listed["data"]}
    assert {
        "assistants",
        ids["group"],
        "assistants/shared",
        "assistants/provider-a/shared",
        "assistants/only-provider-b",
        "mock-1",
        llm_id,
    } <= names
    assert all(m["object"] == "model" for m in listed["data"])
    one = await ok(await client.get("/openai/v1/models/assistants/provider-b/shared"))
    assert one["id"] == "assistants/provider-b/shared"
    missing = await client.get("/openai/v1/models/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"
    unauthenticated = await client.get("/openai/v1/models", headers={"Authorization": "Bearer x"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["type"] == "authentication_error"
