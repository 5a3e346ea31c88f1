"""A runtime's model config through the gateway, on SQLite and PostgreSQL: the gateway's URL
and one key per binding (the same token on every ask, no provider secret), revoked in the
change that moves or removes the binding or deletes the group."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from modelplane.security.secretbox import new_master_key_text
from modelplane.services import runtimes
from modelplane.services.key_rotation import rotate_secrets
from modelplane.settings import Settings
from tests.conftest import POSTGRES_ONLY, new_member
from tests.integration.test_catalog_services import admin_of
from tests.integration.test_key_rotation import box, key_of, running
from tests.integration.test_rpc_face import _keys_for
from tests.support.rpc import HOST, RpcClient

PROVIDER_KEY = "sk-provider-secret-0123456789"
PROVIDER_URL = "https://provider.internal.test/v1"
GATEWAY = f"http://{HOST}/openai/v1"
WAIT = 0.5  # long enough for the other side to reach its lock


async def group_with_models(client: httpx.AsyncClient, name: str = "team") -> str:
    """A group with one provider (a secret key and URL) and two models, `a` the default."""
    group = await client.post("/v1/model-groups", json={"name": name})
    assert group.status_code == 201, group.text
    group_id: str = group.json()["modelTemplateId"]
    provider = await client.post(
        "/v1/provider-templates",
        json={
            "modelTemplateId": group_id,
            "name": "acme",
            "providerName": "provider-acme",
            "providerType": "Custom",
            "config": {"baseUrl": PROVIDER_URL, "api": "openai", "apiKey": PROVIDER_KEY},
        },
    )
    assert provider.status_code == 201, provider.text
    items = [{"llmCode": "a", "isDefaultModel": True}, {"llmCode": "b"}]
    made = await client.post(
        "/v1/llm-templates:batchCreate",
        json={"providerTemplateId": provider.json()["providerTemplateId"], "items": items},
    )
    assert made.status_code in (200, 201), made.text
    return group_id


async def bind(client: httpx.AsyncClient, group_id: str, *runtime_ids: str) -> None:
    bound = await client.post(
        f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": list(runtime_ids)}
    )
    assert bound.status_code == 200, bound.text
    assert all(r["success"] for r in bound.json()["results"]), bound.text


async def gateway_config(client: httpx.AsyncClient, runtime_id: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/runtimes/Default/{runtime_id}/model-config?gateway=true")
    assert answer.status_code == 200, answer.text
    assert PROVIDER_KEY not in answer.text and PROVIDER_URL not in answer.text
    gateway: dict[str, Any] = answer.json()["gateway"]
    return gateway


async def gateway_status(anon: httpx.AsyncClient, token: str) -> int:
    """What the gateway answers the token (200: it works, 401: revoked)."""
    answer = await anon.get("/openai/v1/models", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


async def keys_of(client: httpx.AsyncClient, principal_id: str) -> dict[str, dict[str, Any]]:
    listed = await client.get(f"/v1/principals/{principal_id}/api-keys")
    assert listed.status_code == 200, listed.text
    return {k["apiKeyId"]: k for k in listed.json()["apiKeys"]}


async def events_of(client: httpx.AsyncClient, api_key_id: str) -> list[dict[str, Any]]:
    listed = await client.get("/v1/audit-events", params={"resourceId": api_key_id})
    assert listed.status_code == 200, listed.text
    events: list[dict[str, Any]] = listed.json()["auditEvents"]
    return events


async def test_a_runtime_gets_the_gateway_url_and_the_same_groups_key_on_every_ask(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    group_id = await group_with_models(client)
    await bind(client, group_id, "r1")
    admin = (await admin_of(app.state.store)).principal_id
    plain = await client.get("/v1/runtimes/Default/r1/model-config")
    assert plain.json()["gateway"] is None
    before = await keys_of(client, admin)

    first = await gateway_config(client, "r1")
    again = await gateway_config(client, "r1")
    assert again == first
    assert first["baseUrl"] == GATEWAY
    assert first["anthropicBaseUrl"] == f"http://{HOST}/anthropic"
    assert first["defaultModel"] == group_id
    assert first["models"] == [
        {"model": f"{group_id}/provider-acme/a", "api": "openai"},
        {"model": f"{group_id}/provider-acme/b", "api": "openai"},
    ]
    keys = await keys_of(client, admin)
    assert set(keys) - set(before) == {first["apiKeyId"]}  # one key for the binding
    key = keys[first["apiKeyId"]]
    assert key["gatewayOnly"] is True and key["expiresAt"] is None
    assert key["models"] == [{"name": group_id, "modelTemplateId": group_id}]
    assert key["label"] == "runtime Default/r1"
    assert key["principalId"] == admin  # the group's owner

    listed = await anon.get(
        "/openai/v1/models", headers={"authorization": f"Bearer {first['apiKey']}"}
    )
    assert listed.status_code == 200, listed.text
    names = {m["id"] for m in listed.json()["data"]}
    assert {group_id, "team/provider-acme/a"} <= names  # the list names codes by group name
    assert all(n.startswith(("team", group_id)) for n in names)
    refused = await anon.get("/v1/llms", headers={"x-api-key": first["apiKey"]})
    assert refused.status_code == 403  # the management API is not for it
    [made] = await events_of(client, first["apiKeyId"])
    assert made["action"] == "create" and made["details"]["runtime"] == "Default/r1"
    assert PROVIDER_KEY not in json.dumps(made) and first["apiKey"] not in json.dumps(made)


async def test_unbinding_moving_and_deleting_the_group_revoke_the_bindings_key(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    group_id = await group_with_models(client)
    other_id = await group_with_models(client, "other")
    await bind(client, group_id, "r1", "r2", "r3")
    tokens = {r: await gateway_config(client, r) for r in ("r1", "r2", "r3")}
    assert len({t["apiKey"] for t in tokens.values()}) == 3
    for token in tokens.values():
        assert await gateway_status(anon, token["apiKey"]) == 200

    removed = await client.post(
        f"/v1/model-groups/{group_id}/runtimes:remove", json={"runtimeIds": ["r1"]}
    )
    assert removed.status_code == 200, removed.text
    assert await gateway_status(anon, tokens["r1"]["apiKey"]) == 401
    await bind(client, other_id, "r2")  # moved
    assert await gateway_status(anon, tokens["r2"]["apiKey"]) == 401
    moved = await gateway_config(client, "r2")
    assert moved["apiKey"] != tokens["r2"]["apiKey"] and moved["defaultModel"] == other_id
    await bind(client, group_id, "r3")  # already there: kept
    assert (await gateway_config(client, "r3"))["apiKey"] == tokens["r3"]["apiKey"]
    deleted = await client.delete(f"/v1/model-groups/{group_id}")
    assert deleted.status_code == 200, deleted.text
    assert await gateway_status(anon, tokens["r3"]["apiKey"]) == 401
    assert await gateway_status(anon, moved["apiKey"]) == 200

    reasons = {}
    for runtime, token in tokens.items():
        events = await events_of(client, token["apiKeyId"])
        [revoked] = [e for e in events if e["action"] == "revoke"]
        assert revoked["details"]["runtime"] == f"Default/{runtime}"
        reasons[runtime] = revoked["details"]["reason"]
    assert reasons == {
        "r1": "unbound",
        "r2": f"moved to {other_id}",
        "r3": "model group deleted",
    }


async def test_a_revoked_key_is_replaced_on_the_next_ask(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    group_id = await group_with_models(client)
    await bind(client, group_id, "r1")
    first = await gateway_config(client, "r1")
    admin = (await admin_of(app.state.store)).principal_id
    revoked = await client.delete(f"/v1/principals/{admin}/api-keys/{first['apiKeyId']}")
    assert revoked.status_code == 200, revoked.text
    second = await gateway_config(client, "r1")
    assert second["apiKey"] != first["apiKey"]
    assert await gateway_status(anon, first["apiKey"]) == 401
    assert await gateway_status(anon, second["apiKey"]) == 200
    assert (await gateway_config(client, "r1"))["apiKey"] == second["apiKey"]


async def test_the_key_is_the_group_owners_and_a_member_gets_it_only_within_its_own_key(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    member_id, token = await new_member(client, "team-owner")
    member = {"x-api-key": token}
    made = await anon.post("/v1/model-groups", json={"name": "mine"}, headers=member)
    group_id = made.json()["modelTemplateId"]
    bound = await anon.post(
        f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": ["r1"]}, headers=member
    )
    assert bound.status_code == 200, bound.text

    path = "/v1/runtimes/Default/r1/model-config?gateway=true"
    by_member = await anon.get(path, headers=member)
    assert by_member.status_code == 200, by_member.text
    by_admin = await gateway_config(client, "r1")  # an admin reads it too: the same key
    assert by_admin == by_member.json()["gateway"]
    assert by_admin["apiKeyId"] in await keys_of(client, member_id)

    second = await anon.post("/v1/model-groups", json={"name": "second"}, headers=member)
    narrow = await client.post(
        f"/v1/principals/{member_id}/api-keys",
        json={"models": [second.json()["modelTemplateId"]]},
    )
    assert narrow.status_code == 201, narrow.text  # an admin may give a member such a key
    refused = await anon.get(path, headers={"x-api-key": narrow.json()["token"]})
    assert refused.status_code == 403, refused.text
    assert f"may not call the models of {group_id}" in refused.json()["message"]
    plain = await anon.get(path.partition("?")[0], headers={"x-api-key": narrow.json()["token"]})
    assert plain.status_code == 200  # the model config itself, as before

    stranger = {"x-api-key": (await new_member(client, "stranger"))[1]}
    assert (await anon.get(path, headers=stranger)).status_code == 404
    keys = await keys_of(client, member_id)
    assert [k for k in keys.values() if k["label"] == "runtime Default/r1"] == [
        keys[by_admin["apiKeyId"]]
    ]


async def test_bad_input_and_an_unbound_runtime_store_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = (await admin_of(app.state.store)).principal_id
    before = await keys_of(client, admin)
    bad = await client.get("/v1/runtimes/Default/r1/model-config?gateway=maybe")
    assert bad.status_code == 400, bad.text
    assert bad.json()["details"][0]["field"] == "gateway"
    missing = await client.get("/v1/runtimes/Default/r-none/model-config?gateway=true")
    assert missing.status_code == 404, missing.text
    bad_type = await client.get("/v1/runtimes/9x/r1/model-config?gateway=true")
    assert bad_type.status_code == 400 and bad_type.json()["details"][0]["field"] == "runtimeType"
    assert await keys_of(client, admin) == before


async def test_rpc_use_gateway_hands_the_same_key_and_the_bindings_changes_revoke_it(
    app: FastAPI, client: httpx.AsyncClient, http: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    rpc = RpcClient(http, *await _keys_for(app, None))
    group_id = await group_with_models(client)
    other_id = await group_with_models(client, "other")
    for runtime in ("r1", "r2", "r3"):
        await rpc.ok(
            "ConfigRuntimeModelTemplate", {"ModelTemplateId": group_id, "RuntimeIds.1": runtime}
        )

    async def gateway_of(runtime: str) -> dict[str, Any]:
        response = await rpc.call(
            "GetRuntimeModelConfig", {"RuntimeId": runtime, "UseGateway": "true"}
        )
        assert response.status_code == 200, response.text
        assert PROVIDER_KEY not in response.text and PROVIDER_URL not in response.text
        data: dict[str, Any] = response.json()["Data"]
        return data

    plain = await rpc.ok("GetRuntimeModelConfig", {"RuntimeId": "r1", "UseGateway": "False"})
    assert "Gateway" not in plain["Data"]  # type: ignore[operator]
    data = await gateway_of("r1")
    assert data["ModelTemplateId"] == group_id and data["DefaultModel"] == "provider-acme/a"
    first = data["Gateway"]
    assert first["BaseUrl"] == GATEWAY and first["DefaultModel"] == group_id
    assert first["Models"][0] == {"Model": f"{group_id}/provider-acme/a", "Api": "openai"}
    assert (await gateway_of("r1"))["Gateway"] == first
    native = await gateway_config(client, "r1")  # the native face hands the same key
    assert (native["apiKey"], native["apiKeyId"]) == (first["ApiKey"], first["ApiKeyId"])
    tokens = {r: (await gateway_of(r))["Gateway"]["ApiKey"] for r in ("r1", "r2", "r3")}

    await rpc.ok("RemoveRuntimeModelTemplate", {"ModelTemplateId": group_id, "RuntimeIds.1": "r1"})
    assert await gateway_status(anon, tokens["r1"]) == 401
    await rpc.ok("ConfigRuntimeModelTemplate", {"ModelTemplateId": other_id, "RuntimeIds.1": "r2"})
    assert await gateway_status(anon, tokens["r2"]) == 401
    assert await gateway_status(anon, tokens["r3"]) == 200
    await rpc.ok("DeleteModelTemplate", {"ModelTemplateId": group_id})
    assert await gateway_status(anon, tokens["r3"]) == 401

    bad = await rpc.call("GetRuntimeModelConfig", {"RuntimeId": "r2", "UseGateway": "yes"})
    assert bad.status_code == 400 and bad.json()["Code"] == "InvalidParameter"
    assert "UseGateway" in bad.json()["Message"]


async def test_a_control_plane_replica_names_the_public_url_or_refuses_without_one(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    group_id = await group_with_models(client)
    await bind(client, group_id, "r1")
    path = "/v1/runtimes/Default/r1/model-config?gateway=true"
    control = settings.model_copy(update={"serve": "control-plane"})
    async with running(control) as (_, other):
        refused = await other.get(path)
        assert refused.status_code == 412, refused.text
        assert "MODELPLANE_PUBLIC_URL" in refused.json()["message"]
    public = control.model_copy(update={"public_url": "https://mp.example.com/base"})
    async with running(public) as (_, other):
        answer = await other.get(path)
        assert answer.status_code == 200, answer.text
        assert answer.json()["gateway"]["baseUrl"] == "https://mp.example.com/base/openai/v1"
    assert (await gateway_config(client, "r1"))["baseUrl"] == GATEWAY


async def test_the_token_survives_a_master_key_rotation(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient
) -> None:
    group_id = await group_with_models(client)
    await bind(client, group_id, "r1")
    first = await gateway_config(client, "r1")
    store, admin = app.state.store, await admin_of(app.state.store)
    rotated = box(new_master_key_text(), key_of(settings))
    report = await rotate_secrets(store=store, secrets=rotated)
    assert report.resealed["runtimeGatewayTokens"] == 1
    config = await runtimes.runtime_gateway_config(
        store=store,
        secrets=rotated,
        actor=admin,
        runtime_id="r1",
        public_url="http://elsewhere.test",
    )
    assert config.gateway is not None and config.gateway.token == first["apiKey"]


@POSTGRES_ONLY
async def test_asks_at_once_share_one_key(app: FastAPI, client: httpx.AsyncClient) -> None:
    group_id = await group_with_models(client)
    await bind(client, group_id, "r1")
    store, admin = app.state.store, await admin_of(app.state.store)
    configs = await asyncio.gather(
        *(
            runtimes.runtime_gateway_config(
                store=store,
                secrets=app.state.secrets,
                actor=admin,
                runtime_id="r1",
                public_url="http://mp.test",
            )
            for _ in range(6)
        )
    )
    assert len({c.gateway.token for c in configs if c.gateway is not None}) == 1
    keys = await keys_of(client, admin.principal_id)
    assert sum(k["label"] == "runtime Default/r1" for k in keys.values()) == 1


@POSTGRES_ONLY
async def test_an_ask_while_its_runtime_moves_waits_and_then_gets_the_new_groups_key(
    app: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    group_id = await group_with_models(client)
    other_id = await group_with_models(client, "other")
    await bind(client, group_id, "r1")
    store, admin = app.state.store, await admin_of(app.state.store)
    move = db.transaction()  # a move, played by hand: the binding's row, changed, not committed
    await move.start()
    await db.execute(
        "UPDATE runtime_bindings SET model_template_id = $1 WHERE runtime_id = 'r1'", other_id
    )
    ask = asyncio.create_task(
        runtimes.runtime_gateway_config(
            store=store,
            secrets=app.state.secrets,
            actor=admin,
            runtime_id="r1",
            public_url="http://mp.test",
        )
    )
    await asyncio.sleep(WAIT)
    assert not ask.done()  # it waits for the move, rather than keep a key to the old group
    await move.commit()
    config = await ask
    assert config.group.model_template_id == other_id
    keys = await keys_of(client, admin.principal_id)
    assert config.gateway is not None
    assert keys[config.gateway.api_key_id]["models"][0]["modelTemplateId"] == other_id
    assert sum(k["label"] == "runtime Default/r1" for k in keys.values()) == 1
