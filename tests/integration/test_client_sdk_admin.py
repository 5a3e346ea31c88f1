"""The SDK's admin and catalog groups against the real app, on SQLite and PostgreSQL:
`principals`, `workspaces`, `provider_templates`, `llm_templates`, `llms.credentials` /
`llms.verify_credentials` and `configs.namespaces`.

As in test_client_sdk.py, the sync `Client` talks to the app served by uvicorn on 127.0.0.1
from a worker thread (`asyncio.to_thread`, so the server keeps the event loop); the
`AsyncClient` runs in process over `httpx.ASGITransport`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import modelplane.client as sdk_package
from modelplane.client import (
    AccessKey,
    AlreadyExists,
    ApiKey,
    AsyncClient,
    BatchResult,
    Client,
    FailedPrecondition,
    InvalidArgument,
    IssuedAccessKey,
    IssuedApiKey,
    LlmTemplate,
    LlmTemplatePage,
    NamespaceSummary,
    NotFound,
    PermissionDenied,
    Principal,
    ProviderConfig,
    ProviderTemplate,
    ProviderTemplatePage,
    RuntimeBindings,
    RuntimeModelConfig,
    SkippedItem,
    Unauthenticated,
    Workspace,
)
from tests.conftest import ADMIN_TOKEN
from tests.support.in_process import served

BASE = "http://modelplane.test"
SECRET = "sk-sdk-admin-SECRET-91b2"
PROVIDER_KEY = "sk-sdk-provider-KEY-5d0e"
CREDENTIALS = {
    "kind": "CREDENTIAL_KIND_API_KEY",
    "apiKey": {"inlineSecret": SECRET, "headerName": "X-Api-Key", "prefix": "Key "},
    "labels": {"rotation": "q3"},
}


@pytest.fixture
async def sdk(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """The async SDK, in process, as the bootstrap admin."""
    async with AsyncClient(BASE, ADMIN_TOKEN, transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    """`app` (its lifespan already running) served by uvicorn on 127.0.0.1."""
    async with served(app) as url:
        yield url


def oldest_first(items: Sequence[ProviderTemplate | LlmTemplate]) -> list[str]:
    """Ids in the lists' documented order: creation time, then id."""

    def key(item: ProviderTemplate | LlmTemplate) -> tuple[int, str]:
        if isinstance(item, ProviderTemplate):
            return item.created_at, item.provider_template_id
        return item.created_at, item.llm_template_id

    ordered = sorted(items, key=key)
    return [key(i)[1] for i in ordered]


def fields_of(error: InvalidArgument) -> list[str]:
    return [d.field for d in error.details]


# --- the package ----------------------------------------------------------------------------


def test_the_new_models_are_exported() -> None:
    names = [
        "AccessKey",
        "ApiKey",
        "BatchResult",
        "IssuedAccessKey",
        "IssuedApiKey",
        "LlmTemplate",
        "LlmTemplatePage",
        "NamespaceSummary",
        "Principal",
        "ProviderConfig",
        "ProviderTemplate",
        "ProviderTemplatePage",
        "SkippedItem",
        "Workspace",
    ]
    assert set(names) <= set(sdk_package.__all__)
    assert all(hasattr(sdk_package, name) for name in sdk_package.__all__)


# --- the sync client against a live server --------------------------------------------------


async def test_sync_principals_and_their_keys(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            created = admin.principals.create("sync-member")
            assert isinstance(created, Principal)
            assert (created.name, created.role) == ("sync-member", "member")
            pid = created.principal_id
            assert admin.principals.get(pid) == created
            everyone = admin.principals.list()
            assert (everyone[0].role, everyone[-1].principal_id) == ("admin", pid)
            second_admin = admin.principals.create("sync-admin", role="admin")
            assert second_admin.role == "admin"

            with pytest.raises(AlreadyExists) as dup:
                admin.principals.create("sync-member")
            assert dup.value.status_code == 409
            with pytest.raises(InvalidArgument) as bad_role:
                admin.principals.create("x", role="root")
            assert fields_of(bad_role.value) == ["role"]

            issued = admin.principals.issue_api_key(pid, label="ci")
            assert isinstance(issued, IssuedApiKey)
            assert isinstance(issued.api_key, ApiKey)
            assert (issued.api_key.principal_id, issued.api_key.label) == (pid, "ci")
            assert issued.token.startswith(issued.api_key.key_prefix)
            assert issued.api_key.revoked_at is None
            unlabelled = admin.principals.issue_api_key(pid)
            assert unlabelled.api_key.label is None
            listed = admin.principals.list_api_keys(pid)
            assert [k.api_key_id for k in listed] == [
                issued.api_key.api_key_id,
                unlabelled.api_key.api_key_id,
            ]
            assert all(isinstance(k, ApiKey) for k in listed)

            with Client(live_url, issued.token, timeout=10) as member:
                assert member.workspaces.list() == []
                with pytest.raises(PermissionDenied) as denied:
                    member.principals.list()
                assert denied.value.status_code == 403
                revoked = admin.principals.revoke_api_key(pid, issued.api_key.api_key_id)
                assert revoked.api_key_id == issued.api_key.api_key_id
                assert revoked.revoked_at is not None
                with pytest.raises(Unauthenticated):
                    member.workspaces.list()

            pair = admin.principals.issue_access_key(pid, label="rpc")
            assert isinstance(pair, IssuedAccessKey)
            assert pair.principal_id == pid
            assert pair.access_key_secret
            pairs = admin.principals.list_access_keys(pid)
            assert [p.access_key_id for p in pairs] == [pair.access_key_id]
            assert all(type(p) is AccessKey for p in pairs), "secrets are shown only once"
            gone = admin.principals.revoke_access_key(pid, pair.access_key_id)
            assert isinstance(gone, AccessKey)
            assert gone.revoked_at is not None
            assert admin.principals.list_access_keys(pid)[0].revoked_at == gone.revoked_at

            admin.principals.delete(pid)
            with pytest.raises(NotFound):
                admin.principals.get(pid)
            with pytest.raises(NotFound):
                admin.principals.list_api_keys(pid)
            admin.principals.delete(second_admin.principal_id)
            with pytest.raises(FailedPrecondition):
                admin.principals.delete(everyone[0].principal_id)  # the last admin

    await asyncio.to_thread(scenario)


async def test_sync_delete_refuses_an_owner_and_transfers_what_it_owns(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            owner = admin.principals.create("sync-owner").principal_id
            heir = admin.principals.create("sync-heir").principal_id
            token = admin.principals.issue_api_key(owner).token
            with Client(live_url, token, timeout=10) as as_owner:
                as_owner.workspaces.create("Owned", workspace_id="sync-owned")
            with pytest.raises(FailedPrecondition) as refused:
                admin.principals.delete(owner)
            assert refused.value.status_code == 412
            assert refused.value.message == (
                f"principal {owner} still owns 1 workspace; "
                "delete them or pass transferTo to hand them to another principal"
            )
            with pytest.raises(InvalidArgument) as unknown:
                admin.principals.delete(owner, transfer_to="00000000-0000-0000-0000-000000000000")
            assert fields_of(unknown.value) == ["transferTo"]
            admin.principals.delete(owner, transfer_to=heir)
            assert admin.workspaces.get("sync-owned").owner_id == heir
            with pytest.raises(NotFound):
                admin.principals.get(owner)

    await asyncio.to_thread(scenario)


async def test_sync_workspaces_and_members(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            member_id = admin.principals.create("ws-member").principal_id
            token = admin.principals.issue_api_key(member_id).token

            ws = admin.workspaces.create("Team", workspace_id="team-ws")
            assert isinstance(ws, Workspace)
            assert (ws.workspace_id, ws.name) == ("team-ws", "Team")
            generated = admin.workspaces.create("Generated")
            assert generated.workspace_id != "team-ws"
            assert [w.workspace_id for w in admin.workspaces.list()] == [
                "team-ws",
                generated.workspace_id,
            ]
            with pytest.raises(AlreadyExists):
                admin.workspaces.create("Again", workspace_id="team-ws")
            with pytest.raises(InvalidArgument) as bad_id:
                admin.workspaces.create("Bad", workspace_id="Not An Id")
            assert fields_of(bad_id.value) == ["workspaceId"]

            renamed = admin.workspaces.rename("team-ws", "Platform")
            assert renamed == ws.model_copy(update={"name": "Platform"})
            assert admin.workspaces.get("team-ws").name == "Platform"
            with pytest.raises(InvalidArgument) as bad_name:
                admin.workspaces.rename("team-ws", " ")
            assert fields_of(bad_name.value) == ["name"]

            assert admin.workspaces.members("team-ws") == []
            added = admin.workspaces.add_member("team-ws", member_id)
            assert (added.principal_id, added.role) == (member_id, "reader")
            assert admin.workspaces.members("team-ws") == [added]
            editor = admin.workspaces.add_member("team-ws", member_id, role="editor")
            assert editor == added.model_copy(update={"role": "editor"})
            assert admin.workspaces.members("team-ws") == [editor]
            with pytest.raises(InvalidArgument) as bad_role:
                admin.workspaces.add_member("team-ws", member_id, role="owner")
            assert fields_of(bad_role.value) == ["role"]
            with Client(live_url, token, timeout=10) as member:
                assert [w.workspace_id for w in member.workspaces.list()] == ["team-ws"]
                assert member.workspaces.get("team-ws").name == "Platform"
                with pytest.raises(PermissionDenied):
                    member.workspaces.rename("team-ws", "Mine")
                with pytest.raises(NotFound):
                    member.workspaces.rename(generated.workspace_id, "Mine")
                admin.workspaces.remove_member("team-ws", member_id)
                with pytest.raises(NotFound):
                    member.workspaces.get("team-ws")
            assert admin.workspaces.members("team-ws") == []
            with pytest.raises(NotFound):
                admin.workspaces.remove_member("team-ws", member_id)

            admin.workspaces.delete("team-ws")
            with pytest.raises(NotFound):
                admin.workspaces.get("team-ws")
            with pytest.raises(NotFound):
                admin.workspaces.rename("team-ws", "x")

    await asyncio.to_thread(scenario)


async def test_sync_provider_and_llm_templates_with_paging(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            group = admin.model_groups.create("catalog").model_template_id
            elsewhere = admin.model_groups.create("elsewhere").model_template_id
            admin.provider_templates.create(elsewhere, "Other", "provider-other", "Custom")

            made = [
                admin.provider_templates.create(
                    group,
                    f"Provider {n}",
                    f"provider-{n}",
                    "Custom",
                    config={"baseUrl": f"https://p{n}.test/v1", "api": "openai"},
                    description=f"number {n}",
                )
                for n in range(5)
            ]
            assert all(isinstance(p, ProviderTemplate) for p in made)
            expected = oldest_first(made)

            page = admin.provider_templates.list(model_template_id=group, page_size=2)
            assert isinstance(page, ProviderTemplatePage)
            assert (page.page_number, page.page_size, page.total_count) == (1, 2, 5)
            pages = [
                admin.provider_templates.list(
                    model_template_id=group, page_number=n, page_size=2
                ).provider_templates
                for n in (1, 2, 3, 4)
            ]
            assert [len(p) for p in pages] == [2, 2, 1, 0]
            flat = [p.provider_template_id for chunk in pages for p in chunk]
            assert flat == expected
            walked = admin.provider_templates.iter(model_template_id=group, page_size=2)
            assert [p.provider_template_id for p in walked] == expected
            assert len(list(admin.provider_templates.iter(page_size=2))) == 6
            named = admin.provider_templates.list(provider_name="provider-3")
            assert [p.provider_name for p in named.provider_templates] == ["provider-3"]

            with pytest.raises(AlreadyExists):
                admin.provider_templates.create(group, "Dup", "provider-0", "Custom")
            with pytest.raises(InvalidArgument) as bad_name:
                admin.provider_templates.create(group, "Bad", "acme", "Custom")
            assert fields_of(bad_name.value) == ["providerName"]

            first = made[0].provider_template_id
            got = admin.provider_templates.get(first)
            assert got == made[0]
            assert got.config == ProviderConfig(base_url="https://p0.test/v1", api="openai")
            assert got.has_api_key is False
            assert admin.provider_templates.verify_api_key(first, "") is True

            changed = admin.provider_templates.update(
                first, name="Renamed", config={"apiKey": PROVIDER_KEY}
            )
            assert (changed.name, changed.has_api_key) == ("Renamed", True)
            assert changed.description == "number 0"
            assert changed.config.base_url == "https://p0.test/v1"
            assert PROVIDER_KEY not in changed.model_dump_json()
            assert admin.provider_templates.verify_api_key(first, PROVIDER_KEY) is True
            assert admin.provider_templates.verify_api_key(first, PROVIDER_KEY + "x") is False
            assert admin.provider_templates.verify_api_key(first, "") is False

            items: list[dict[str, Any]] = [
                {"llmCode": f"model-{n}", "name": f"Model {n}", "isDefaultModel": n == 2}
                for n in range(5)
            ]
            result = admin.llm_templates.batch_create(first, [*items, {"llmCode": "model-1"}])
            assert isinstance(result, BatchResult)
            assert (result.success_count, result.total_count) == (5, 6)
            assert [s.llm_code for s in result.skipped_items] == ["model-1"]
            assert all(isinstance(s, SkippedItem) and s.reason for s in result.skipped_items)
            again = admin.llm_templates.batch_create(
                first, [{"llmCode": "model-0"}, {"llmCode": "model-5"}], model_template_id=group
            )
            assert (again.success_count, [s.llm_code for s in again.skipped_items]) == (
                1,
                ["model-0"],
            )
            with pytest.raises(InvalidArgument) as wrong_group:
                admin.llm_templates.batch_create(
                    first, [{"llmCode": "x"}], model_template_id=elsewhere
                )
            assert fields_of(wrong_group.value) == ["modelTemplateId"]

            created = [admin.llm_templates.get(i) for i in result.llm_template_ids]
            assert all(isinstance(t, LlmTemplate) for t in created)
            assert [t.llm_code for t in created] == [f"model-{n}" for n in range(5)]
            assert [t.is_default_model for t in created] == [False, False, True, False, False]
            assert created[2].provider_template_id == first
            assert created[2].model_template_id == group

            lpage = admin.llm_templates.list(provider_template_id=first, page_size=2)
            assert isinstance(lpage, LlmTemplatePage)
            assert (lpage.page_size, lpage.total_count) == (2, 6)
            every = [*created, admin.llm_templates.get(again.llm_template_ids[0])]
            walked_models = admin.llm_templates.iter(provider_template_id=first, page_size=2)
            assert [t.llm_template_id for t in walked_models] == oldest_first(every)
            in_group = admin.llm_templates.iter(model_template_id=group, page_size=4)
            assert len(list(in_group)) == 6
            coded = admin.llm_templates.list(llm_code="model-3").llm_templates
            assert [t.llm_code for t in coded] == ["model-3"]

            admin.llm_templates.delete(created[2].llm_template_id)
            with pytest.raises(NotFound):
                admin.llm_templates.get(created[2].llm_template_id)
            assert admin.model_groups.get(group).default_model is None

            admin.provider_templates.delete(first)
            with pytest.raises(NotFound):
                admin.provider_templates.get(first)
            with pytest.raises(NotFound):
                admin.llm_templates.get(created[0].llm_template_id)
            with pytest.raises(NotFound):
                admin.provider_templates.verify_api_key(first, PROVIDER_KEY)
            assert admin.provider_templates.list(model_template_id=group).total_count == 4

    await asyncio.to_thread(scenario)


async def test_sync_credentials_outline_and_namespaces(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            member_id = admin.principals.create("creds-member").principal_id
            token = admin.principals.issue_api_key(member_id).token
            llm = admin.llms.create(
                "Outline",
                "private-model",
                endpoint_url="https://x.test/v1",
                provider_type="OPENAI",
                credentials=CREDENTIALS,
            ).llm
            outline = admin.llms.credentials(llm.llm_id)
            assert outline == {
                "kind": "CREDENTIAL_KIND_API_KEY",
                "apiKey": {
                    "secretRef": None,
                    "hasInlineSecret": True,
                    "headerName": "X-Api-Key",
                    "prefix": "Key ",
                },
                "gcpAdc": None,
                "labels": {"rotation": "q3"},
            }
            assert admin.llms.verify_credentials(llm.llm_id, CREDENTIALS) is True
            relabelled = {**CREDENTIALS, "labels": {}}
            assert admin.llms.verify_credentials(llm.llm_id, relabelled) is True
            other_header = {
                "kind": "CREDENTIAL_KIND_API_KEY",
                "apiKey": {"inlineSecret": SECRET, "headerName": "Authorization", "prefix": "Key "},
            }
            assert admin.llms.verify_credentials(llm.llm_id, other_header) is False
            with pytest.raises(InvalidArgument) as bad:
                admin.llms.verify_credentials(
                    llm.llm_id, {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {}}
                )
            assert fields_of(bad.value) == ["credentials.apiKey"]

            bare = admin.llms.create(
                "Bare", "other-model", endpoint_url="https://x.test/v1", provider_type="OPENAI"
            ).llm
            assert admin.llms.credentials(bare.llm_id) is None

            assert admin.configs.namespaces() == []
            admin.configs.put("cn-shanghai", "svc", "k", "v")
            admin.configs.put("cn-hangzhou", "svc", "k", "v")
            with Client(live_url, token, timeout=10) as member:
                with pytest.raises(NotFound):
                    member.llms.credentials(llm.llm_id)
                with pytest.raises(NotFound):
                    member.llms.verify_credentials(llm.llm_id, CREDENTIALS)
                assert member.configs.namespaces() == []
                member.configs.put("ap-1", "mine", "k", "v")
                [own] = member.configs.namespaces()
                assert isinstance(own, NamespaceSummary)
                assert (own.cluster, own.config_type, own.name) == ("ap-1", "service", "mine")
                assert (own.owner_id, own.revision) == (member_id, 1)
            listed = admin.configs.namespaces()
            assert [(n.cluster, n.name) for n in listed] == [
                ("ap-1", "mine"),
                ("cn-hangzhou", "svc"),
                ("cn-shanghai", "svc"),
            ]
            assert all(n.created_at <= n.updated_at for n in listed)

    await asyncio.to_thread(scenario)


# --- the async client -----------------------------------------------------------------------


async def test_async_principals_and_workspaces(app: FastAPI, sdk: AsyncClient) -> None:
    member = await sdk.principals.create("async-member")
    assert await sdk.principals.get(member.principal_id) == member
    assert member in await sdk.principals.list()
    issued = await sdk.principals.issue_api_key(member.principal_id, label="async")
    assert [k.label for k in await sdk.principals.list_api_keys(member.principal_id)] == ["async"]
    pair = await sdk.principals.issue_access_key(member.principal_id)
    assert [
        p.access_key_id for p in await sdk.principals.list_access_keys(member.principal_id)
    ] == [pair.access_key_id]
    assert (
        await sdk.principals.revoke_access_key(member.principal_id, pair.access_key_id)
    ).revoked_at

    ws = await sdk.workspaces.create("Async", workspace_id="async-ws")
    assert (await sdk.workspaces.rename("async-ws", "Renamed")).name == "Renamed"
    assert (await sdk.workspaces.get("async-ws")).name == "Renamed"
    assert [w.workspace_id for w in await sdk.workspaces.list()] == [ws.workspace_id]
    added = await sdk.workspaces.add_member("async-ws", member.principal_id, role="editor")
    assert (added.principal_id, added.role) == (member.principal_id, "editor")
    assert await sdk.workspaces.members("async-ws") == [added]

    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(BASE, issued.token, transport=transport) as as_member:
        assert (await as_member.workspaces.get("async-ws")).name == "Renamed"
        with pytest.raises(PermissionDenied) as denied:
            await as_member.workspaces.rename("async-ws", "Mine")
        assert denied.value.code == "PERMISSION_DENIED"
        with pytest.raises(PermissionDenied):
            await as_member.principals.create("nope")
        await sdk.workspaces.remove_member("async-ws", member.principal_id)
        with pytest.raises(NotFound):
            await as_member.workspaces.rename("async-ws", "Mine")
        await sdk.principals.revoke_api_key(member.principal_id, issued.api_key.api_key_id)
        with pytest.raises(Unauthenticated):
            await as_member.workspaces.list()

    with pytest.raises(InvalidArgument) as bad:
        await sdk.workspaces.rename("async-ws", "")
    assert fields_of(bad.value) == ["name"]
    with pytest.raises(AlreadyExists):
        await sdk.principals.create("async-member")
    await sdk.workspaces.delete("async-ws")
    await sdk.principals.delete(member.principal_id)
    with pytest.raises(NotFound):
        await sdk.workspaces.get("async-ws")
    with pytest.raises(NotFound):
        await sdk.principals.get(member.principal_id)


async def test_async_delete_refuses_an_owner_and_transfers_what_it_owns(
    app: FastAPI, sdk: AsyncClient
) -> None:
    owner = (await sdk.principals.create("async-owner")).principal_id
    heir = (await sdk.principals.create("async-heir")).principal_id
    token = (await sdk.principals.issue_api_key(owner)).token
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(BASE, token, transport=transport) as as_owner:
        await as_owner.workspaces.create("Owned", workspace_id="async-owned")

    with pytest.raises(FailedPrecondition) as refused:
        await sdk.principals.delete(owner)
    assert refused.value.code == "FAILED_PRECONDITION"
    assert "still owns 1 workspace" in refused.value.message
    with pytest.raises(InvalidArgument) as bad:
        await sdk.principals.delete(owner, transfer_to=owner)
    assert fields_of(bad.value) == ["transferTo"]
    await sdk.principals.delete(owner, transfer_to=heir)
    assert (await sdk.workspaces.get("async-owned")).owner_id == heir
    with pytest.raises(NotFound):
        await sdk.principals.get(owner)


async def test_async_templates_page_after_page(sdk: AsyncClient) -> None:
    group = (await sdk.model_groups.create("async catalog")).model_template_id
    providers = [
        await sdk.provider_templates.create(group, f"P{n}", f"provider-{n}", "Custom")
        for n in range(5)
    ]
    page = await sdk.provider_templates.list(model_template_id=group, page_number=3, page_size=2)
    assert (len(page.provider_templates), page.total_count) == (1, 5)
    walked = [p.provider_template_id async for p in sdk.provider_templates.iter(page_size=2)]
    assert walked == oldest_first(providers)

    first = providers[0].provider_template_id
    assert (await sdk.provider_templates.get(first)) == providers[0]
    updated = await sdk.provider_templates.update(
        first, description="d", config={"apiKey": PROVIDER_KEY}
    )
    assert updated.description == "d"
    assert await sdk.provider_templates.verify_api_key(first, PROVIDER_KEY) is True
    assert await sdk.provider_templates.verify_api_key(first, "") is False
    with pytest.raises(AlreadyExists):
        await sdk.provider_templates.create(group, "Dup", "provider-1", "Custom")

    result = await sdk.llm_templates.batch_create(
        first, [{"llmCode": f"m{n}"} for n in range(5)], model_template_id=group
    )
    assert (result.success_count, result.skipped_items) == (5, ())
    lpage = await sdk.llm_templates.list(model_template_id=group, page_number=2, page_size=2)
    assert (len(lpage.llm_templates), lpage.total_count) == (2, 5)
    templates = [t async for t in sdk.llm_templates.iter(provider_template_id=first, page_size=2)]
    assert [t.llm_code for t in templates] == [f"m{n}" for n in range(5)]
    assert [t.llm_template_id for t in templates] == list(result.llm_template_ids)
    assert (await sdk.llm_templates.get(result.llm_template_ids[4])).llm_code == "m4"

    await sdk.llm_templates.delete(result.llm_template_ids[0])
    with pytest.raises(NotFound):
        await sdk.llm_templates.delete(result.llm_template_ids[0])
    await sdk.provider_templates.delete(first)
    with pytest.raises(NotFound) as gone:
        await sdk.provider_templates.verify_api_key(first, PROVIDER_KEY)
    assert gone.value.status_code == 404
    assert len([p async for p in sdk.provider_templates.iter(page_size=3)]) == 4


async def test_async_credentials_and_namespaces(sdk: AsyncClient) -> None:
    created = await sdk.llms.create(
        "Async outline",
        "private-model",
        endpoint_url="https://x.test/v1",
        provider_type="OPENAI",
        credentials={"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"secretRef": "env://KEY"}},
    )
    llm_id = created.llm.llm_id
    outline = await sdk.llms.credentials(llm_id)
    assert outline is not None
    assert outline["apiKey"]["secretRef"] == {"uri": "env://KEY", "hints": None}
    assert outline["apiKey"]["hasInlineSecret"] is False
    same = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"secretRef": {"uri": "env://KEY"}}}
    assert await sdk.llms.verify_credentials(llm_id, same) is True
    other = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"secretRef": "env://OTHER"}}
    assert await sdk.llms.verify_credentials(llm_id, other) is False
    with pytest.raises(InvalidArgument) as bad:
        await sdk.llms.verify_credentials(
            llm_id, {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"secretRef": "vault://x"}}
        )
    assert fields_of(bad.value) == ["credentials.apiKey.secretRef.uri"]
    with pytest.raises(NotFound):
        await sdk.llms.credentials("00000000-0000-0000-0000-000000000000")

    assert await sdk.configs.namespaces() == []
    await sdk.configs.put("cn-hangzhou", "b", "k", "1")
    await sdk.configs.put("cn-hangzhou", "a", "k", "1")
    await sdk.configs.put("cn-hangzhou", "a", "k", "2")
    listed = await sdk.configs.namespaces()
    assert [(n.name, n.revision) for n in listed] == [("a", 2), ("b", 1)]


async def test_async_owner_id_names_whose_namespace_or_workspace_is_written(
    app: FastAPI, sdk: AsyncClient
) -> None:
    alice = await sdk.principals.create("async-alice")
    token = (await sdk.principals.issue_api_key(alice.principal_id)).token
    owner = alice.principal_id
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(BASE, token, transport=transport) as as_alice:
        await as_alice.configs.put("cn", "alices", "k", "v")
        await as_alice.workspaces.create("Alice's", workspace_id="alices-ws")

    with pytest.raises(FailedPrecondition) as refused:
        await sdk.configs.put("cn", "alices", "k", "admin's")
    assert f"owned by principal {owner}" in refused.value.message
    assert (await sdk.configs.put("cn", "alices", "k", "admin's", owner_id=owner)).value == (
        "admin's"
    )
    with pytest.raises(FailedPrecondition):
        await sdk.configs.delete("cn", "alices", "k")
    await sdk.configs.delete("cn", "alices", "k", owner_id=owner)

    with pytest.raises(FailedPrecondition):
        await sdk.prompts.create("alices-ws", "t", "text")
    template = await sdk.prompts.create("alices-ws", "t", "text", owner_id=owner)
    tid = template.prompt_template_id
    with pytest.raises(FailedPrecondition):
        await sdk.prompts.update("alices-ws", tid, content="new")
    assert (await sdk.prompts.update("alices-ws", tid, content="new", owner_id=owner)).version == 2
    with pytest.raises(FailedPrecondition):
        await sdk.prompts.delete("alices-ws", tid)
    await sdk.prompts.delete("alices-ws", tid, owner_id=owner)

    made = await sdk.workspaces.create("For Alice", workspace_id="for-alice", owner_id=owner)
    assert made.owner_id == owner


# --- runtime bindings ------------------------------------------------------------------------


async def test_sync_runtimes_are_bound_read_moved_and_unbound(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            group = admin.model_groups.create("bound").model_template_id
            other = admin.model_groups.create("other").model_template_id
            provider = admin.provider_templates.create(group, "Acme", "provider-acme", "Custom")
            admin.llm_templates.batch_create(
                provider.provider_template_id, [{"llmCode": "m1", "isDefaultModel": True}]
            )
            bound = admin.model_groups.bind_runtimes(group, ["r/1", "r2", "r/1"])
            assert isinstance(bound, RuntimeBindings) and bound.total_count == 2
            assert [(b.runtime_id, b.success, b.code) for b in bound.results] == [
                ("r/1", True, "OK"),
                ("r2", True, "OK"),
            ]
            config = admin.model_groups.runtime_config("Default", "r/1")  # a / in the id
            assert isinstance(config, RuntimeModelConfig) and config.gateway is None
            assert (config.model_template_id, config.default_model) == (group, "provider-acme/m1")
            [offered] = config.providers
            assert [(m.llm_code, m.is_default_model) for m in offered.models] == [("m1", True)]

            moved = admin.model_groups.bind_runtimes(other, ["r2"])
            assert moved.results[0].success is True
            assert admin.model_groups.runtime_config("Default", "r2").model_template_id == other
            gone = admin.model_groups.unbind_runtimes(group, ["r2", "r/1"])
            assert [(b.code, b.http_status_code) for b in gone.results] == [
                ("NOT_FOUND", 404),
                ("OK", 200),
            ]
            with pytest.raises(NotFound):
                admin.model_groups.runtime_config("Default", "r/1")

    await asyncio.to_thread(scenario)


async def test_async_runtime_types_gateway_config_and_refusals(sdk: AsyncClient) -> None:
    group = (await sdk.model_groups.create("desktop runtimes")).model_template_id
    provider = await sdk.provider_templates.create(group, "Acme", "provider-acme", "Custom")
    await sdk.llm_templates.batch_create(provider.provider_template_id, [{"llmCode": "m1"}])
    bound = await sdk.model_groups.bind_runtimes(group, ["d1"], runtime_type="Desktop")
    assert [b.code for b in bound.results] == ["OK"]
    with pytest.raises(NotFound):
        await sdk.model_groups.runtime_config("Default", "d1")
    config = await sdk.model_groups.runtime_config("Desktop", "d1", gateway=True)
    assert config.gateway is not None and config.gateway.api_key.startswith("mp_")
    assert [m.model for m in config.gateway.models] == [f"{group}/provider-acme/m1"]

    with pytest.raises(InvalidArgument) as refused:
        await sdk.model_groups.bind_runtimes(group, [])
    assert fields_of(refused.value) == ["runtimeIds"]
    with pytest.raises(NotFound):
        await sdk.model_groups.bind_runtimes("mt-missing", ["d2"])
    with pytest.raises(NotFound):
        await sdk.model_groups.runtime_config("Desktop", "d2")
