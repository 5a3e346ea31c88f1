"""The official `openai` and `anthropic` SDKs, unchanged, with a key limited to some models:
a model outside its scope raises their 403 error, and the model list holds only its own."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.support.gateway_calls import connection
from tests.support.upstreams import FixtureUpstream

ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]


async def scoped_token(client: httpx.AsyncClient, models: list[str]) -> str:
    principals = (await client.get("/v1/principals")).json()["principals"]
    [admin] = [p["principalId"] for p in principals if p["name"] == "bootstrap-admin"]
    issued = await client.post(
        f"/v1/principals/{admin}/api-keys", json={"gatewayOnly": True, "models": models}
    )
    assert issued.status_code == 201, issued.text
    token: str = issued.json()["token"]
    return token


async def test_the_openai_sdk_gets_403_outside_the_keys_models_and_lists_only_its_own(
    client: httpx.AsyncClient, gateway_url: str, upstream: FixtureUpstream
) -> None:
    allowed = await connection(client, upstream.base(), "scoped-allowed")
    await connection(client, upstream.base(), "scoped-other")
    token = await scoped_token(client, ["scoped-allowed"])
    async with openai.AsyncOpenAI(
        base_url=f"{gateway_url}/openai/v1", api_key=token, max_retries=0
    ) as app:
        answer = await app.chat.completions.create(model="scoped-allowed", messages=ASK)
        assert answer.choices[0].message.content == "Hello from the fixture upstream."
        with pytest.raises(openai.PermissionDeniedError) as refused:
            await app.chat.completions.create(model="scoped-other", messages=ASK)
        assert refused.value.status_code == 403
        assert "may not call model 'scoped-other'" in refused.value.message
        with pytest.raises(openai.PermissionDeniedError):
            await app.embeddings.create(model=allowed, input="hello")  # listed by name only
        assert [m.id async for m in app.models.list()] == ["scoped-allowed"]
        with pytest.raises(openai.PermissionDeniedError):
            await app.models.retrieve("scoped-other")


async def test_the_anthropic_sdk_gets_its_403_outside_the_keys_models(
    client: httpx.AsyncClient, gateway_url: str, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "scoped-claude", apiPath="/messages")
    await connection(client, upstream.base(), "scoped-claude-ok", apiPath="/messages")
    token = await scoped_token(client, ["scoped-claude-ok"])
    async with anthropic.AsyncAnthropic(
        base_url=f"{gateway_url}/anthropic", api_key=token, max_retries=0
    ) as app:
        answer = await app.messages.create(
            model="scoped-claude-ok", max_tokens=16, messages=[{"role": "user", "content": "Hi"}]
        )
        assert answer.content
        with pytest.raises(anthropic.PermissionDeniedError) as refused:
            await app.messages.create(
                model="scoped-claude", max_tokens=16, messages=[{"role": "user", "content": "Hi"}]
            )
        assert refused.value.status_code == 403
