"""Every bad input gets a JSON error naming the field, with the right status; never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from modelplane.faces.json_input import DEPTH_MAX
from tests.conftest import ADMIN_TOKEN
from tests.integration.test_llms_api import llm_body


def nested(levels: int) -> dict[str, object]:
    """An object nesting `levels` deep."""
    value: dict[str, object] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def fields(response: httpx.Response) -> list[str]:
    data = response.json()
    assert set(data) >= {"code", "message", "details"}, data
    return [d["field"] for d in data["details"]]


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/llms", content=b'{"displayName": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"
    assert "malformed JSON" in response.json()["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"displayName": ""}, "displayName"),
        ({"displayName": "x" * 256}, "displayName"),
        ({"displayName": 12}, "displayName"),
        ({"providerType": "NOT_A_PROVIDER"}, "providerType"),
        ({"endpointUrl": "ftp://example.com"}, "endpointUrl"),
        ({"endpointUrl": "api.openai.com/v1"}, "endpointUrl"),
        ({"endpointUrl": "https://user:pw@api.openai.com/v1"}, "endpointUrl"),
        ({"monitoringEndpoint": "not a url"}, "monitoringEndpoint"),
        ({"apiPath": "chat/completions"}, "apiPath"),
        ({"modelIdentifier": ""}, "modelIdentifier"),
        ({"supportedModalities": ["SMELL"]}, "supportedModalities.0"),
        ({"maxContextLength": 0}, "maxContextLength"),
        ({"maxContextLength": -5}, "maxContextLength"),
        ({"maxContextLength": 2**31}, "maxContextLength"),
        ({"maxContextLength": "lots"}, "maxContextLength"),
        ({"labels": {f"k{i}": "v" for i in range(21)}}, "labels"),
        ({"labels": {"k": 3}}, "labels.k"),
        ({"defaultSamplingParams": {"topP": 1.5}}, "defaultSamplingParams.topP"),
        ({"defaultSamplingParams": {"maxTokens": 0}}, "defaultSamplingParams.maxTokens"),
        ({"credentials": {"kind": "CREDENTIAL_KIND_MAGIC"}}, "credentials.kind"),
        ({"credentials": {"kind": "CREDENTIAL_KIND_API_KEY"}}, "credentials.apiKey"),
        (
            {
                "credentials": {
                    "kind": "CREDENTIAL_KIND_API_KEY",
                    "apiKey": {"inlineSecret": "a", "secretRef": {"uri": "env://B"}},
                }
            },
            "credentials.apiKey",
        ),
        (
            {
                "credentials": {
                    "kind": "CREDENTIAL_KIND_API_KEY",
                    "apiKey": {"secretRef": {"uri": "vault://x"}},
                }
            },
            "credentials.apiKey.secretRef.uri",
        ),
        ({"unknownField": 1}, "unknownField"),
        ({"ownerId": "me"}, "ownerId"),
        ({"dashscopeApiDialect": "OPENAI_COMPATIBLE"}, "dashscopeApiDialect"),
        ({"clientConfig": nested(300)}, "clientConfig"),
        ({"clientConfig": {"n": 2**70}}, "clientConfig"),
        # JSON given as text inside the body: its strings are checked as the body's are.
        ({"labels": json.dumps({"k": "\x00"})}, "labels"),
        ({"clientConfig": json.dumps({"k": ["\ud800"]})}, "clientConfig"),
    ],
)
async def test_bad_create_field_is_400_naming_it(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/llms", json=llm_body(**overrides))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "INVALID_ARGUMENT"
    assert field in fields(response)
    assert (await client.get("/v1/llms")).json()["llms"] == []


async def test_missing_required_fields_are_each_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/llms", json={})
    assert response.status_code == 400
    assert {"displayName", "modelIdentifier"} <= set(fields(response))


async def test_body_that_is_not_an_object_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/llms", json=[1, 2])
    assert response.status_code == 400


async def test_body_over_one_mib_is_413(client: httpx.AsyncClient) -> None:
    big = llm_body(description="x" * (1024 * 1024 + 10))
    response = await client.post("/v1/llms", json=big)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_chunked_body_over_one_mib_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        yield b'{"displayName": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/v1/llms", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_missing_auth_is_401(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/v1/llms")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer mp_wrong"},
        {"x-api-key": "mp_wrong"},
        {"Authorization": "Basic dXNlcjpwdw=="},
    ],
)
async def test_wrong_auth_is_401(anon: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await anon.post("/v1/llms", json=llm_body(), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


async def test_two_different_keys_are_refused(anon: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "x-api-key": "mp_other"}
    response = await anon.get("/v1/llms", headers=headers)
    assert response.status_code == 401
    assert "exactly one" in response.json()["message"]


async def test_the_same_key_in_both_headers_is_accepted(anon: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "x-api-key": ADMIN_TOKEN}
    assert (await anon.get("/v1/llms", headers=headers)).status_code == 200


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


async def test_wrong_method_is_json_405(client: httpx.AsyncClient) -> None:
    response = await client.patch("/v1/llms")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/llms", headers={"x-request-id": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    generated = await client.get("/v1/llms")
    assert len(generated.headers["x-request-id"]) == 32


async def test_authentication_comes_before_body_validation(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/v1/llms", json={"displayName": ""})
    assert response.status_code == 401
    malformed = await anon.post(
        "/v1/llms", content=b"{", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 401


async def test_unknown_v1_routes_do_not_reveal_themselves_without_a_key(
    anon: httpx.AsyncClient,
) -> None:
    response = await anon.get("/v1/nothing-here")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_health_probes_need_no_key(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/healthz")).status_code == 200
    assert (await anon.get("/readyz")).status_code == 200
    assert (await anon.get("/openapi.json")).status_code == 200


CATALOG_WRITES = [
    ("POST", "/v1/model-groups"),
    ("PATCH", "/v1/model-groups/mt-0"),
    ("POST", "/v1/provider-templates"),
    ("PATCH", "/v1/provider-templates/mpt-0"),
    ("POST", "/v1/llm-templates:batchCreate"),
    ("POST", "/v1/model-groups/mt-0/runtimes"),
    ("POST", "/v1/model-groups/mt-0/runtimes:remove"),
]
CATALOG_READS = [
    "/v1/model-groups",
    "/v1/model-groups/mt-0",
    "/v1/provider-templates",
    "/v1/provider-templates/mpt-0",
    "/v1/llm-templates",
    "/v1/llm-templates/llmt-0",
    "/v1/runtimes/Default/r1/model-config",
    "/v1/provider-endpoints",
]
_TEMPLATE = "/v1/workspaces/llm-0/prompt-templates/" + "0" * 32
PROMPT_WRITES = [
    ("POST", "/v1/workspaces"),
    ("POST", "/v1/workspaces/llm-0/prompt-templates"),
    ("PATCH", _TEMPLATE),
    ("POST", f"{_TEMPLATE}:render"),
]
PROMPT_OTHERS = [
    ("GET", "/v1/workspaces"),
    ("GET", "/v1/workspaces/llm-0"),
    ("DELETE", "/v1/workspaces/llm-0"),
    ("GET", "/v1/workspaces/llm-0/members"),
    ("PUT", "/v1/workspaces/llm-0/members/p-0"),
    ("DELETE", "/v1/workspaces/llm-0/members/p-0"),
    ("GET", "/v1/workspaces/llm-0/prompt-templates"),
    ("GET", _TEMPLATE),
    ("DELETE", _TEMPLATE),
    ("GET", f"{_TEMPLATE}/versions"),
]


@pytest.mark.parametrize(("method", "path"), CATALOG_WRITES + PROMPT_WRITES)
async def test_catalog_writes_refuse_bodies_that_are_not_json_objects(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    malformed = await client.request(
        method, path, content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400, malformed.text
    assert "malformed JSON" in malformed.json()["message"]
    for body in ([1, 2], "text", None):
        response = await client.request(method, path, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("method", "path"),
    CATALOG_WRITES + [("GET", p) for p in CATALOG_READS] + PROMPT_WRITES + PROMPT_OTHERS,
)
async def test_catalog_routes_need_a_key(anon: httpx.AsyncClient, method: str, path: str) -> None:
    response = await anon.request(method, path, json={} if method in ("POST", "PATCH") else None)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


async def test_malformed_json_names_body_with_line_and_column(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/llms",
        content=b'{\n  "displayName": "x",\n  "labels": {oops}\n}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    [detail] = response.json()["details"]
    assert detail["field"] == "body"
    assert detail["rule"].startswith("malformed JSON at line 3, column 14:"), detail


async def test_json_nested_3000_deep_is_400_naming_body_and_the_depth_limit(
    client: httpx.AsyncClient,
) -> None:
    deep = b'{"displayName": "x", "labels": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    response = await client.post(
        "/v1/llms", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["details"] == [
        {"field": "body", "rule": f"must nest at most {DEPTH_MAX} levels deep"}
    ]
