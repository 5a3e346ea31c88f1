"""The audit log through the native face: one event per change, none for a failed one.

Runs on SQLite and PostgreSQL. Every kind of change is made once through `/v1`, and its
event must name the actor, face `native`, the request id the response carried, the
action and the resource; no secret may appear anywhere in the log.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.services import audit as audit_service
from modelplane.services.audit import record
from tests.conftest import new_member
from tests.integration.test_catalog_services import admin_of

INLINE_SECRET = "sk-audit-inline-secret-0123456789"
PROVIDER_KEY = "sk-audit-provider-key-0123456789"
NEW_PROVIDER_KEY = "sk-audit-provider-key-rotated-99"


async def events(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every event matching `params`, newest first, following the page tokens."""
    found: list[dict[str, Any]] = []
    token = None
    while True:
        query = {**params, **({"pageToken": token} if token else {})}
        response = await client.get("/v1/audit-events", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"auditEvents", "nextPageToken"}
        found += body["auditEvents"]
        token = body["nextPageToken"]
        if token is None:
            return found


async def count(client: httpx.AsyncClient) -> int:
    return len(await events(client))


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["code"] == "INVALID_ARGUMENT", data
    return [d["field"] for d in data["details"]]


class Changes:
    """Makes changes through the native face and checks the one event of each."""

    def __init__(self, client: httpx.AsyncClient, actor_id: str) -> None:
        self.client = client
        self.actor_id = actor_id
        self.secrets: list[str] = []

    async def do(
        self,
        method: str,
        path: str,
        *,
        action: str,
        resource_type: str,
        resource_id: str | None = None,
        id_key: str | None = None,
        json: Any = None,
        status: int = 200,
    ) -> dict[str, Any]:
        before = await count(self.client)
        response = await self.client.request(method, path, json=json)
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        if id_key is not None:
            found: Any = body
            for part in id_key.split("."):
                found = found[int(part)] if part.isdigit() else found[part]
            resource_id = found
        new = (await events(self.client))[: (await count(self.client)) - before]
        assert len(new) == 1, new
        event = new[0]
        assert event["actorId"] == self.actor_id
        assert event["face"] == "native"
        assert event["requestId"] == response.headers["x-request-id"]
        assert (event["action"], event["resourceType"]) == (action, resource_type)
        assert event["resourceId"] == resource_id
        assert event["at"] > 0 and event["eventId"]
        return body


async def admin_id(app: FastAPI) -> str:
    return (await admin_of(app.state.store)).principal_id


async def test_every_kind_of_change_records_one_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    c = Changes(client, await admin_id(app))
    llm_body = {
        "displayName": "GPT",
        "providerType": "OPENAI",
        "endpointUrl": "https://api.openai.com/v1",
        "modelIdentifier": "gpt-4o",
        "credentials": {
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": INLINE_SECRET},
        },
    }
    llm = await c.do(
        "POST", "/v1/llms", json=llm_body, status=201, action="create",
        resource_type="llm", id_key="llm.llmId",
    )  # fmt: skip
    llm_id = llm["llm"]["llmId"]
    await c.do(
        "PUT", f"/v1/llms/{llm_id}", json={"displayName": "GPT-4o", "credentials": {
            "kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": INLINE_SECRET + "x"}}},
        action="update", resource_type="llm", resource_id=llm_id,
    )  # fmt: skip
    update = (await events(client, resourceId=llm_id))[0]
    assert update["details"] == {"fields": ["displayName", "credentials"]}
    await c.do("DELETE", f"/v1/llms/{llm_id}", action="delete", resource_type="llm",
               resource_id=llm_id)  # fmt: skip

    group = await c.do("POST", "/v1/model-groups", json={"name": "team"}, status=201,
                       action="create", resource_type="model_group",
                       id_key="modelTemplateId")  # fmt: skip
    group_id = group["modelTemplateId"]
    provider = await c.do(
        "POST", "/v1/provider-templates", status=201, action="create",
        resource_type="provider_template", id_key="providerTemplateId",
        json={"modelTemplateId": group_id, "name": "Acme", "providerName": "provider-acme",
              "providerType": "Custom", "config": {"baseUrl": "https://api.acme.test/v1",
                                                   "api": "openai", "apiKey": PROVIDER_KEY}},
    )  # fmt: skip
    provider_id = provider["providerTemplateId"]
    await c.do(
        "PATCH", f"/v1/provider-templates/{provider_id}", action="update",
        resource_type="provider_template", resource_id=provider_id,
        json={"name": "Acme Inc", "config": {"apiKey": NEW_PROVIDER_KEY}},
    )  # fmt: skip
    patched = (await events(client, resourceId=provider_id))[0]
    assert patched["details"] == {"fields": ["name", "config.apiKey"]}
    batch = await c.do(
        "POST", "/v1/llm-templates:batchCreate", action="create", resource_type="llm_template",
        json={"providerTemplateId": provider_id, "items": [{"llmCode": "a"}]},
        id_key="llmTemplateIds.0",
    )  # fmt: skip
    template_id = batch["llmTemplateIds"][0]
    await c.do("PATCH", f"/v1/model-groups/{group_id}", json={"name": "renamed"},
               action="update", resource_type="model_group", resource_id=group_id)  # fmt: skip
    await c.do("POST", f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": ["r1"]},
               action="create", resource_type="runtime_binding",
               resource_id="Default/r1")  # fmt: skip
    await c.do("POST", f"/v1/model-groups/{group_id}/runtimes:remove",
               json={"runtimeIds": ["r1"]}, action="delete", resource_type="runtime_binding",
               resource_id="Default/r1")  # fmt: skip
    await c.do("DELETE", f"/v1/llm-templates/{template_id}", action="delete",
               resource_type="llm_template", resource_id=template_id)  # fmt: skip
    await c.do("DELETE", f"/v1/provider-templates/{provider_id}", action="delete",
               resource_type="provider_template", resource_id=provider_id)  # fmt: skip
    await c.do("DELETE", f"/v1/model-groups/{group_id}", action="delete",
               resource_type="model_group", resource_id=group_id)  # fmt: skip

    member = await c.do("POST", "/v1/principals", json={"name": "bob", "role": "member"},
                        status=201, action="create", resource_type="principal",
                        id_key="principalId")  # fmt: skip
    bob = member["principalId"]
    issued = await c.do("POST", f"/v1/principals/{bob}/api-keys", json={}, status=201,
                        action="create", resource_type="api_key",
                        id_key="apiKey.apiKeyId")  # fmt: skip
    key_id = issued["apiKey"]["apiKeyId"]
    await c.do("DELETE", f"/v1/principals/{bob}/api-keys/{key_id}", action="revoke",
               resource_type="api_key", resource_id=key_id)  # fmt: skip
    pair = await c.do("POST", f"/v1/principals/{bob}/access-keys", status=201,
                      action="create", resource_type="access_key",
                      id_key="accessKeyId")  # fmt: skip
    await c.do("DELETE", f"/v1/principals/{bob}/access-keys/{pair['accessKeyId']}",
               action="revoke", resource_type="access_key",
               resource_id=pair["accessKeyId"])  # fmt: skip

    ws = await c.do("POST", "/v1/workspaces", json={"workspaceId": "ws-audit", "name": "w"},
                    status=201, action="create", resource_type="workspace",
                    resource_id="ws-audit")  # fmt: skip
    assert ws["workspaceId"] == "ws-audit"
    await c.do("PATCH", "/v1/workspaces/ws-audit", json={"name": "w2"}, action="update",
               resource_type="workspace", resource_id="ws-audit")  # fmt: skip
    await c.do("PUT", f"/v1/workspaces/ws-audit/members/{bob}", action="create",
               resource_type="workspace_member", resource_id=f"ws-audit/{bob}")  # fmt: skip
    await c.do("DELETE", f"/v1/workspaces/ws-audit/members/{bob}", action="delete",
               resource_type="workspace_member", resource_id=f"ws-audit/{bob}")  # fmt: skip
    prompts = "/v1/workspaces/ws-audit/prompt-templates"
    tpl = await c.do("POST", prompts, json={"name": "t", "content": "Hi ${x}"}, status=201,
                     action="create", resource_type="prompt_template",
                     id_key="promptTemplateId")  # fmt: skip
    tpl_id = tpl["promptTemplateId"]
    await c.do("PATCH", f"{prompts}/{tpl_id}", json={"content": "Hello ${x}"},
               action="update", resource_type="prompt_template", resource_id=tpl_id)  # fmt: skip
    await c.do("DELETE", f"{prompts}/{tpl_id}", action="delete",
               resource_type="prompt_template", resource_id=tpl_id)  # fmt: skip
    await c.do("DELETE", "/v1/workspaces/ws-audit", action="delete",
               resource_type="workspace", resource_id="ws-audit")  # fmt: skip

    base = "/v1/configs/cn-hangzhou/service/svc"
    key = "cn-hangzhou/service/svc/rate"
    await c.do("PUT", f"{base}/rate", json={"value": "cfg-value-one"}, status=201, action="create",
               resource_type="config", resource_id=key)  # fmt: skip
    await c.do("PUT", f"{base}/rate", json={"value": "cfg-value-two"}, action="update",
               resource_type="config", resource_id=key)  # fmt: skip
    await c.do("DELETE", f"{base}/rate", action="delete", resource_type="config",
               resource_id=key)  # fmt: skip
    gray = {"items": [{"key": "rate", "value": "cfg-value-gray"}], "labels": ["canary"]}
    await c.do("PUT", f"{base}:candidate", json=gray, status=201, action="create",
               resource_type="config_candidate", resource_id="cn-hangzhou/service/svc")  # fmt: skip
    await c.do("DELETE", f"{base}:candidate", action="delete",
               resource_type="config_candidate", resource_id="cn-hangzhou/service/svc")  # fmt: skip
    await c.do("DELETE", f"/v1/principals/{bob}", action="delete", resource_type="principal",
               resource_id=bob)  # fmt: skip

    # No secret, anywhere: not the inline LLM secret, the provider keys, a token or a pair.
    text = (await client.get("/v1/audit-events", params={"pageSize": 500})).text
    values = ("cfg-value-one", "cfg-value-two", "cfg-value-gray")  # nor are parameter values
    hidden = (INLINE_SECRET, PROVIDER_KEY, NEW_PROVIDER_KEY, issued["token"], *values)
    for secret in (*hidden, pair["accessKeySecret"]):
        assert secret not in text, secret
    kinds = {e["resourceType"] for e in await events(client)}
    assert kinds >= {t.value for t in ResourceType} - {"master_key"}


async def test_failed_changes_record_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    before = await count(client)
    bad = await client.post("/v1/llms", json={"displayName": ""})
    assert bad.status_code == 400
    assert (await client.delete("/v1/llms/00000000-0000-0000-0000-000000000000")).status_code == 404
    created = await client.post("/v1/principals", json={"name": "dup", "role": "member"})
    assert created.status_code == 201
    again = await client.post("/v1/principals", json={"name": "dup", "role": "member"})
    assert again.status_code == 409
    ws = await client.post("/v1/workspaces", json={"workspaceId": "ws-1", "name": "w"})
    assert ws.status_code == 201
    assert (
        await client.post("/v1/workspaces", json={"workspaceId": "ws-1", "name": "w"})
    ).status_code == 409
    assert (await client.patch("/v1/model-groups/mt-nope", json={"name": "x"})).status_code == 404
    assert (await client.delete("/v1/configs/c/service/n/k")).status_code == 404
    assert await count(client) == before + 2  # the two creations that succeeded


async def test_a_rolled_back_transaction_leaves_no_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    store = app.state.store
    admin = await admin_of(store)
    before = await count(client)

    async def failing_change() -> None:
        async with store.writer() as uow:
            await record(uow, admin, AuditAction.CREATE, ResourceType.LLM, "gone")
            raise RuntimeError("the change fails after its event was written")

    with pytest.raises(RuntimeError):
        await failing_change()
    async with store.writer() as uow:
        await record(uow, admin, AuditAction.CREATE, ResourceType.LLM, "kept")
        # leaving without commit rolls back as well
    assert await count(client) == before
    # A change that fails inside the service after its writes (a duplicate found by the
    # store's unique index) leaves no event either.
    assert (
        await client.post("/v1/principals", json={"name": "x", "role": "member"})
    ).status_code == 201
    assert (
        await client.post("/v1/principals", json={"name": "x", "role": "member"})
    ).status_code == 409
    assert await count(client) == before + 1


async def test_filters_paging_and_bad_parameters(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    as_alice = {"Authorization": f"Bearer {alice_token}"}
    for n in range(5):
        made = await client.post("/v1/workspaces", json={"workspaceId": f"ws-{n}", "name": "w"})
        assert made.status_code == 201
    by_alice = await client.post(
        "/v1/workspaces", json={"workspaceId": "ws-a", "name": "a"}, headers=as_alice
    )
    assert by_alice.status_code == 201
    admin = await admin_id(app)

    mine = await events(client, principalId=alice_id)
    assert [(e["resourceType"], e["resourceId"]) for e in mine] == [("workspace", "ws-a")]
    by_admin = await events(client, principalId=admin, resourceType="workspace")
    assert [e["resourceId"] for e in by_admin] == [f"ws-{n}" for n in reversed(range(5))]
    one = await events(client, resourceType="workspace", resourceId="ws-3")
    assert len(one) == 1 and one[0]["action"] == "create"
    assert await events(client, resourceType="llm") == []
    deleted = await client.delete("/v1/workspaces/ws-4")
    assert deleted.status_code == 200, deleted.text
    (gone,) = await events(client, action="delete")
    assert (gone["resourceId"], gone["face"]) == ("ws-4", "native")
    created = await events(client, face="native", action="create")
    assert {e["resourceId"] for e in created} >= {f"ws-{n}" for n in range(5)} | {"ws-a"}
    assert all((e["face"], e["action"]) == ("native", "create") for e in created)
    assert await events(client, face="console") == []

    everything = await events(client)
    assert [e["eventId"] for e in everything] == sorted(
        (e["eventId"] for e in everything), reverse=True
    )
    times = [e["at"] for e in everything]
    assert times == sorted(times, reverse=True)
    middle = everything[3]["at"]
    since = await events(client, since=middle)
    assert since and all(e["at"] >= middle for e in since)
    until = await events(client, until=middle)
    assert all(e["at"] < middle for e in until)
    assert len(since) + len(until) == len(everything)
    assert await events(client, since=0, until=1) == []

    pages = []
    token = None
    while True:
        params: dict[str, Any] = {"pageSize": 2, **({"pageToken": token} if token else {})}
        body = (await client.get("/v1/audit-events", params=params)).json()
        pages.append(body["auditEvents"])
        token = body["nextPageToken"]
        if token is None:
            break
    assert all(len(p) <= 2 for p in pages) and len(pages) == (len(everything) + 1) // 2
    assert [e for p in pages for e in p] == everything

    assert (await client.get("/v1/audit-events", headers=as_alice)).json()[
        "code"
    ] == "PERMISSION_DENIED"
    assert (await client.get("/v1/audit-events", headers=as_alice)).status_code == 403
    assert fields(await client.get("/v1/audit-events", params={"pageSize": 0})) == ["pageSize"]
    assert fields(await client.get("/v1/audit-events", params={"pageSize": 501})) == ["pageSize"]
    assert fields(await client.get("/v1/audit-events", params={"pageSize": "x"})) == ["pageSize"]
    assert fields(await client.get("/v1/audit-events", params={"since": "soon"})) == ["since"]
    assert fields(await client.get("/v1/audit-events", params={"until": -1})) == ["until"]
    assert fields(await client.get("/v1/audit-events", params={"since": 5, "until": 4})) == [
        "until"
    ]
    assert fields(await client.get("/v1/audit-events", params={"resourceType": "gizmo"})) == [
        "resourceType"
    ]
    assert fields(await client.get("/v1/audit-events", params={"action": "undo"})) == ["action"]
    assert fields(await client.get("/v1/audit-events", params={"face": "web"})) == ["face"]
    assert fields(await client.get("/v1/audit-events", params={"pageToken": "garbage!"})) == [
        "pageToken"
    ]


async def test_direct_service_calls_and_the_bootstrap_record_their_face(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    boot = await events(client, resourceType="api_key")
    assert boot[-1]["face"] == "system" and boot[-1]["actorId"] is None
    assert boot[-1]["details"]["bootstrap"] is True
    page = await audit_service.list_events(
        store=app.state.store, actor=await admin_of(app.state.store)
    )
    assert page.events and page.next_page_token is None
