"""Prompt template use cases on SQLite and PostgreSQL: versions under concurrency, access."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from modelplane.domain.errors import NotFound, PermissionDenied
from modelplane.services import principals, prompts, workspaces
from tests.integration.test_catalog_services import admin_of


async def test_concurrent_updates_each_become_a_version(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    workspace = await workspaces.create_workspace(store=store, actor=admin, name="ws")
    ws = workspace.workspace_id
    created = await prompts.create_prompt_template(
        store=store, actor=admin, workspace_id=ws, name="t", content="v1 ${a}"
    )
    template_id = created.prompt_template_id

    async def update(n: int) -> int:
        changed = await prompts.update_prompt_template(
            store=store, actor=admin, workspace_id=ws, template_id=template_id, content=f"u{n}"
        )
        return changed.version

    versions = await asyncio.gather(*(update(n) for n in range(10)))
    assert sorted(versions) == list(range(2, 12))
    history = await prompts.list_versions(
        store=store, actor=admin, workspace_id=ws, template_id=template_id
    )
    assert [v.version for v in history] == list(range(1, 12))
    assert history[0].content == "v1 ${a}" and history[0].variables == ("a",)
    current = await prompts.get_prompt_template(
        store=store, actor=admin, workspace_id=ws, template_id=template_id
    )
    assert current.version == 11 and current.content == history[-1].content
    first = await prompts.get_prompt_template(
        store=store, actor=admin, workspace_id=ws, template_id=template_id, version=1
    )
    assert first.content == "v1 ${a}"


async def test_only_owner_members_and_admins_reach_a_workspace(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    alice = await principals.create_principal(store=store, actor=admin, name="a", role="member")
    bob = await principals.create_principal(store=store, actor=admin, name="b", role="member")
    workspace = await workspaces.create_workspace(
        store=store, actor=alice, name="alice's", workspace_id="llm-alice0001"
    )
    ws = workspace.workspace_id
    created = await prompts.create_prompt_template(
        store=store, actor=alice, workspace_id=ws, name="t", content="${x}"
    )
    with pytest.raises(NotFound):
        await prompts.get_prompt_template(
            store=store, actor=bob, workspace_id=ws, template_id=created.prompt_template_id
        )
    with pytest.raises(NotFound):
        await prompts.create_prompt_template(
            store=store, actor=bob, workspace_id=ws, name="t", content="c"
        )
    await workspaces.add_member(
        store=store, actor=alice, workspace_id=ws, principal_id=bob.principal_id
    )
    got = await prompts.get_prompt_template(
        store=store, actor=bob, workspace_id=ws, template_id=created.prompt_template_id
    )
    assert got == created
    with pytest.raises(PermissionDenied):
        await workspaces.delete_workspace(store=store, actor=bob, workspace_id=ws)
    assert [w.workspace_id for w in await workspaces.list_workspaces(store=store, actor=bob)] == [
        ws
    ]
    await workspaces.remove_member(
        store=store, actor=admin, workspace_id=ws, principal_id=bob.principal_id
    )
    with pytest.raises(NotFound):
        await prompts.get_prompt_template(
            store=store, actor=bob, workspace_id=ws, template_id=created.prompt_template_id
        )
    await workspaces.delete_workspace(store=store, actor=alice, workspace_id=ws)
    with pytest.raises(NotFound):
        await workspaces.get_workspace(store=store, actor=admin, workspace_id=ws)


async def test_an_update_that_changes_nothing_writes_no_version(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    ws = (await workspaces.create_workspace(store=store, actor=admin, name="ws")).workspace_id
    created = await prompts.create_prompt_template(
        store=store, actor=admin, workspace_id=ws, name="t", content="c"
    )
    template_id = created.prompt_template_id
    for name, content in ((None, None), ("t", None), (None, "c"), ("t", "c")):
        same = await prompts.update_prompt_template(
            store=store,
            actor=admin,
            workspace_id=ws,
            template_id=template_id,
            name=name,
            content=content,
        )
        assert same == created
    history = await prompts.list_versions(
        store=store, actor=admin, workspace_id=ws, template_id=template_id
    )
    assert [v.version for v in history] == [1]
