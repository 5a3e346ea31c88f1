"""The SDK (`modelplane.client`) against the real app, on SQLite and PostgreSQL.

`AsyncClient` runs in process over `httpx.ASGITransport`; the sync `Client` talks to the
same app served by uvicorn on 127.0.0.1 and runs in a worker thread (`asyncio.to_thread`),
so the server keeps the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from modelplane.client import (
    AlreadyExists,
    AsyncClient,
    Client,
    ConfigNamespace,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from tests.conftest import ADMIN_TOKEN
from tests.support.in_process import served

BASE = "http://modelplane.test"
CREDENTIALS = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": "sk-sdk-secret"}}


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


async def watchers_become(app: FastAPI, count: int) -> None:
    """Wait until `count` watchers wait on the change feed."""
    for _ in range(500):
        if app.state.store.feed.watchers() == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"watchers: {app.state.store.feed.watchers()}, expected {count}")


async def test_llm_life_cycle(sdk: AsyncClient) -> None:
    created = await sdk.llms.create(
        "GPT-4 Turbo",
        "gpt-4-turbo-preview",
        provider_type="OPENAI",
        endpoint_url="https://api.openai.com/v1",
        credentials=CREDENTIALS,
        labels={"team": "ai"},
    )
    llm = created.llm
    assert (llm.display_name, llm.provider_type, llm.api_path) == (
        "GPT-4 Turbo",
        "OPENAI",
        "/chat/completions",
    )
    assert llm.has_credentials
    assert llm.labels == {"team": "ai"}

    with pytest.raises(AlreadyExists) as dup:
        await sdk.llms.create(
            "again",
            "gpt-4-turbo-preview",
            provider_type="OPENAI",
            endpoint_url="https://API.openai.com:443/v1/",
            credentials=CREDENTIALS,
        )
    assert dup.value.status_code == 409
    assert dup.value.request_id

    assert [x.llm_id for x in await sdk.llms.list(labels={"team": "ai"})] == [llm.llm_id]
    assert await sdk.llms.list(labels={"team": "other"}) == []
    assert await sdk.llms.get(llm.llm_id) == llm

    updated = await sdk.llms.update(llm.llm_id, display_name="Renamed", merge_labels={"x": "1"})
    assert updated.display_name == "Renamed"
    assert updated.labels == {"team": "ai", "x": "1"}
    assert updated.updated_at >= llm.updated_at

    await sdk.llms.delete(llm.llm_id)
    with pytest.raises(NotFound) as gone:
        await sdk.llms.get(llm.llm_id)
    assert gone.value.code == "NOT_FOUND"


async def test_an_inferred_model_reports_its_status(sdk: AsyncClient) -> None:
    created = await sdk.llms.create("4o", "gpt-4o", credentials=CREDENTIALS)
    assert created.llm.capabilities.supports_chat
    assert "LLM_CAPABILITY_INFERRED" in [s.code for s in created.statuses]


async def test_bad_input_names_the_field(sdk: AsyncClient) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await sdk.llms.create("x", "m", endpoint_url="ftp://nowhere", provider_type="OPENAI")
    assert caught.value.status_code == 400
    assert "endpointUrl" in [d.field for d in caught.value.details]


async def test_model_group_life_cycle_and_paging(sdk: AsyncClient) -> None:
    groups = [await sdk.model_groups.create(f"group {n}", description="d") for n in range(5)]
    assert all(g.model_template_id.startswith("mt-") for g in groups)

    page = await sdk.model_groups.list(page_number=2, page_size=2)
    assert (page.page_number, page.page_size, page.total_count) == (2, 2, 5)
    assert [g.name for g in page.model_groups] == ["group 2", "group 3"]

    walked = [g.model_template_id async for g in sdk.model_groups.iter(page_size=2)]
    assert walked == [g.model_template_id for g in groups]
    named = [g.name async for g in sdk.model_groups.iter(name="GROUP 4")]
    assert named == ["group 4"]

    first = groups[0].model_template_id
    assert (await sdk.model_groups.get(first)).name == "group 0"
    changed = await sdk.model_groups.update(first, name="renamed", description="new")
    assert (changed.name, changed.description) == ("renamed", "new")

    await sdk.model_groups.delete(first)
    with pytest.raises(NotFound):
        await sdk.model_groups.get(first)
    assert len([g async for g in sdk.model_groups.iter(page_size=3)]) == 4


async def test_a_model_is_changed_in_place_through_the_sdk(sdk: AsyncClient) -> None:
    group = await sdk.model_groups.create("changes")
    provider = await sdk.provider_templates.create(
        group.model_template_id, "Acme", "provider-acme", "Custom"
    )
    item = {"llmCode": "qwen-max", "name": "Qwen", "config": {"t": 1}, "isDefaultModel": True}
    (model_id,) = (
        await sdk.llm_templates.batch_create(provider.provider_template_id, [item])
    ).llm_template_ids

    changed = await sdk.llm_templates.update(
        model_id, name="Qwen Max", config={"cost": {"input": 1.6, "output": 6.4}}
    )
    assert (changed.llm_template_id, changed.llm_code, changed.is_default_model) == (
        model_id,
        "qwen-max",
        True,
    )
    assert (changed.name, changed.config) == ("Qwen Max", {"cost": {"input": 1.6, "output": 6.4}})
    assert (await sdk.llm_templates.update(model_id, config={})).config == {}
    assert (await sdk.llm_templates.get(model_id)).name == "Qwen Max"
    assert (await sdk.model_groups.get(group.model_template_id)).default_model == (
        "provider-acme/qwen-max"
    )
    with pytest.raises(InvalidArgument) as caught:
        await sdk.llm_templates.update(model_id, name="n" * 129)
    assert [d.field for d in caught.value.details] == ["name"]
    with pytest.raises(NotFound):
        await sdk.llm_templates.update("llmt-missing", name="x")


async def test_prompt_template_life_cycle_with_render(
    sdk: AsyncClient, client: httpx.AsyncClient
) -> None:
    created_ws = await client.post("/v1/workspaces", json={"name": "SDK"})
    assert created_ws.status_code == 201, created_ws.text
    ws = created_ws.json()["workspaceId"]

    template = await sdk.prompts.create(ws, "greeting", "Hello ${who}, from ${team}")
    assert template.variables == ("who", "team")
    assert template.version == 1
    others = [await sdk.prompts.create(ws, f"t{n}", f"text {n}") for n in range(3)]

    page = await sdk.prompts.list(ws, max_results=2)
    assert (len(page.prompt_templates), page.total_count) == (2, 4)
    assert page.next_token
    walked = [t.prompt_template_id async for t in sdk.prompts.iter(ws, max_results=2)]
    assert walked == [t.prompt_template_id for t in [template, *others]]

    tid = template.prompt_template_id
    rendered = await sdk.prompts.render(ws, tid, {"who": "Ada", "team": "ops", "extra": "1"})
    assert rendered.text == "Hello Ada, from ops"
    assert rendered.unused == ("extra",)

    with pytest.raises(InvalidArgument) as missing:
        await sdk.prompts.render(ws, tid, {"who": "Ada"})
    assert [d.field for d in missing.value.details] == ["variables.team"]
    partial = await sdk.prompts.render(ws, tid, {"who": "Ada"}, allow_partial=True)
    assert partial.missing == ("team",)

    updated = await sdk.prompts.update(ws, tid, content="Bye ${who}")
    assert (updated.version, updated.variables) == (2, ("who",))
    assert [v.version for v in await sdk.prompts.versions(ws, tid)] == [1, 2]
    assert (await sdk.prompts.get(ws, tid, version=1)).content == "Hello ${who}, from ${team}"
    old = await sdk.prompts.render(ws, tid, {"who": "A", "team": "B"}, version=1)
    assert old.text == "Hello A, from B"

    await sdk.prompts.delete(ws, tid)
    with pytest.raises(NotFound):
        await sdk.prompts.get(ws, tid)


async def test_system_templates_are_read_only(sdk: AsyncClient, client: httpx.AsyncClient) -> None:
    ws = (await client.post("/v1/workspaces", json={"name": "S"})).json()["workspaceId"]
    system = (await sdk.prompts.list(ws, type="System", max_results=1)).prompt_templates
    if not system:
        pytest.skip("no built-in templates")
    with pytest.raises(PermissionDenied):
        await sdk.prompts.delete(ws, system[0].prompt_template_id)


async def test_config_put_get_history_and_watch(app: FastAPI, sdk: AsyncClient) -> None:
    empty = await sdk.configs.get_namespace("cn-hangzhou", "svc")
    assert (empty.revision, empty.configs) == (0, ())

    watch = sdk.configs.watch("cn-hangzhou", "svc", timeout_seconds=10)
    assert isinstance(watch, AsyncGenerator)  # closed at the end
    first = asyncio.ensure_future(anext(watch))
    await watchers_become(app, 1)
    put = await sdk.configs.put("cn-hangzhou", "svc", "model/name", "qwen-max")
    seen = await asyncio.wait_for(first, 10)
    assert isinstance(seen, ConfigNamespace)
    assert seen.revision == put.revision
    assert seen.values == {"model/name": "qwen-max"}

    second = asyncio.ensure_future(anext(watch))
    await watchers_become(app, 1)
    await sdk.configs.put("cn-hangzhou", "svc", "temperature", "0.2")
    assert (await asyncio.wait_for(second, 10)).values == {
        "model/name": "qwen-max",
        "temperature": "0.2",
    }
    await watch.aclose()

    assert (await sdk.configs.get("cn-hangzhou", "svc", "model/name")).value == "qwen-max"
    await sdk.configs.put("cn-hangzhou", "svc", "model/name", "qwen-plus")
    key_history = await sdk.configs.history("cn-hangzhou", "svc", "model/name")
    assert [c.value for c in key_history] == ["qwen-plus", "qwen-max"]
    assert len(await sdk.configs.history("cn-hangzhou", "svc", limit=2)) == 2

    await sdk.configs.delete("cn-hangzhou", "svc", "temperature")
    with pytest.raises(NotFound):
        await sdk.configs.get("cn-hangzhou", "svc", "temperature")
    assert (await sdk.configs.history("cn-hangzhou", "svc"))[0].kind.lower() == "delete"


async def test_a_wrong_key_is_unauthenticated(app: FastAPI) -> None:
    async with AsyncClient(
        BASE, "mp_not_a_key_000000000000", transport=httpx.ASGITransport(app=app)
    ) as anonymous:
        with pytest.raises(Unauthenticated) as caught:
            await anonymous.llms.list()
    assert caught.value.status_code == 401


async def test_sync_client_against_a_live_server(live_url: str) -> None:
    def scenario() -> tuple[list[str], list[int], str, int]:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            created = [client.model_groups.create(f"g{n}").model_template_id for n in range(3)]
            walked = [g.model_template_id for g in client.model_groups.iter(page_size=2)]
            assert walked == created
            client.configs.put("cn-hangzhou", "svc", "k", "v1")
            revisions = []
            for ns in client.configs.watch("cn-hangzhou", "svc", timeout_seconds=1):
                revisions.append(ns.revision)
                if len(revisions) == 1:
                    client.configs.put("cn-hangzhou", "svc", "k", "v2")
                else:
                    break
            value = client.configs.get("cn-hangzhou", "svc", "k").value
            try:
                client.llms.get("00000000-0000-0000-0000-000000000000")
            except NotFound as error:
                status = error.status_code or 0
            return walked, revisions, value, status

    walked, revisions, value, status = await asyncio.to_thread(scenario)
    assert len(walked) == 3
    assert revisions == [1, 2]
    assert value == "v2"
    assert status == 404


async def test_labels_are_moved_read_and_rendered_through_the_sdk(
    sdk: AsyncClient, client: httpx.AsyncClient
) -> None:
    ws = (await client.post("/v1/workspaces", json={"name": "L"})).json()["workspaceId"]
    await sdk.prompts.create(ws, "greeting", "v1 ${who}")
    await sdk.prompts.update(ws, "greeting", content="v2 ${who}")
    moved = await sdk.prompts.set_label(ws, "greeting", "production", version=1)
    assert (moved.version, moved.previous_version, moved.moved) == (1, None, True)
    got = await sdk.prompts.get(ws, "greeting", label="production")
    assert (got.version, got.labels) == (1, ("production",))
    rendered = await sdk.prompts.render(ws, "greeting", {"who": "Bo"}, label="production")
    assert rendered.text == "v1 Bo"
    labels = await sdk.prompts.labels(ws, "greeting")
    assert [(x.label, x.version) for x in labels] == [("latest", 2), ("production", 1)]
    await sdk.prompts.set_label(ws, "greeting", "production", version=2)
    history = [m async for m in sdk.prompts.iter_label_history(ws, "greeting", max_results=1)]
    assert [(m.from_version, m.to_version) for m in history] == [(1, 2), (None, 1)]
    diff = await sdk.prompts.diff(ws, "greeting", 1, "production")
    assert diff.from_.version == 1 and diff.to.labels == ("latest", "production")
    assert diff.diff.splitlines()[3:] == [
        "-v1 ${who}",
        "\\ No newline at end of file",
        "+v2 ${who}",
        "\\ No newline at end of file",
    ]
    removed = await sdk.prompts.remove_label(ws, "greeting", "production")
    assert removed.version == 2
    with pytest.raises(NotFound):
        await sdk.prompts.get(ws, "greeting", label="production")
    with pytest.raises(InvalidArgument):
        await sdk.prompts.set_label(ws, "greeting", "latest", version=1)


async def test_a_chat_template_is_created_and_rendered_through_the_sdk(
    sdk: AsyncClient, client: httpx.AsyncClient
) -> None:
    ws = (await client.post("/v1/workspaces", json={"name": "C"})).json()["workspaceId"]
    messages = [
        {"role": "system", "content": "Answer in ${language}."},
        {"role": "user", "content": "${question}"},
    ]
    created = await sdk.prompts.create(
        ws, "qa", messages=messages, config={"model": "gpt-4o-mini", "temperature": 0}
    )
    assert created.kind == "chat" and created.messages is not None
    assert [m.role for m in created.messages] == ["system", "user"]
    rendered = await sdk.prompts.render(ws, "qa", {"language": "Welsh", "question": "Why?"})
    assert rendered.chat_messages() == [
        {"role": "system", "content": "Answer in Welsh."},
        {"role": "user", "content": "Why?"},
    ]
    assert rendered.config == {"model": "gpt-4o-mini", "temperature": 0}
    updated = await sdk.prompts.update(ws, "qa", config={})
    assert (updated.version, updated.config) == (2, None)
    text = await sdk.prompts.create(ws, "plain", "Hi ${who}")
    assert text.kind == "text" and text.messages is None
    plain = await sdk.prompts.render(ws, "plain", {"who": "Al"})
    assert plain.chat_messages() == [{"role": "user", "content": "Hi Al"}]
    with pytest.raises(InvalidArgument) as caught:
        await sdk.prompts.create(ws, "bad", messages=[{"role": "robot", "content": "x"}])
    assert [d.field for d in caught.value.details] == ["messages.0.role"]


async def test_templates_are_reached_by_name_and_a_taken_name_raises_already_exists(
    sdk: AsyncClient, client: httpx.AsyncClient
) -> None:
    ws = (await client.post("/v1/workspaces", json={"name": "N"})).json()["workspaceId"]
    slashed = await sdk.prompts.create(ws, "team/greeting", "Hi")
    with pytest.raises(NotFound):  # a path cannot hold `/` in one segment: reached by id
        await sdk.prompts.get(ws, "team/greeting")
    assert (await sdk.prompts.get(ws, slashed.prompt_template_id)).name == "team/greeting"
    template = await sdk.prompts.create(ws, "客服 greeting", "Hi ${who}")
    with pytest.raises(AlreadyExists):
        await sdk.prompts.create(ws, "客服 greeting", "again")
    got = await sdk.prompts.get(ws, "客服 greeting")
    assert got.prompt_template_id == template.prompt_template_id
    assert (await sdk.prompts.render(ws, "客服 greeting", {"who": "Bo"})).text == "Hi Bo"
    await sdk.prompts.delete(ws, "客服 greeting")
    with pytest.raises(NotFound):
        await sdk.prompts.get(ws, template.prompt_template_id)
