"""Keys for apps: API keys limited to the gateway, to some models, and in time, issued by
admins and by members for themselves, on both stores."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.services import principals as principal_service
from modelplane.services.clock import now_ms
from tests.conftest import new_member
from tests.support.upstreams import FixtureUpstream

DAY_MS = 86_400_000
ASK = [{"role": "user", "content": "Say hello"}]


def as_key(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def member_with_models(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> tuple[str, str, str]:
    """A member owning group `apps` (providers a and b, codes `shared` and `only-…`) and
    connections `conn-model` and `other-model`; (principalId, token, group id)."""
    principal_id, token = await new_member(client, "app-owner")
    async with as_key(app, token) as owner:
        group = await ok(await owner.post("/v1/model-groups", json={"name": "apps"}))
        group_id = group["modelTemplateId"]
        for provider_name in ("provider-a", "provider-b"):
            provider = await ok(
                await owner.post(
                    "/v1/provider-templates",
                    json={
                        "modelTemplateId": group_id,
                        "name": provider_name,
                        "providerName": provider_name,
                        "providerType": "Custom",
                        "config": {"baseUrl": upstream.base(), "apiKey": "sk-up"},
                    },
                )
            )
            items: list[dict[str, Any]] = [
                {"llmCode": "shared"},
                {"llmCode": f"only-{provider_name}"},
            ]
            if provider_name == "provider-a":
                items[0]["isDefaultModel"] = True
            await ok(
                await owner.post(
                    "/v1/llm-templates:batchCreate",
                    json={"providerTemplateId": provider["providerTemplateId"], "items": items},
                )
            )
        for identifier in ("conn-model", "other-model"):
            body = {
                "displayName": identifier,
                "providerType": "CUSTOM_OPENAI_COMPATIBLE",
                "endpointUrl": upstream.base(),
                "modelIdentifier": identifier,
                "credentials": {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": "k"}},
            }
            await ok(await owner.post("/v1/llms", json=body))
    return principal_id, token, group_id


async def issue(client: httpx.AsyncClient, principal_id: str, **scope: Any) -> dict[str, Any]:
    body: dict[str, Any] = await ok(
        await client.post(f"/v1/principals/{principal_id}/api-keys", json=scope)
    )
    return body


async def chat(http: httpx.AsyncClient, model: str) -> httpx.Response:
    return await http.post("/openai/v1/chat/completions", json={"model": model, "messages": ASK})


async def test_an_admin_issues_a_scoped_key_and_the_listing_and_audit_show_its_scope(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    principal_id, _, group_id = await member_with_models(app, client, upstream)
    expires_at = now_ms() + 30 * DAY_MS
    issued = await issue(
        client,
        principal_id,
        label="billing app",
        gatewayOnly=True,
        models=["apps", "apps/provider-b/shared", "conn-model"],
        expiresAt=expires_at,
    )
    key = issued["apiKey"]
    assert key["gatewayOnly"] is True and key["expiresAt"] == expires_at
    assert key["models"] == [
        {"name": "apps", "modelTemplateId": group_id},
        {"name": "apps/provider-b/shared", "modelTemplateId": None},
        {"name": "conn-model", "modelTemplateId": None},
    ]
    listing = await ok(await client.get(f"/v1/principals/{principal_id}/api-keys"))
    assert [k for k in listing["apiKeys"] if k["apiKeyId"] == key["apiKeyId"]] == [key]
    unscoped = [k for k in listing["apiKeys"] if k["apiKeyId"] != key["apiKeyId"]]
    assert [(k["gatewayOnly"], k["models"], k["expiresAt"]) for k in unscoped] == [
        (False, None, None)
    ]
    events = await ok(
        await client.get(
            "/v1/audit-events", params={"resourceType": "api_key", "resourceId": key["apiKeyId"]}
        )
    )
    [event] = events["auditEvents"]
    assert event["action"] == "create"
    assert event["details"] == {
        "principalId": principal_id,
        "gatewayOnly": True,
        "models": ["apps", "apps/provider-b/shared", "conn-model"],
        "expiresAt": expires_at,
    }


async def test_a_gateway_only_key_is_refused_by_the_management_api_naming_why(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    principal_id, _, _ = await member_with_models(app, client, upstream)
    token = (await issue(client, principal_id, gatewayOnly=True))["token"]
    async with as_key(app, token) as app_key:
        for method, path in (
            ("GET", "/v1/llms"),
            ("GET", "/v1/model-groups"),
            ("POST", "/v1/principals/me/api-keys"),
        ):
            refused = await app_key.request(method, path, json={} if method == "POST" else None)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json()["code"] == "PERMISSION_DENIED"
            assert "limited to the gateway (gatewayOnly)" in refused.json()["message"]
        assert (await app_key.get("/openai/v1/models")).status_code == 200
        assert (await chat(app_key, "conn-model")).status_code == 200
    assert (
        len((await ok(await client.get(f"/v1/principals/{principal_id}/api-keys")))["apiKeys"]) == 2
    )


async def test_an_expired_key_is_401_everywhere_though_it_was_cached(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    principal_id, _ = await new_member(client, "short-lived")
    expires_at = now_ms() + 60_000
    token = (await issue(client, principal_id, expiresAt=expires_at))["token"]
    async with as_key(app, token) as short:
        assert (await short.get("/v1/llms")).status_code == 200
        assert (await short.get("/openai/v1/models")).status_code == 200
        monkeypatch.setattr(principal_service, "now_ms", lambda: expires_at)
        native = await short.get("/v1/llms")
        assert native.status_code == 401 and native.json()["code"] == "UNAUTHENTICATED"
        assert "the API key expired at" in native.json()["message"]
        gateway = await short.get("/openai/v1/models")
        assert gateway.status_code == 401
        error = gateway.json()["error"]
        assert error["type"] == "authentication_error" and "expired at" in error["message"]
        anthropic = await short.post(
            "/anthropic/v1/messages", json={"model": "x", "max_tokens": 5, "messages": ASK}
        )
        assert anthropic.status_code == 401
        assert anthropic.json()["error"]["type"] == "authentication_error"


async def test_a_revoked_scoped_key_stops_at_the_gateway_at_once(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    principal_id, _, _ = await member_with_models(app, client, upstream)
    issued = await issue(client, principal_id, gatewayOnly=True, models=["conn-model"])
    async with as_key(app, issued["token"]) as app_key:
        assert (await chat(app_key, "conn-model")).status_code == 200
        key_id = issued["apiKey"]["apiKeyId"]
        await ok(await client.delete(f"/v1/principals/{principal_id}/api-keys/{key_id}"))
        assert (await chat(app_key, "conn-model")).status_code == 401


@pytest.mark.parametrize(
    ("scope", "field", "rule"),
    [
        ({"expiresAt": 1_000}, "expiresAt", "must be in the future"),
        ({"expiresAt": 2**62}, "expiresAt", "at most 3650 days from now"),
        ({"models": []}, "models", "at least one"),
        ({"models": [f"m-{i}" for i in range(101)]}, "models", "at most 100"),
        ({"models": [""]}, "models.0", "must not be empty"),
        ({"models": ["conn-model", "a b"]}, "models.1", "no spaces"),
        ({"models": ["apps//shared"]}, "models.0", "no empty part"),
        ({"models": ["x" * 257]}, "models.0", "at most 256 characters"),
        ({"models": ["conn-model", "conn-model"]}, "models.1", "listed twice"),
        ({"models": ["conn-model", "no-such-model"]}, "models.1", "names no model group"),
        ({"models": ["apps/no-such-code"]}, "models.0", "offers no model 'no-such-code'"),
        ({"models": "conn-model"}, "models", ""),
        ({"gatewayOnly": "sometimes"}, "gatewayOnly", ""),
    ],
)
async def test_a_bad_scope_is_400_naming_the_field_and_the_rule_and_stores_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    upstream: FixtureUpstream,
    scope: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    principal_id, _, _ = await member_with_models(app, client, upstream)
    refused = await client.post(f"/v1/principals/{principal_id}/api-keys", json=scope)
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["code"] == "INVALID_ARGUMENT"
    assert [d for d in body["details"] if d["field"] == field and rule in d["rule"]], body
    listing = await ok(await client.get(f"/v1/principals/{principal_id}/api-keys"))
    assert len(listing["apiKeys"]) == 1  # the member's first key only


async def test_a_member_issues_itself_only_gateway_keys_within_the_key_it_calls_with(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    principal_id, token, group_id = await member_with_models(app, client, upstream)
    admin_id = (await ok(await client.get("/v1/principals")))["principals"][0]["principalId"]
    async with as_key(app, token) as member:
        managing = await member.post("/v1/principals/me/api-keys", json={})
        assert managing.status_code == 403 and "gatewayOnly: must be true" in managing.text
        other = await member.post(f"/v1/principals/{admin_id}/api-keys", json={"gatewayOnly": True})
        assert other.status_code == 403
        assert (await member.get(f"/v1/principals/{admin_id}/api-keys")).status_code == 403
        own = await ok(await member.post("/v1/principals/me/api-keys", json={"gatewayOnly": True}))
        assert own["apiKey"]["principalId"] == principal_id
        listing = await ok(await member.get("/v1/principals/me/api-keys"))
        assert len(listing["apiKeys"]) == 2
        key_id = own["apiKey"]["apiKeyId"]
        revoked = await ok(await member.delete(f"/v1/principals/me/api-keys/{key_id}"))
        assert revoked["revokedAt"] is not None

    # A member's key limited to the group and in time issues keys only within both.
    expires_at = now_ms() + DAY_MS
    limited = await issue(client, principal_id, models=[group_id], expiresAt=expires_at)
    async with as_key(app, limited["token"]) as member:
        inside = {"gatewayOnly": True, "models": ["apps/shared"], "expiresAt": expires_at - 1}
        assert (await member.post("/v1/principals/me/api-keys", json=inside)).status_code == 201
        for beyond, named in (
            ({**inside, "models": ["apps/shared", "conn-model"]}, "models.1"),
            ({**inside, "models": None}, "models: required"),
            ({**inside, "expiresAt": None}, "expiresAt: required"),
            ({**inside, "expiresAt": expires_at + 1}, "expiresAt: required"),
        ):
            refused = await member.post("/v1/principals/me/api-keys", json=beyond)
            assert refused.status_code == 403 and named in refused.json()["message"], refused.text
    listing = await ok(await client.get(f"/v1/principals/{principal_id}/api-keys"))
    assert len(listing["apiKeys"]) == 4


async def test_a_scoped_key_calls_and_lists_only_its_models_at_the_gateway(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    principal_id, owner_token, group_id = await member_with_models(app, client, upstream)
    issued = await issue(client, principal_id, gatewayOnly=True, models=["apps", "conn-model"])
    async with as_key(app, issued["token"]) as app_key, as_key(app, owner_token) as owner:
        for name in (
            "apps",
            group_id,
            "apps/shared",
            "apps/provider-b/only-provider-b",
            "conn-model",
        ):
            assert (await chat(app_key, name)).status_code == 200, name
        refused = await chat(app_key, "other-model")
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["type"] == "permission_error"
        assert "may not call model 'other-model'" in error["message"]
        messages = await app_key.post(
            "/anthropic/v1/messages",
            json={"model": "other-model", "max_tokens": 5, "messages": ASK},
        )
        assert messages.status_code == 403
        assert messages.json() == {
            "type": "error",
            "error": {"type": "permission_error", "message": error["message"]},
        }
        assert (await app_key.get("/openai/v1/models/other-model")).status_code == 403
        assert (await app_key.get("/openai/v1/models/apps/shared")).status_code == 200

        every = {m["id"] for m in (await ok(await owner.get("/openai/v1/models")))["data"]}
        listed = {m["id"] for m in (await ok(await app_key.get("/openai/v1/models")))["data"]}
        assert "other-model" in every and "other-model" not in listed
        assert listed == {n for n in every if n.startswith(("apps", group_id))} | {"conn-model"}

        # The group is named by its id: renamed, it is still in scope under its new name.
        await ok(await owner.patch(f"/v1/model-groups/{group_id}", json={"name": "apps-v2"}))
        assert (await chat(app_key, "apps-v2/shared")).status_code == 200


async def test_a_listed_name_inside_a_group_allows_that_name_only(
    app: FastAPI, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    principal_id, _, _ = await member_with_models(app, client, upstream)
    issued = await issue(client, principal_id, models=["apps/only-provider-a"])
    async with as_key(app, issued["token"]) as app_key:
        assert (await chat(app_key, "apps/only-provider-a")).status_code == 200
        assert (await chat(app_key, "apps")).status_code == 403
        assert (await chat(app_key, "apps/shared")).status_code == 403
        listed = [m["id"] for m in (await ok(await app_key.get("/openai/v1/models")))["data"]]
        assert listed == ["apps/only-provider-a"]
        # Not gateway-only: it still manages what its principal may.
        assert (await app_key.get("/v1/llms")).status_code == 200
