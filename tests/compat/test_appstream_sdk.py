"""The official appstream-center 2021-09-01 SDK, unchanged, against a live modelplane.

Every model-catalog operation runs with both of the SDK's signers: ACS3-HMAC-SHA256
(the default) and the RPC HMAC-SHA1 one (`signature_algorithm='v2'`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

import httpx
import pytest
from alibabacloud_appstream_center20210901 import models
from alibabacloud_appstream_center20210901.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_util_models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.utils import Utils
from darabonba.runtime import RuntimeOptions

from tests.compat.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.support.server import Server

API_KEY = "sk-compat-0123456789abcdef"
Item: TypeAlias = models.BatchCreateLlmTemplatesRequestLlmTemplateItems


def client_for(
    server: Server,
    signer: str,
    access_key_id: str = ACCESS_KEY_ID,
    secret: str = ACCESS_KEY_SECRET,
) -> Client:
    """The SDK pointed at the server over plain HTTP: `endpoint` is host:port."""
    config = Config(
        access_key_id=access_key_id,
        access_key_secret=secret,
        endpoint=f"127.0.0.1:{server.port}",
        protocol="http",
    )
    if signer == "v2":
        config.signature_algorithm = "v2"
    return Client(config)


@pytest.fixture(params=["acs3", "v2"])
def signer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sdk(live_server: Server, signer: str) -> Client:
    return client_for(live_server, signer)


def error_code(caught: pytest.ExceptionInfo[ClientException]) -> str:
    assert caught.value.request_id
    return str(caught.value.code)


def new_group(sdk: Client, name: str = "compat") -> str:
    created = sdk.create_model_template(
        models.CreateModelTemplateRequest(
            name=name, description="made by the SDK", agent_provider="OpenClaw", biz_type=1
        )
    )
    assert created.status_code == 200
    assert created.body.request_id
    return str(created.body.data.model_template_id)


def new_provider(sdk: Client, group_id: str, provider_name: str = "provider-acme") -> str:
    created = sdk.create_model_provider_template(
        models.CreateModelProviderTemplateRequest(
            model_template_id=group_id,
            name="Acme",
            provider_name=provider_name,
            provider_type="Custom",
            config=json.dumps(
                {"baseUrl": "https://api.acme.test/v1", "api": "openai", "apiKey": API_KEY}
            ),
            description="Acme models",
            enable_wuying_proxy=False,
        )
    )
    return str(created.body.data.provider_template_id)


def batch(sdk: Client, provider_id: str, *items: Item) -> models.BatchCreateLlmTemplatesResponse:
    return sdk.batch_create_llm_templates(
        models.BatchCreateLlmTemplatesRequest(
            provider_template_id=provider_id, llm_template_items=list(items)
        )
    )


def test_model_template_life_cycle(sdk: Client) -> None:
    group_id = new_group(sdk, "life cycle")
    listed = sdk.list_model_templates(
        models.ListModelTemplatesRequest(model_template_id_list=[group_id], biz_type=1)
    ).body
    assert (listed.total_count, listed.page_number) == (1, 1)
    row = listed.data[0]
    assert (row.model_template_id, row.name, row.agent_provider) == (
        group_id,
        "life cycle",
        "OpenClaw",
    )
    assert (row.model_count, row.has_model, json.loads(row.config)) == (0, False, {})
    updated = sdk.update_model_template(
        models.UpdateModelTemplateRequest(model_template_id=group_id, name="renamed")
    )
    assert updated.body.request_id
    again = sdk.list_model_templates(
        models.ListModelTemplatesRequest(model_template_id_list=[group_id], has_model=False)
    ).body
    assert [g.name for g in again.data] == ["renamed"]
    sdk.delete_model_template(models.DeleteModelTemplateRequest(model_template_id=group_id))
    gone = sdk.list_model_templates(
        models.ListModelTemplatesRequest(model_template_id_list=[group_id])
    ).body
    assert (gone.total_count, gone.data) == (0, [])
    with pytest.raises(ClientException) as caught:
        sdk.delete_model_template(models.DeleteModelTemplateRequest(model_template_id=group_id))
    assert error_code(caught) == "ModelTemplate.NotFound"


def test_provider_template_life_cycle_keeps_the_key_masked(sdk: Client) -> None:
    group_id = new_group(sdk)
    provider_id = new_provider(sdk, group_id)
    got = sdk.get_model_provider_template(
        models.GetModelProviderTemplateRequest(provider_template_id=provider_id)
    ).body.data
    assert (got.name, got.provider_name, got.enable_wuying_proxy) == (
        "Acme",
        "provider-acme",
        False,
    )
    assert json.loads(got.config) == {
        "baseUrl": "https://api.acme.test/v1",
        "api": "openai",
        "apiKey": "sk-****cdef",
    }

    sdk.update_model_provider_template(
        models.UpdateModelProviderTemplateRequest(
            provider_template_id=provider_id,
            config=models.UpdateModelProviderTemplateRequestConfig(
                base_url="https://eu.acme.test/v1"
            ),
            enable_wuying_proxy=True,
        )
    )
    listed = sdk.list_model_provider_templates(
        models.ListModelProviderTemplatesRequest(
            provider_template_ids=[provider_id], agent_provider="OpenClaw", biz_type=1
        )
    ).body
    assert listed.total_count == 1
    row = listed.data[0]
    assert (row.name, row.description, row.provider_type) == ("Acme", "Acme models", "Custom")
    assert row.enable_wuying_proxy is True
    assert json.loads(row.config) == {
        "baseUrl": "https://eu.acme.test/v1",
        "api": "openai",
        "apiKey": "sk-****cdef",
    }

    sdk.update_model_provider_template(
        models.UpdateModelProviderTemplateRequest(
            provider_template_id=provider_id,
            name="Acme EU",
            config=models.UpdateModelProviderTemplateRequestConfig(
                api_key="sk-rotated-fedcba9876543210"
            ),
        )
    )
    by_group = sdk.list_model_provider_templates(
        models.ListModelProviderTemplatesRequest(model_template_id=group_id)
    ).body
    assert by_group.data[0].name == "Acme EU"
    assert json.loads(by_group.data[0].config)["apiKey"] == "sk-****3210"
    assert "rotated" not in json.dumps(by_group.to_map())

    sdk.delete_model_provider_template(
        models.DeleteModelProviderTemplateRequest(provider_template_id=provider_id)
    )
    with pytest.raises(ClientException) as caught:
        sdk.get_model_provider_template(
            models.GetModelProviderTemplateRequest(provider_template_id=provider_id)
        )
    assert error_code(caught) == "ModelProviderTemplate.NotFound"


def test_llm_templates_batch_list_and_delete(sdk: Client) -> None:
    group_id = new_group(sdk)
    provider_id = new_provider(sdk, group_id)
    first = batch(
        sdk,
        provider_id,
        Item(llm_code="qwen-plus", name="Qwen Plus", config='{"maxTokens": 8192}'),
        Item(llm_code="qwen-max", description="the largest", is_default_model=True),
    ).body.data
    assert (first.success_count, first.total_count, first.skipped_items) == (2, 2, [])
    second = batch(
        sdk, provider_id, Item(llm_code="qwen-plus"), Item(llm_code="qwen-turbo")
    ).body.data
    assert (second.success_count, second.total_count) == (1, 2)
    assert [(s.llm_code, s.reason) for s in second.skipped_items] == [
        ("qwen-plus", "LLM template already exists with same providerTemplateId and llmCode.")
    ]

    listed = sdk.list_llm_templates(
        models.ListLlmTemplatesRequest(provider_template_id=provider_id, page_size=2)
    ).body
    assert (listed.total_count, listed.page_size, len(listed.data)) == (3, 2, 2)
    by_id = sdk.list_llm_templates(
        models.ListLlmTemplatesRequest(llm_template_ids=first.llm_template_ids, page_number=0)
    ).body
    rows = {t.llm_code: t for t in by_id.data}
    assert set(rows) == {"qwen-plus", "qwen-max"}
    assert rows["qwen-max"].is_default_model is True
    assert rows["qwen-max"].description == "the largest"
    assert rows["qwen-plus"].is_default_model is False
    assert json.loads(rows["qwen-plus"].config) == {"maxTokens": 8192}
    assert datetime.fromisoformat(rows["qwen-plus"].published_time).tzinfo is not None
    assert rows["qwen-plus"].provider_template_id == provider_id

    sdk.delete_llm_template(
        models.DeleteLlmTemplateRequest(llm_template_id=rows["qwen-plus"].llm_template_id)
    )
    left = sdk.list_llm_templates(models.ListLlmTemplatesRequest(model_template_id=group_id)).body
    assert sorted(t.llm_code for t in left.data) == ["qwen-max", "qwen-turbo"]


def test_the_default_pointer_moves_with_update_model_template(sdk: Client) -> None:
    group_id = new_group(sdk)
    provider_id = new_provider(sdk, group_id)
    batch(sdk, provider_id, Item(llm_code="a", is_default_model=True), Item(llm_code="b"))
    runtime_id = "rt-" + uuid.uuid4().hex[:8]
    sdk.config_runtime_model_template(
        models.ConfigRuntimeModelTemplateRequest(
            model_template_id=group_id, runtime_ids=[runtime_id], runtime_type="OpenClaw"
        )
    )

    def seen() -> models.GetRuntimeModelConfigResponseBodyData:
        return sdk.get_runtime_model_config(
            models.GetRuntimeModelConfigRequest(
                runtime_id=runtime_id, runtime_type="OpenClaw", agent_provider="OpenClaw"
            )
        ).body.data

    before = seen()
    assert (before.model_template_id, before.model_template_name) == (group_id, "compat")
    assert before.default_model == "provider-acme/a"
    (provider,) = before.model_provider_list
    assert (provider.model_provider_template_id, provider.provider_name) == (
        provider_id,
        "provider-acme",
    )
    assert sorted(llm.llm_code for llm in provider.llm_info_list) == ["a", "b"]

    pointer = {"defaults": {"model": {"primary": "provider-acme/b"}}}
    sdk.update_model_template(
        models.UpdateModelTemplateRequest(model_template_id=group_id, config=json.dumps(pointer))
    )
    assert seen().default_model == "provider-acme/b"
    flags = sdk.list_llm_templates(
        models.ListLlmTemplatesRequest(model_template_id=group_id)
    ).body.data
    assert {t.llm_code: t.is_default_model for t in flags} == {"a": False, "b": True}

    with pytest.raises(ClientException) as caught:
        sdk.update_model_template(
            models.UpdateModelTemplateRequest(
                model_template_id=group_id,
                config=json.dumps({"defaults": {"model": {"primary": "provider-acme/zzz"}}}),
            )
        )
    assert error_code(caught) == "InvalidParameter"
    assert seen().default_model == "provider-acme/b"


def test_runtime_bind_and_unbind_answer_one_row_per_runtime(sdk: Client) -> None:
    group_id = new_group(sdk)
    runtimes = [f"rt-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    bound = sdk.config_runtime_model_template(
        models.ConfigRuntimeModelTemplateRequest(
            model_template_id=group_id, runtime_ids=runtimes, runtime_type="Default"
        )
    ).body
    assert bound.total_count == 2
    assert [(r.runtime_id, r.success, r.http_status_code) for r in bound.data] == [
        (runtimes[0], True, 200),
        (runtimes[1], True, 200),
    ]
    removed = sdk.remove_runtime_model_template(
        models.RemoveRuntimeModelTemplateRequest(
            model_template_id=group_id,
            runtime_ids=[runtimes[0], "rt-never"],
            runtime_type="Default",
        )
    ).body
    assert removed.total_count == 2
    assert [(r.runtime_id, r.success, r.code) for r in removed.data] == [
        (runtimes[0], True, "Success"),
        ("rt-never", False, "Runtime.NotFound"),
    ]
    assert removed.data[1].http_status_code == 404
    with pytest.raises(ClientException) as caught:
        sdk.get_runtime_model_config(
            models.GetRuntimeModelConfigRequest(runtime_id=runtimes[0], runtime_type="Default")
        )
    assert error_code(caught) == "Runtime.NotFound"


def test_use_gateway_through_the_sdks_own_call_hands_a_key_and_typed_calls_still_parse(
    sdk: Client, live_server: Server
) -> None:
    group_id = new_group(sdk)
    provider_id = new_provider(sdk, group_id)
    batch(sdk, provider_id, Item(llm_code="a", is_default_model=True))
    runtime_id = "rt-" + uuid.uuid4().hex[:8]
    sdk.config_runtime_model_template(
        models.ConfigRuntimeModelTemplateRequest(
            model_template_id=group_id, runtime_ids=[runtime_id], runtime_type="OpenClaw"
        )
    )
    # The typed request has no UseGateway: the SDK's own generic call sends it, signed.
    params = open_api_util_models.Params(
        action="GetRuntimeModelConfig",
        version="2021-09-01",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    query = {"RuntimeId": runtime_id, "RuntimeType": "OpenClaw", "UseGateway": True}
    request = open_api_util_models.OpenApiRequest(query=Utils.query(query))
    answers = [sdk.call_api(params, request, RuntimeOptions())["body"] for _ in range(2)]
    gateway = answers[0]["Data"]["Gateway"]
    assert answers[1]["Data"]["Gateway"] == gateway  # the same key on every ask
    assert gateway["BaseUrl"] == f"{live_server.url}/openai/v1"
    assert gateway["DefaultModel"] == group_id
    assert gateway["Models"] == [{"Model": f"{group_id}/provider-acme/a", "Api": "openai"}]
    assert API_KEY not in json.dumps(answers)
    listed = httpx.get(
        f"{live_server.url}/openai/v1/models",
        headers={"Authorization": f"Bearer {gateway['ApiKey']}"},
    )
    assert listed.status_code == 200, listed.text
    assert group_id in {m["id"] for m in listed.json()["data"]}

    typed = sdk.get_runtime_model_config(
        models.GetRuntimeModelConfigRequest(runtime_id=runtime_id, runtime_type="OpenClaw")
    ).body.data
    assert (typed.model_template_id, typed.default_model) == (group_id, "provider-acme/a")
    sdk.remove_runtime_model_template(
        models.RemoveRuntimeModelTemplateRequest(
            model_template_id=group_id, runtime_ids=[runtime_id], runtime_type="OpenClaw"
        )
    )
    revoked = httpx.get(
        f"{live_server.url}/openai/v1/models",
        headers={"Authorization": f"Bearer {gateway['ApiKey']}"},
    )
    assert revoked.status_code == 401


def test_provider_endpoints_come_from_the_built_in_catalog(sdk: Client) -> None:
    everything = sdk.list_model_provider_endpoints(
        models.ListModelProviderEndpointsRequest()
    ).body.data
    assert len(everything) > 1
    first = everything[0]
    one = sdk.list_model_provider_endpoints(
        models.ListModelProviderEndpointsRequest(provider_name=first.provider_name, biz_type=1)
    ).body.data
    assert [p.provider_name for p in one] == [first.provider_name]
    endpoint = one[0].endpoints[0]
    assert endpoint.base_url.startswith("https://")
    assert endpoint.api_type in {"openai-compatible", "anthropic-compatible"}
    assert endpoint.provider_url == one[0].provider_url
    assert isinstance(endpoint.tags, list)


def test_a_wrong_secret_is_signature_does_not_match(live_server: Server, signer: str) -> None:
    sdk = client_for(live_server, signer, secret="not-the-secret-at-all")
    with pytest.raises(ClientException) as caught:
        sdk.list_model_templates(models.ListModelTemplatesRequest())
    assert error_code(caught) == "SignatureDoesNotMatch"


def test_an_unknown_key_is_invalid_access_key_id_not_found(
    live_server: Server, signer: str
) -> None:
    sdk = client_for(live_server, signer, access_key_id="MPAKNOSUCHKEY")
    with pytest.raises(ClientException) as caught:
        sdk.list_model_templates(models.ListModelTemplatesRequest())
    assert error_code(caught) == "InvalidAccessKeyId.NotFound"


def test_a_stale_date_is_invalid_timestamp_expired(
    sdk: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: stale))
    with pytest.raises(ClientException) as caught:
        sdk.list_model_templates(models.ListModelTemplatesRequest())
    assert error_code(caught) == "InvalidTimeStamp.Expired"


def test_a_replayed_nonce_is_signature_nonce_used(
    sdk: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    nonce = uuid.uuid4().hex
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: nonce))
    sdk.list_model_templates(models.ListModelTemplatesRequest())
    with pytest.raises(ClientException) as caught:
        sdk.list_model_templates(models.ListModelTemplatesRequest())
    assert error_code(caught) == "SignatureNonceUsed"
