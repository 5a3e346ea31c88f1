"""The audit log names the face a change came through: RPC, bailian, EAS and the CLI.

Runs on SQLite and PostgreSQL; the Alibaba faces are called signed, as their SDKs do.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from modelplane.cli.main import app as cli_app
from modelplane.services import principals
from modelplane.services.request_context import acting_from, current_origin
from modelplane.settings import Settings
from tests.integration.test_catalog_services import admin_of
from tests.support.roa import EAS_VERSION, RoaClient, segment
from tests.support.rpc import RpcClient


async def admin_keys(app: FastAPI) -> tuple[str, str, str]:
    store = app.state.store
    admin = await admin_of(store)
    issued = await principals.issue_access_key(
        store=store, secrets=app.state.secrets, actor=admin, principal_id=admin.principal_id
    )
    return admin.principal_id, issued.access_key.access_key_id, issued.secret


async def newest(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/audit-events", params={"pageSize": 1, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["auditEvents"]
    assert found, params
    return found[0]


async def total(client: httpx.AsyncClient) -> int:
    response = await client.get("/v1/audit-events", params={"pageSize": 500})
    return len(response.json()["auditEvents"])


async def test_rpc_changes_record_face_rpc(
    app: FastAPI, client: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    admin_id, key_id, secret = await admin_keys(app)
    rpc = RpcClient(http, key_id, secret)
    before = await total(client)
    response = await rpc.call("CreateModelTemplate", {"Name": "team", "BizType": "1"})
    assert response.status_code == 200, response.text
    group_id = response.json()["Data"]["ModelTemplateId"]
    event = await newest(client)
    assert (event["face"], event["actorId"], event["requestId"]) == (
        "rpc",
        admin_id,
        response.headers["x-request-id"],
    )
    assert (event["action"], event["resourceType"], event["resourceId"]) == (
        "create",
        "model_group",
        group_id,
    )
    assert await total(client) == before + 1  # the nonce bookkeeping is not a change
    failed = await rpc.call("DeleteModelTemplate", {"ModelTemplateId": "mt-nosuchgroup"})
    assert failed.status_code in (400, 404)
    assert await total(client) == before + 1


async def test_bailian_and_eas_changes_record_their_faces(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin_id, key_id, secret = await admin_keys(app)
    made = await client.post("/v1/workspaces", json={"workspaceId": "llm-audit01", "name": "w"})
    assert made.status_code == 201
    bailian = RoaClient(app, key_id, secret)
    created = await bailian.call(
        "POST", "/llm-audit01/promptTemplates", {"name": "t", "content": "Hi ${x}"}
    )
    assert created.status_code == 200, created.text
    event = await newest(client)
    assert (event["face"], event["actorId"], event["requestId"]) == (
        "bailian",
        admin_id,
        created.headers["x-request-id"],
    )
    assert (event["resourceType"], event["resourceId"]) == (
        "prompt_template",
        created.json()["promptTemplateId"],
    )

    eas = RoaClient(app, key_id, secret, version=EAS_VERSION, action="Config")
    path = f"/api/v2/configs/cn-hangzhou/service/svc/{segment('rate')}"
    body = json.dumps({"Value": "eas-value-1"}).encode()
    written = await eas.call("POST", path, body=body)
    assert written.status_code == 200, written.text
    event = await newest(client)
    assert (event["face"], event["action"], event["resourceId"]) == (
        "eas",
        "create",
        "cn-hangzhou/service/svc/rate",
    )
    assert event["requestId"] == written.headers["x-request-id"]
    assert "eas-value-1" not in (await client.get("/v1/audit-events")).text


async def test_the_request_context_is_left_as_it_was() -> None:
    assert current_origin().face == "system"
    with acting_from("cli"):
        assert current_origin().face == "cli" and current_origin().request_id is None
    assert current_origin().face == "system"


async def test_cli_database_commands_record_face_cli(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPLANE_DATABASE_URL", settings.database_url)
    assert settings.secret_key is not None
    monkeypatch.setenv("MODELPLANE_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("MODELPLANE_BOOTSTRAP_TOKEN", "mp_test_admin_token_0123456789abcdef")
    args = ["db", "create-principal", "--name", "from-cli", "--no-with-api-key"]
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, args)  # it runs its own loop
    assert result.exit_code == 0, result.output
    principal_id = json.loads(result.output)["principalId"]
    event = await newest(client, resourceId=principal_id)
    assert (event["face"], event["actorId"], event["action"]) == ("cli", "cli", "create")
    assert event["requestId"] is None


async def test_the_python_client_lists_and_iterates_events(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from modelplane.client import AsyncClient, AuditEvent, PermissionDenied

    for n in range(3):
        made = await client.post("/v1/workspaces", json={"workspaceId": f"sdk-{n}", "name": "w"})
        assert made.status_code == 201
    transport = httpx.ASGITransport(app=app)
    token = client.headers["Authorization"].removeprefix("Bearer ")
    async with AsyncClient("http://modelplane.test", api_key=token, transport=transport) as sdk:
        page = await sdk.audit.list(resource_type="workspace", page_size=2)
        assert [e.resource_id for e in page.audit_events] == ["sdk-2", "sdk-1"]
        assert page.next_page_token is not None
        every = [e async for e in sdk.audit.iter(resource_type="workspace", page_size=1)]
        assert [e.resource_id for e in every] == ["sdk-2", "sdk-1", "sdk-0"]
        assert all(isinstance(e, AuditEvent) and e.face == "native" for e in every)
        member = await sdk.principals.create("sdk-member")
        issued = await sdk.principals.issue_api_key(member.principal_id)
    async with AsyncClient(
        "http://modelplane.test", api_key=issued.token, transport=transport
    ) as as_member:
        with pytest.raises(PermissionDenied):
            await as_member.audit.list()
