"""The official `openai` and `anthropic` SDKs, unchanged, call models through the gateway:
every route, streamed and not, with the registry's model id, key and defaults upstream."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import openai
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam
from prometheus_client.parser import text_string_to_metric_families

from modelplane.app import create_app
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.gateway_calls import UPSTREAM_KEY, connection, gateway_settings, metric_lines
from tests.support.upstreams import FixtureUpstream

HELLO = "Hello from the fixture upstream."
ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
CLAUDE_ASK: list[MessageParam] = [{"role": "user", "content": "Say hello"}]


GATEWAY_BODY_LIMIT = 4 * 1024 * 1024


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url, gateway_max_body_bytes=GATEWAY_BODY_LIMIT)


async def test_chat_completion_reaches_the_upstream_with_the_stored_model_key_and_defaults(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    llm_id = await connection(
        client,
        upstream.base("ok-defaults"),
        "real-model-7",
        defaultSamplingParams={"temperature": 0.25, "maxTokens": 64},
    )
    raw = await openai_client.chat.completions.with_raw_response.create(model=llm_id, messages=ASK)
    answer = raw.parse()
    assert answer.choices[0].message.content == HELLO
    assert answer.choices[0].finish_reason == "stop"
    assert raw.headers["x-modelplane-target"] == f"llm/{llm_id}"
    assert raw.headers["x-modelplane-attempts"] == "1"
    assert 0 <= float(raw.headers["x-modelplane-overhead-ms"]) < 1000
    seen = upstream.requests_to("ok-defaults")[-1]
    assert seen.path == "/ok-defaults/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert ADMIN_TOKEN not in str(seen.headers)
    assert seen.body == {
        "model": "real-model-7",
        "messages": ASK,
        "temperature": 0.25,
        "max_tokens": 64,
    }

    await openai_client.chat.completions.create(model=llm_id, messages=ASK, temperature=1.5)
    assert upstream.requests_to("ok-defaults")[-1].body["temperature"] == 1.5


async def test_chat_stream_is_relayed_event_by_event_with_usage_counted(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "streamed-model")
    stream = await openai_client.chat.completions.create(
        model="streamed-model", messages=ASK, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == HELLO
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 13

    def counted(lines: list[str]) -> bool:
        return any('model="streamed-model"' in t and 'direction="output"' in t for t in lines)

    tokens = await metric_lines(client, "modelplane_gateway_tokens_total", counted)
    assert counted(tokens), tokens
    output = [t for t in tokens if 'model="streamed-model"' in t and 'direction="output"' in t]
    assert output[0].endswith(" 6"), output


async def test_completions_embeddings_and_responses_go_to_their_upstream_routes(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base("ok-routes"), "every-route")
    completion = await openai_client.completions.create(model="every-route", prompt="Say hello")
    assert completion.choices[0].text == HELLO
    embedding = await openai_client.embeddings.create(model="every-route", input="hello")
    assert embedding.data[0].embedding == [0.25, -0.5, 1.0]
    response = await openai_client.responses.create(model="every-route", input="Say hello")
    assert response.output_text == HELLO
    stream = await openai_client.responses.create(
        model="every-route", input="Say hello", stream=True
    )
    kinds = [event.type async for event in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    completions = await openai_client.completions.create(
        model="every-route", prompt="x", stream=True
    )
    assert "".join([c.choices[0].text async for c in completions]) == HELLO
    paths = [s.path.split("/v1", 1)[1] for s in upstream.requests_to("ok-routes")]
    assert paths == [
        "/completions",
        "/embeddings",
        "/responses",
        "/responses",
        "/completions",
    ]
    assert {s.body["model"] for s in upstream.requests_to("ok-routes")} == {"every-route"}


async def test_models_lists_every_usable_name_and_retrieves_one(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    llm_id = await connection(client, upstream.base(), "listed-model")
    names = [model.id async for model in openai_client.models.list()]
    assert "listed-model" in names and llm_id in names
    assert (await openai_client.models.retrieve("listed-model")).id == "listed-model"
    with pytest.raises(openai.NotFoundError) as missing:
        await openai_client.models.retrieve("no-such-model")
    assert missing.value.code == "model_not_found"


async def test_an_unknown_name_is_404_and_another_family_400_in_the_openai_shape(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        await openai_client.chat.completions.create(model="nothing-by-this-name", messages=ASK)
    assert missing.value.code == "model_not_found"
    assert "nothing-by-this-name" in missing.value.message
    await connection(client, upstream.url + "/ok/v1", "claude-like", apiPath="/messages")
    with pytest.raises(openai.BadRequestError) as other:
        await openai_client.chat.completions.create(model="claude-like", messages=ASK)
    assert "anthropic" in other.value.message.lower()
    assert upstream.requests_to("nothing-by-this-name") == []


async def test_a_member_reaches_only_the_models_it_may_read(
    client: httpx.AsyncClient, gateway_url: str, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base(), "admins-model")
    _, token = await new_member(client, "gateway-member")
    base = f"{gateway_url}/openai/v1"
    async with openai.AsyncOpenAI(base_url=base, api_key=token, max_retries=0) as member:
        with pytest.raises(openai.NotFoundError):
            await member.chat.completions.create(model="admins-model", messages=ASK)
        assert "admins-model" not in [m.id async for m in member.models.list()]
    async with openai.AsyncOpenAI(base_url=base, api_key="mp_nope", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            await stranger.chat.completions.create(model="admins-model", messages=ASK)


async def test_anthropic_sdk_calls_messages_streamed_and_not_with_its_x_api_key(
    client: httpx.AsyncClient, gateway_url: str, upstream: FixtureUpstream
) -> None:
    await connection(
        client, upstream.url + "/ok-anthropic/v1", "claude-fixture", apiPath="/messages"
    )
    async with anthropic.AsyncAnthropic(
        base_url=f"{gateway_url}/anthropic", api_key=ADMIN_TOKEN, max_retries=0
    ) as claude:
        await _messages_streamed_and_not(client, claude, upstream)


async def _messages_streamed_and_not(
    client: httpx.AsyncClient, claude: anthropic.AsyncAnthropic, upstream: FixtureUpstream
) -> None:
    message = await claude.messages.create(
        model="claude-fixture", max_tokens=16, messages=CLAUDE_ASK
    )
    assert message.content[0].type == "text" and message.content[0].text == HELLO
    async with claude.messages.stream(
        model="claude-fixture", max_tokens=16, messages=CLAUDE_ASK
    ) as stream:
        assert await stream.get_final_text() == HELLO
    seen = upstream.requests_to("ok-anthropic")
    assert [s.path for s in seen] == ["/ok-anthropic/v1/messages"] * 2
    assert seen[0].headers["x-api-key"] == UPSTREAM_KEY
    assert "authorization" not in seen[0].headers
    assert seen[0].headers["anthropic-version"]
    assert seen[0].body["model"] == "claude-fixture"

    await connection(client, upstream.base(), "openai-only")
    with pytest.raises(anthropic.BadRequestError):
        await claude.messages.create(model="openai-only", max_tokens=16, messages=CLAUDE_ASK)
    with pytest.raises(anthropic.NotFoundError):
        await claude.messages.create(model="missing-model", max_tokens=16, messages=CLAUDE_ASK)


async def test_group_names_pick_the_default_and_group_code_pairs_pool_the_providers(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    group = (await client.post("/v1/model-groups", json={"name": "team-models"})).json()
    group_id = group["modelTemplateId"]
    for name in ("provider-first", "provider-second"):
        provider = await client.post(
            "/v1/provider-templates",
            json={
                "modelTemplateId": group_id,
                "name": name,
                "providerName": name,
                "providerType": "Custom",
                "config": {"baseUrl": upstream.base(f"ok-{name[9:]}"), "apiKey": f"sk-{name}"},
            },
        )
        assert provider.status_code == 201, provider.text
        default = name == "provider-first"
        items: list[dict[str, Any]] = [{"llmCode": "shared-code", "isDefaultModel": default}]
        created = await client.post(
            "/v1/llm-templates:batchCreate",
            json={"providerTemplateId": provider.json()["providerTemplateId"], "items": items},
        )
        assert created.status_code in (200, 201), created.text

    raw = await openai_client.chat.completions.with_raw_response.create(
        model="team-models", messages=ASK
    )
    assert raw.headers["x-modelplane-target"] == f"{group_id}/provider-first/shared-code"
    members = set()
    for _ in range(12):
        raw = await openai_client.chat.completions.with_raw_response.create(
            model="team-models/shared-code", messages=ASK
        )
        members.add(raw.headers["x-modelplane-target"])
    assert members == {
        f"{group_id}/{name}/shared-code" for name in ("provider-first", "provider-second")
    }
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="team-models/provider-second/shared-code", messages=ASK
    )
    assert raw.headers["x-modelplane-target"] == f"{group_id}/provider-second/shared-code"
    seen = upstream.requests_to("ok-second")[-1]
    assert seen.headers["authorization"] == "Bearer sk-provider-second"
    assert seen.body["model"] == "shared-code"


async def test_the_llm_test_call_reports_status_latency_and_the_upstream_error(
    client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    good = await connection(client, upstream.base("ok-probe"), "probed")
    report = (await client.post(f"/v1/llms/{good}:test")).json()
    assert report["ok"] is True and report["status"] == 200
    assert report["target"] == f"llm/{good}" and report["attempts"] == 1
    assert report["latencyMs"] >= report["overheadMs"] >= 0
    assert upstream.requests_to("ok-probe")[-1].body["max_tokens"] == 1

    bad = await connection(client, upstream.base("status-500+ok-probe"), "probed-bad")
    report = (await client.post(f"/v1/llms/{bad}:test")).json()
    assert report["ok"] is False and report["status"] == 500
    assert "fixture upstream answers 500" in report["error"]
    missing = await client.post("/v1/llms/00000000-0000-4000-8000-000000000000:test")
    assert missing.status_code == 404


@pytest.mark.parametrize("serve", ["gateway", "control-plane"])
async def test_a_replica_serves_only_the_gateway_or_only_the_control_plane(
    database_url: str, serve: str
) -> None:
    app = create_app(gateway_settings(database_url, serve=serve))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://mp.test", headers=headers
        ) as http:
            models = await http.get("/openai/v1/models")
            llms = await http.get("/v1/llms")
            assert (await http.get("/readyz")).status_code == 200
            assert (await http.get("/metrics")).status_code == 200
    if serve == "gateway":
        assert models.status_code == 200 and llms.status_code == 404
    else:
        assert models.status_code == 404 and llms.status_code == 200


async def test_env_key_references_are_read_only_from_the_variables_the_settings_list(
    settings: Settings,
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    upstream: FixtureUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIXTURE_GATEWAY_API_KEY", "sk-from-the-environment")
    reference = {
        "kind": "CREDENTIAL_KIND_API_KEY",
        "apiKey": {"secretRef": "env://FIXTURE_GATEWAY_API_KEY"},
    }
    body = {
        "displayName": "from env",
        "providerType": "CUSTOM_OPENAI_COMPATIBLE",
        "endpointUrl": upstream.base("ok-env"),
        "modelIdentifier": "env-model",
        "credentials": reference,
    }
    assert (await client.post("/v1/llms", json=body)).status_code == 201
    with pytest.raises(openai.BadRequestError) as unlisted:
        await openai_client.chat.completions.create(model="env-model", messages=ASK)
    assert "MODELPLANE_GATEWAY_ENV_KEYS" in unlisted.value.message
    assert upstream.requests_to("ok-env") == []

    listing = create_app(settings.model_copy(update={"gateway_env_keys": "FIXTURE_GATEWAY_*"}))
    async with listing.router.lifespan_context(listing):
        transport = httpx.ASGITransport(app=listing)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://mp.test") as http:
            answer = await http.post(
                "/openai/v1/chat/completions",
                json={"model": "env-model", "messages": ASK},
                headers=headers,
            )
    assert answer.status_code == 200, answer.text
    seen = upstream.requests_to("ok-env")[-1]
    assert seen.headers["authorization"] == "Bearer sk-from-the-environment"


async def test_a_call_may_carry_a_longer_body_than_the_api_up_to_the_gateways_limit(
    settings: Settings,
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    upstream: FixtureUpstream,
) -> None:
    await connection(client, upstream.base("ok-long"), "long-context")
    long_text = "word " * (2 * settings.max_body_bytes // 5)  # twice the API's limit
    long_ask: list[ChatCompletionMessageParam] = [{"role": "user", "content": long_text}]
    answer = await openai_client.chat.completions.create(model="long-context", messages=long_ask)
    assert answer.choices[0].message.content == HELLO
    assert upstream.requests_to("ok-long")[-1].body["messages"][0]["content"] == long_text

    too_long = "word " * (GATEWAY_BODY_LIMIT // 5 + 1)
    with pytest.raises(openai.APIStatusError) as refused:
        await openai_client.chat.completions.create(
            model="long-context", messages=[{"role": "user", "content": too_long}]
        )
    assert refused.value.status_code == 413
    assert len(upstream.requests_to("ok-long")) == 1


async def test_metrics_count_calls_durations_and_tokens_per_operation_model_and_member(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    llm_id = await connection(client, upstream.base("ok-metrics"), "metered")
    await openai_client.chat.completions.create(model="metered", messages=ASK)
    await openai_client.embeddings.create(model="metered", input="x")
    member = f"llm/{llm_id}"

    def counted(lines: list[str]) -> bool:
        return sum(f'member="{member}"' in line for line in lines) == 2

    await metric_lines(client, "modelplane_gateway_calls_total", counted)
    text = (await client.get("/metrics")).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    calls = {
        (s.labels["operation"], s.labels["status"]): s.value
        for s in families["modelplane_gateway_calls"].samples
        if s.labels.get("member") == member and s.labels.get("model") == "metered"
    }
    assert calls == {("chat/completions", "200"): 1.0, ("embeddings", "200"): 1.0}
    durations = [
        s
        for s in families["modelplane_gateway_call_duration_seconds"].samples
        if s.name.endswith("_count") and s.labels.get("member") == member
    ]
    assert sorted(s.labels["operation"] for s in durations) == ["chat/completions", "embeddings"]
    tokens = {
        (s.labels["operation"], s.labels["direction"]): s.value
        for s in families["modelplane_gateway_tokens"].samples
        if s.labels.get("member") == member
    }
    assert tokens == {
        ("chat/completions", "input"): 7.0,
        ("chat/completions", "output"): 6.0,
        ("embeddings", "input"): 4.0,
    }
