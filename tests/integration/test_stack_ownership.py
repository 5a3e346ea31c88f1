"""Stacks and ownership, on SQLite and PostgreSQL: an admin applying a stack into a
member's config namespace or workspace must declare its `ownerId`, or its first write in
there is refused (nothing is written into it); with it, apply writes there and converges."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane import stack
from modelplane.client import Client, FailedPrecondition
from tests.conftest import ADMIN_TOKEN, new_member
from tests.integration.test_configs_api import acting_as
from tests.support.in_process import served

WS = "alices-ws"


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


def configs(owner_id: str | None = None, service: str = "alices") -> dict[str, Any]:
    entry: dict[str, Any] = {"cluster": "cn", "service": service, "values": {"k": "admin's"}}
    if owner_id is not None:
        entry["ownerId"] = owner_id
    return {"configs": [entry]}


def workspaces(owner_id: str | None = None, workspace_id: str = WS) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "workspaceId": workspace_id,
        "name": "w",
        "promptTemplates": [{"name": "greeting", "content": "Hello ${who}"}],
    }
    if owner_id is not None:
        entry["ownerId"] = owner_id
    return {"workspaces": [entry]}


def refused(admin: Client, document: dict[str, Any], owner_id: str) -> None:
    changes = stack.plan(admin, stack.parse(document))
    with pytest.raises(stack.ApplyError) as caught:
        stack.apply(admin, changes)
    assert caught.value.done == 0
    assert isinstance(caught.value.cause, FailedPrecondition)
    assert f"owned by principal {owner_id}" in str(caught.value)
    assert "ownerId" in str(caught.value)


def converges(admin: Client, document: dict[str, Any]) -> None:
    declared = stack.parse(document)
    stack.apply(admin, stack.plan(admin, declared))
    assert stack.plan(admin, declared).changes == []


async def test_an_admin_applies_into_a_members_namespace_and_workspace_only_naming_its_owner(
    app: FastAPI, client: httpx.AsyncClient, live_url: str
) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    bob_id, _ = await new_member(client, "bob")
    async with acting_as(app, alice_token) as alice:
        assert (await alice.put("/v1/configs/cn/service/alices/k", json={"value": "v"})).is_success
        assert (
            await alice.post("/v1/workspaces", json={"workspaceId": WS, "name": "w"})
        ).is_success
        created = await alice.post(
            f"/v1/workspaces/{WS}/prompt-templates", json={"name": "greeting", "content": "Hi"}
        )
        assert created.is_success, created.text

    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            refused(admin, configs(), alice_id)
            refused(admin, workspaces(), alice_id)
            assert admin.configs.get_namespace("cn", "alices").values == {"k": "v"}
            assert [t.content for t in admin.prompts.iter(WS)] == ["Hi"]

            for document, place in (
                (configs(bob_id), "configs"),
                (workspaces(bob_id), "workspaces"),
            ):
                with pytest.raises(stack.StackError) as wrong:
                    stack.plan(admin, stack.parse(document))
                assert str(wrong.value).startswith(f"{place}[0].ownerId: ")
                assert alice_id in str(wrong.value)

            converges(admin, configs(alice_id))
            converges(admin, workspaces(alice_id))
            assert admin.configs.get_namespace("cn", "alices").values == {"k": "admin's"}
            assert [t.content for t in admin.prompts.iter(WS)] == ["Hello ${who}"]

            # What does not exist yet is created owned by the ownerId declared.
            converges(admin, {**configs(alice_id, "new-svc"), **workspaces(alice_id, "new-ws")})
            owners = {(n.cluster, n.name): n.owner_id for n in admin.configs.namespaces()}
            assert owners[("cn", "new-svc")] == alice_id
            assert admin.workspaces.get("new-ws").owner_id == alice_id

    await asyncio.to_thread(scenario)
