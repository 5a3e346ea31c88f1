"""A runtime's model config through the gateway, used as a runtime would: the official
`openai` SDK, unchanged, takes the handed base URL and key and calls the group's models,
and the same key is refused a model outside the group and the management API."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.support.gateway_calls import connection, gateway_settings
from tests.support.upstreams import FixtureUpstream

HELLO = "Hello from the fixture upstream."
ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
PROVIDER_KEY = "sk-runtime-provider-0123456789"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url)


async def group_bound_to(admin: httpx.AsyncClient, upstream: FixtureUpstream, runtime: str) -> str:
    group = await admin.post("/v1/model-groups", json={"name": "runtime-models"})
    group_id: str = group.json()["modelTemplateId"]
    provider = await admin.post(
        "/v1/provider-templates",
        json={
            "modelTemplateId": group_id,
            "name": "upstream",
            "providerName": "provider-upstream",
            "providerType": "Custom",
            "config": {"baseUrl": upstream.base("ok-runtime"), "apiKey": PROVIDER_KEY},
        },
    )
    assert provider.status_code == 201, provider.text
    items = [{"llmCode": "code-a", "isDefaultModel": True}, {"llmCode": "code-b"}]
    made = await admin.post(
        "/v1/llm-templates:batchCreate",
        json={"providerTemplateId": provider.json()["providerTemplateId"], "items": items},
    )
    assert made.status_code in (200, 201), made.text
    bound = await admin.post(
        f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": [runtime]}
    )
    assert bound.json()["results"][0]["success"] is True, bound.text
    return group_id


async def test_the_openai_sdk_calls_the_group_with_the_handed_url_and_key_and_nothing_else(
    gateway_url: str, upstream: FixtureUpstream
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, headers={"x-api-key": ADMIN_TOKEN}) as admin:
        group_id = await group_bound_to(admin, upstream, "jvs-runtime-1")
        await connection(admin, upstream.base("ok-outside"), "outside-model")
        answer = await admin.get("/v1/runtimes/Default/jvs-runtime-1/model-config?gateway=true")
        assert answer.status_code == 200, answer.text
        assert PROVIDER_KEY not in answer.text
        gateway = answer.json()["gateway"]
    assert gateway["baseUrl"] == f"{gateway_url}/openai/v1"

    async with openai.AsyncOpenAI(
        base_url=gateway["baseUrl"], api_key=gateway["apiKey"], max_retries=0
    ) as runtime:
        raw = await runtime.chat.completions.with_raw_response.create(
            model=gateway["defaultModel"], messages=ASK
        )
        assert raw.parse().choices[0].message.content == HELLO
        assert raw.headers["x-modelplane-target"] == f"{group_id}/provider-upstream/code-a"
        other = gateway["models"][1]["model"]
        assert other == f"{group_id}/provider-upstream/code-b"
        called = await runtime.chat.completions.create(model=other, messages=ASK)
        assert called.choices[0].message.content == HELLO
        seen = upstream.requests_to("ok-runtime")
        assert [s.body["model"] for s in seen] == ["code-a", "code-b"]
        assert {s.headers["authorization"] for s in seen} == {f"Bearer {PROVIDER_KEY}"}

        with pytest.raises(openai.PermissionDeniedError) as refused:
            await runtime.chat.completions.create(model="outside-model", messages=ASK)
        assert refused.value.status_code == 403
        assert "may not call model 'outside-model'" in refused.value.message
        assert upstream.requests_to("ok-outside") == []

    async with httpx.AsyncClient(base_url=gateway_url) as anyone:
        for path in ("/v1/llms", "/v1/runtimes/Default/jvs-runtime-1/model-config"):
            managed = await anyone.get(path, headers={"x-api-key": gateway["apiKey"]})
            assert managed.status_code == 403, managed.text
            assert "gatewayOnly" in managed.json()["message"]
