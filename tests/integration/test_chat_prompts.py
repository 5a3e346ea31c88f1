"""Chat prompts and a version's config, on SQLite and PostgreSQL: a template may hold
messages whose `${var}`s a render fills, a version may carry a config read with it, and
the bailian face shows a chat template's messages as its `content`."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from modelplane.domain.chat_prompts import ChatMessage
from modelplane.services import prompts, workspaces
from tests.integration.test_bailian_face import WS, item, keys_for, new_member
from tests.integration.test_prompts_api import fields, make_workspace
from tests.support.roa import RoaClient

MESSAGES = [
    {"role": "system", "content": "You are a ${tone} assistant."},
    {"role": "user", "content": "Summarise ${topic} for ${audience}."},
]
CONFIG = {"model": "gpt-4o-mini", "temperature": 0.2, "response_format": {"type": "json_object"}}


async def chat_template(client: httpx.AsyncClient, ws: str, **body: Any) -> dict[str, Any]:
    created = await client.post(
        f"/v1/workspaces/{ws}/prompt-templates",
        json={"name": "summary", "messages": MESSAGES, "config": CONFIG, **body},
    )
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def test_a_chat_template_renders_its_messages_and_hands_out_its_config(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    created = await chat_template(client, ws)
    assert (created["kind"], created["messages"], created["config"]) == ("chat", MESSAGES, CONFIG)
    assert created["variables"] == ["tone", "topic", "audience"]
    assert created["content"] == (
        "system: You are a ${tone} assistant.\n\nuser: Summarise ${topic} for ${audience}."
    )
    url = f"/v1/workspaces/{ws}/prompt-templates/summary"
    assert (await client.get(url)).json() == created

    values = {"tone": "terse", "topic": "the report", "audience": "engineers"}
    rendered = await client.post(f"{url}:render", json={"variables": values})
    assert rendered.status_code == 200, rendered.text
    assert rendered.json()["messages"] == [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Summarise the report for engineers."},
    ]
    assert rendered.json()["config"] == CONFIG
    missing = await client.post(f"{url}:render", json={"variables": {"tone": "terse"}})
    assert missing.status_code == 400
    assert fields(missing) == ["variables.topic", "variables.audience"]


async def test_versions_keep_their_messages_and_config_and_labels_serve_them(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    await chat_template(client, ws)
    url = f"/v1/workspaces/{ws}/prompt-templates/summary"
    longer = [*MESSAGES, {"role": "assistant", "content": "Sure."}]
    second = await client.patch(url, json={"messages": longer})
    assert second.status_code == 200, second.text
    assert (second.json()["messages"], second.json()["config"]) == (longer, CONFIG)
    cleared = await client.patch(url, json={"config": {}})
    assert (cleared.json()["version"], cleared.json()["config"]) == (3, None)
    as_text = await client.patch(url, json={"content": "Plain ${x}"})
    assert (as_text.json()["kind"], as_text.json()["messages"]) == ("text", None)
    same = await client.patch(url, json={"content": "Plain ${x}"})
    assert same.json()["version"] == 4  # nothing changed: no version

    assert (await client.put(f"{url}/labels/production", json={"version": 1})).is_success
    served = await client.post(
        f"{url}:render",
        json={"label": "production", "variables": {"tone": "t", "topic": "p", "audience": "a"}},
    )
    assert served.json()["version"] == 1 and served.json()["config"] == CONFIG
    assert len(served.json()["messages"]) == 2
    versions = (await client.get(f"{url}/versions")).json()["versions"]
    assert [v["kind"] for v in versions] == ["chat", "chat", "chat", "text"]
    assert [len(v["messages"] or ()) for v in versions] == [2, 3, 3, 0]
    assert [v["config"] is not None for v in versions] == [True, True, False, False]


async def test_bad_messages_and_configs_are_400_naming_the_field_and_store_nothing(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    templates = f"/v1/workspaces/{ws}/prompt-templates"
    for body, field in (
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
        ({"messages": [{"role": "user"}]}, "messages.0.content"),
        ({"messages": [{"role": "user", "content": "x", "name": "n"}]}, "messages.0.name"),
        ({"messages": "hi"}, "messages"),
        ({"messages": MESSAGES, "content": "x"}, "messages"),
        ({"messages": MESSAGES, "config": {"temperature": 3}}, "config.temperature"),
        ({"content": "x", "config": {"max_tokens": 0}}, "config.max_tokens"),
        ({"content": "x", "config": [1]}, "config"),
    ):
        response = await client.post(templates, json={"name": "bad", **body})
        assert response.status_code == 400, (body, response.text)
        assert fields(response) == [field], (body, fields(response))
    assert (await client.get(templates)).json()["totalCount"] == 0


async def test_the_bailian_face_shows_a_chat_templates_messages_as_its_content(
    app: FastAPI,
) -> None:
    owner = await new_member(app, "chat-owner")
    store = app.state.store
    await workspaces.create_workspace(store=store, actor=owner, name="chat", workspace_id=WS)
    template = await prompts.create_prompt_template(
        store=store,
        actor=owner,
        workspace_id=WS,
        name="summary",
        messages=[ChatMessage(m["role"], m["content"]) for m in MESSAGES],
    )
    roa = RoaClient(app, *await keys_for(app, owner.principal_id), signer="acs3")
    got = await roa.ok("GET", item(template.prompt_template_id))
    assert got["content"] == template.content
    assert got["content"].startswith("system: You are a ${tone} assistant.\n\nuser: ")
    assert got["variables"] == ["tone", "topic", "audience"]
    # A bailian update of its content makes the next version a text template.
    await roa.ok("PATCH", item(template.prompt_template_id), {"content": "Now ${plain}"})
    current = await prompts.get_prompt_template(
        store=store, actor=owner, workspace_id=WS, template_id="summary"
    )
    assert (current.kind.value, current.version, current.messages) == ("text", 2, ())
    first = await prompts.get_prompt_template(
        store=store, actor=owner, workspace_id=WS, template_id="summary", version=1
    )
    assert first.kind.value == "chat" and len(first.messages) == 2
