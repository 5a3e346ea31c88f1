"""The official `goodmem` SDK, unchanged, against a live modelplane."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import goodmem
import httpx
import pytest
from goodmem.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDeniedError
from goodmem.models.endpoint_authentication import EndpointAuthentication
from goodmem.models.llm_capabilities import LLMCapabilities
from goodmem.models.llm_sampling_params import LLMSamplingParams

from tests.compat.conftest import ADMIN_TOKEN
from tests.support.server import Server


@pytest.fixture
def sdk(live_server: Server) -> Iterator[goodmem.Goodmem]:
    with goodmem.Goodmem(base_url=live_server.url, api_key=ADMIN_TOKEN) as client:
        yield client


def _create(sdk: goodmem.Goodmem, **overrides: object) -> goodmem.models.CreateLLMResponse:
    kwargs: dict[str, object] = {
        "display_name": "GPT-4o via SDK",
        "provider_type": "OPENAI",
        "endpoint_url": "https://api.openai.com/v1",
        "model_identifier": "gpt-4o",
        "credentials": EndpointAuthentication(
            kind="CREDENTIAL_KIND_API_KEY", api_key={"inline_secret": "sk-sdk-" + uuid.uuid4().hex}
        ),
        "labels": {"suite": "compat"},
    }
    kwargs.update(overrides)
    return sdk.llms.create(**kwargs)


def test_sdk_create_reports_inferred_capabilities(sdk: goodmem.Goodmem) -> None:
    created = _create(sdk)
    assert created.llm.model_identifier == "gpt-4o"
    assert created.llm.capabilities.supports_function_calling is True
    assert created.statuses and created.statuses[0].code == "LLM_CAPABILITY_INFERRED"
    assert created.llm.credentials is None


def test_sdk_create_with_every_field(sdk: goodmem.Goodmem) -> None:
    llm_id = str(uuid.uuid4())
    created = _create(
        sdk,
        llm_id=llm_id,
        model_identifier="acme-" + llm_id[:8],
        description="all fields",
        api_path="/v1/chat",
        supported_modalities=["TEXT", "IMAGE"],
        version="1.0.0",
        monitoring_endpoint="https://monitoring.example.com/llms/status",
        capabilities=LLMCapabilities(supports_chat=True, supports_streaming=True),
        default_sampling_params=LLMSamplingParams(
            max_tokens=2048, temperature=0.7, top_p=0.9, stop_sequences=["END"]
        ),
        max_context_length=32768,
        client_config={"timeout": 30},
    )
    llm = created.llm
    assert llm.llm_id == llm_id
    assert llm.api_path == "/v1/chat"
    assert llm.default_sampling_params is not None
    assert llm.default_sampling_params.stop_sequences == ["END"]
    assert llm.capabilities.supports_completion is False
    assert llm.client_config == {"timeout": 30}
    assert created.statuses == []


def test_sdk_get_list_update_delete(sdk: goodmem.Goodmem) -> None:
    created = _create(sdk, model_identifier="claude-sonnet-4-5", labels={"suite": "life"})
    llm_id = created.llm.llm_id
    assert sdk.llms.get(id=llm_id).display_name == "GPT-4o via SDK"
    listed = sdk.llms.list(label={"suite": "life"})
    assert [llm.llm_id for llm in listed] == [llm_id]
    assert any(llm.llm_id == llm_id for llm in sdk.llms.list(provider_type="OPENAI"))
    updated = sdk.llms.update(
        id=llm_id, request={"display_name": "renamed", "merge_labels": {"tier": "gold"}}
    )
    assert updated.display_name == "renamed"
    assert updated.labels == {"suite": "life", "tier": "gold"}
    sdk.llms.delete(id=llm_id)
    with pytest.raises(NotFoundError):
        sdk.llms.get(id=llm_id)


def test_sdk_duplicate_is_conflict_error(sdk: goodmem.Goodmem) -> None:
    creds = EndpointAuthentication(
        kind="CREDENTIAL_KIND_API_KEY", api_key={"inline_secret": "sk-dup"}
    )
    _create(sdk, model_identifier="qwen-max", credentials=creds)
    with pytest.raises(ConflictError) as caught:
        _create(sdk, model_identifier="qwen-max", credentials=creds, display_name="other")
    assert "sk-dup" not in str(caught.value)


def test_sdk_missing_llm_is_not_found_error(sdk: goodmem.Goodmem) -> None:
    with pytest.raises(NotFoundError):
        sdk.llms.get(id=str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        sdk.llms.delete(id=str(uuid.uuid4()))


def test_sdk_wrong_key_is_authentication_error(live_server: Server) -> None:
    with (
        goodmem.Goodmem(base_url=live_server.url, api_key="gm_not_a_key") as wrong,
        pytest.raises(AuthenticationError),
    ):
        wrong.llms.list()


def test_sdk_member_cannot_create_for_another_owner(
    sdk: goodmem.Goodmem, live_server: Server
) -> None:
    headers = {"x-api-key": ADMIN_TOKEN}
    name = "member-" + uuid.uuid4().hex[:8]
    member = httpx.post(
        f"{live_server.url}/v1/principals", json={"name": name, "role": "member"}, headers=headers
    ).json()
    token = httpx.post(
        f"{live_server.url}/v1/principals/{member['principalId']}/api-keys", headers=headers
    ).json()["token"]
    admin_llm = _create(sdk, model_identifier="deepseek-chat").llm
    with goodmem.Goodmem(base_url=live_server.url, api_key=token) as as_member:
        with pytest.raises(PermissionDeniedError):
            _create(as_member, owner_id=admin_llm.owner_id)
        with pytest.raises(NotFoundError):
            as_member.llms.get(id=admin_llm.llm_id)
        assert as_member.llms.list() == []


async def test_async_sdk_round_trip(live_server: Server) -> None:
    async with goodmem.AsyncGoodmem(base_url=live_server.url, api_key=ADMIN_TOKEN) as client:
        created = await client.llms.create(
            display_name="async",
            provider_type="VLLM",
            endpoint_url="http://127.0.0.1:8000/v1",
            model_identifier="llama-3.1-8b-instruct",
        )
        fetched = await client.llms.get(id=created.llm.llm_id)
        assert fetched.llm_id == created.llm.llm_id
        await client.llms.delete(id=created.llm.llm_id)
