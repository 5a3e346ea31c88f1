"""Prompt templates served at the gateway, through the official `openai` SDK (both stores):
the call names a template and its variables, the upstream gets the rendered messages and
the version's config, and the answer says which version served it."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI

from modelplane.settings import Settings
from tests.support.gateway_calls import connection, gateway_settings
from tests.support.upstreams import FixtureUpstream

MESSAGES = [
    {"role": "system", "content": "You are a ${tone} assistant."},
    {"role": "user", "content": "Summarise ${topic}."},
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url)


async def served_template(client: httpx.AsyncClient, model: str) -> tuple[str, str]:
    """A workspace and a chat template in it whose version 2 is `production`; their ids."""
    created = await client.post("/v1/workspaces", json={"name": "prompts-at-the-gateway"})
    assert created.status_code == 201, created.text
    ws = created.json()["workspaceId"]
    base = f"/v1/workspaces/{ws}/prompt-templates"
    first = await client.post(
        base, json={"name": "summary", "messages": MESSAGES, "config": {"model": model}}
    )
    assert first.status_code == 201, first.text
    second = await client.patch(
        f"{base}/summary",
        json={"messages": MESSAGES, "config": {"model": model, "temperature": 0.2}},
    )
    assert second.status_code == 200, second.text
    moved = await client.put(f"{base}/summary/labels/production", json={"version": 2})
    assert moved.status_code == 200, moved.text
    return ws, first.json()["promptTemplateId"]


async def test_a_call_naming_a_template_sends_its_rendered_messages_and_config(
    app: FastAPI,
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    upstream: FixtureUpstream,
) -> None:
    llm_id = await connection(client, upstream.base("ok"), "real-model-9")
    ws, template_id = await served_template(client, llm_id)
    prompt = {"id": f"{ws}/summary", "variables": {"tone": "terse", "topic": "the news"}}
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="",  # the version's config names it
        messages=[{"role": "user", "content": "In French."}],
        extra_body={"prompt": prompt},
    )
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-modelplane-prompt"] == f"{template_id}@2"
    (seen,) = upstream.requests_to("ok")
    sent: dict[str, Any] = seen.body
    assert sent["model"] == "real-model-9"
    assert sent["temperature"] == 0.2
    assert sent["messages"] == [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Summarise the news."},
        {"role": "user", "content": "In French."},
    ]
    assert "prompt" not in sent
    await app.state.usage.flush()
    records = (await client.get("/v1/usage/records")).json()["records"]
    assert [r["prompt"] for r in records] == [f"{template_id}@2"]  # the record names it too

    pinned = await openai_client.chat.completions.with_raw_response.create(
        model=llm_id, messages=[], extra_body={"prompt": {**prompt, "version": 1}}
    )
    assert pinned.headers["x-modelplane-prompt"] == f"{template_id}@1"
    assert "temperature" not in upstream.requests_to("ok")[-1].body


async def test_missing_variables_and_unknown_labels_are_clear_errors(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    llm_id = await connection(client, upstream.base("ok"), "real-model-9")
    ws, _ = await served_template(client, llm_id)
    with pytest.raises(openai.BadRequestError) as missing:
        await openai_client.chat.completions.create(
            model=llm_id,
            messages=[],
            extra_body={"prompt": {"id": f"{ws}/summary", "variables": {"tone": "dry"}}},
        )
    assert "prompt.variables: missing values for topic" in str(missing.value)
    with pytest.raises(openai.NotFoundError):
        await openai_client.chat.completions.create(
            model=llm_id,
            messages=[],
            extra_body={"prompt": {"id": f"{ws}/summary", "label": "staging"}},
        )
    assert upstream.requests_to("ok") == []
    completed = await openai_client.completions.create(model=llm_id, prompt="Say this is a test")
    assert completed.choices  # a completion's own `prompt` passes on as it is
    assert upstream.requests_to("ok")[-1].body["prompt"] == "Say this is a test"


async def test_a_response_takes_the_sdks_own_prompt_parameter(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    llm_id = await connection(client, upstream.base("ok"), "real-model-9")
    ws, template_id = await served_template(client, llm_id)
    raw = await openai_client.responses.with_raw_response.create(
        model="",
        prompt={"id": f"{ws}/summary", "variables": {"tone": "dry", "topic": "rain"}},
        input="In French.",
    )
    assert raw.parse().output_text
    assert raw.headers["x-modelplane-prompt"] == f"{template_id}@2"
    (seen,) = upstream.requests_to("ok")
    assert seen.body["input"] == [
        {"role": "system", "content": "You are a dry assistant."},
        {"role": "user", "content": "Summarise rain."},
        {"role": "user", "content": "In French."},
    ]
    assert (seen.body["model"], seen.body["temperature"]) == ("real-model-9", 0.2)
