"""`GET /v1/llms/{id}/credentials` and `POST /v1/llms/{id}/credentials:verify`, on SQLite
and PostgreSQL: what may be shown of stored credentials (never the inline secret), the
fingerprint comparison, bad input, and who may call them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import new_member

SECRET = "sk-outline-SECRET-7f3a9c"
INLINE = {
    "kind": "CREDENTIAL_KIND_API_KEY",
    "apiKey": {"inlineSecret": SECRET, "headerName": "X-Api-Key", "prefix": "Key "},
    "labels": {"rotation": "2024-q3"},
}


def llm_body(credentials: dict[str, Any] | None, model: str = "private-model") -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": "Outline",
        "providerType": "OPENAI",
        "endpointUrl": "https://api.openai.com/v1",
        "modelIdentifier": model,
    }
    if credentials is not None:
        body["credentials"] = credentials
    return body


async def make_llm(
    client: httpx.AsyncClient, credentials: dict[str, Any] | None, model: str = "private-model"
) -> str:
    response = await client.post("/v1/llms", json=llm_body(credentials, model))
    assert response.status_code == 201, response.text
    assert SECRET not in response.text
    llm_id: str = response.json()["llm"]["llmId"]
    return llm_id


async def outline(client: httpx.AsyncClient, llm_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/v1/llms/{llm_id}/credentials")
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    found: dict[str, Any] | None = response.json()["credentials"]
    return found


async def verify(client: httpx.AsyncClient, llm_id: str, credentials: Any) -> httpx.Response:
    return await client.post(
        f"/v1/llms/{llm_id}/credentials:verify", json={"credentials": credentials}
    )


async def matches(client: httpx.AsyncClient, llm_id: str, credentials: dict[str, Any]) -> bool:
    response = await verify(client, llm_id, credentials)
    assert response.status_code == 200, response.text
    assert response.json().keys() == {"matches"}
    assert SECRET not in response.text
    result = response.json()["matches"]
    assert isinstance(result, bool)
    return result


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["code"] == "INVALID_ARGUMENT", data
    return [d["field"] for d in data["details"]]


def api_key(**key: Any) -> dict[str, Any]:
    return {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": key}


@asynccontextmanager
async def acting_as(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


# --- GET /v1/llms/{id}/credentials ----------------------------------------------------------


async def test_an_inline_key_is_outlined_without_its_secret(client: httpx.AsyncClient) -> None:
    llm_id = await make_llm(client, INLINE)

    assert await outline(client, llm_id) == {
        "kind": "CREDENTIAL_KIND_API_KEY",
        "apiKey": {
            "secretRef": None,
            "hasInlineSecret": True,
            "headerName": "X-Api-Key",
            "prefix": "Key ",
        },
        "gcpAdc": None,
        "labels": {"rotation": "2024-q3"},
    }
    # Nor anywhere else the LLM is shown.
    for path in (f"/v1/llms/{llm_id}", "/v1/llms"):
        shown = await client.get(path)
        assert shown.status_code == 200, shown.text
        assert SECRET not in shown.text


async def test_a_secret_reference_is_shown_with_its_hints(client: httpx.AsyncClient) -> None:
    with_hints = await make_llm(
        client,
        api_key(
            secretRef={"uri": "env://OPENAI_API_KEY", "hints": {"vault": "prod"}},
            headerName="Authorization",
            prefix="Bearer ",
        ),
        model="with-hints",
    )
    assert await outline(client, with_hints) == {
        "kind": "CREDENTIAL_KIND_API_KEY",
        "apiKey": {
            "secretRef": {"uri": "env://OPENAI_API_KEY", "hints": {"vault": "prod"}},
            "hasInlineSecret": False,
            "headerName": "Authorization",
            "prefix": "Bearer ",
        },
        "gcpAdc": None,
        "labels": {},
    }

    bare = await make_llm(client, api_key(secretRef="env://OTHER_KEY"), model="bare-ref")
    shown = await outline(client, bare)
    assert shown is not None
    assert shown["apiKey"] == {
        "secretRef": {"uri": "env://OTHER_KEY", "hints": None},
        "hasInlineSecret": False,
        "headerName": None,
        "prefix": None,
    }


async def test_gcp_adc_and_missing_credentials(client: httpx.AsyncClient) -> None:
    gcp = await make_llm(
        client,
        {
            "kind": "CREDENTIAL_KIND_GCP_ADC",
            "gcpAdc": {"scopes": ["https://www.googleapis.com/auth/cloud-platform"]},
        },
        model="gcp",
    )
    assert await outline(client, gcp) == {
        "kind": "CREDENTIAL_KIND_GCP_ADC",
        "apiKey": None,
        "gcpAdc": {
            "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "quotaProjectId": None,
        },
        "labels": {},
    }

    none = await make_llm(client, None, model="no-credentials")
    assert await outline(client, none) is None


async def test_the_outline_follows_a_change_of_credentials(client: httpx.AsyncClient) -> None:
    llm_id = await make_llm(client, INLINE)
    new = api_key(secretRef="env://ROTATED_KEY", headerName="api-key")
    changed = await client.put(f"/v1/llms/{llm_id}", json={"credentials": new})
    assert changed.status_code == 200, changed.text

    shown = await outline(client, llm_id)
    assert shown is not None
    assert shown["apiKey"] == {
        "secretRef": {"uri": "env://ROTATED_KEY", "hints": None},
        "hasInlineSecret": False,
        "headerName": "api-key",
        "prefix": None,
    }
    assert shown["labels"] == {}
    assert await matches(client, llm_id, new) is True
    assert await matches(client, llm_id, INLINE) is False


# --- POST /v1/llms/{id}/credentials:verify --------------------------------------------------


async def test_verify_compares_the_fingerprint(client: httpx.AsyncClient) -> None:
    llm_id = await make_llm(client, INLINE)
    key = {"inlineSecret": SECRET, "headerName": "X-Api-Key", "prefix": "Key "}
    cases: list[tuple[str, dict[str, Any], bool]] = [
        ("the same credentials", INLINE, True),
        ("without labels", api_key(**key), True),
        (
            "other labels",
            {**api_key(**key), "labels": {"rotation": "2025-q1", "team": "x"}},
            True,
        ),
        ("the header name in another case", api_key(**{**key, "headerName": "x-api-key"}), True),
        ("another secret", api_key(**{**key, "inlineSecret": SECRET + "x"}), False),
        ("another header name", api_key(**{**key, "headerName": "Authorization"}), False),
        ("no header name (Authorization)", api_key(inlineSecret=SECRET, prefix="Key "), False),
        ("another prefix", api_key(**{**key, "prefix": "Bearer "}), False),
        ("no prefix", api_key(inlineSecret=SECRET, headerName="X-Api-Key"), False),
        (
            "a reference instead of the secret",
            api_key(secretRef="env://SK", headerName="X-Api-Key", prefix="Key "),
            False,
        ),
        ("no credentials at all", {"kind": "CREDENTIAL_KIND_UNSPECIFIED"}, False),
    ]
    outcome = {name: await matches(client, llm_id, creds) for name, creds, _ in cases}
    assert outcome == {name: expected for name, _, expected in cases}


async def test_verify_a_reference_and_its_hints(client: httpx.AsyncClient) -> None:
    ref = api_key(secretRef={"uri": "env://OPENAI_API_KEY", "hints": {"vault": "prod"}})
    llm_id = await make_llm(client, ref)
    assert await matches(client, llm_id, ref) is True
    other_hints = api_key(secretRef={"uri": "env://OPENAI_API_KEY", "hints": {"vault": "dev"}})
    assert await matches(client, llm_id, other_hints) is False
    assert await matches(client, llm_id, api_key(secretRef="env://OPENAI_API_KEY")) is False
    assert await matches(client, llm_id, api_key(secretRef="env://OTHER")) is False


async def test_verify_against_an_llm_without_credentials(client: httpx.AsyncClient) -> None:
    llm_id = await make_llm(client, None)
    assert await matches(client, llm_id, api_key(inlineSecret=SECRET)) is False
    assert await matches(client, llm_id, {"kind": "CREDENTIAL_KIND_UNSPECIFIED"}) is False


INVALID: list[tuple[Any, str]] = [
    (api_key(), "credentials.apiKey"),
    (api_key(inlineSecret=SECRET, secretRef="env://X"), "credentials.apiKey"),
    (api_key(inlineSecret=""), "credentials.apiKey.inlineSecret"),
    (api_key(secretRef="https://vault/x"), "credentials.apiKey.secretRef.uri"),
    (api_key(inlineSecret=SECRET, headerName="bad header"), "credentials.apiKey.headerName"),
    (api_key(inlineSecret=SECRET, prefix="p" * 65), "credentials.apiKey.prefix"),
    (api_key(inlineSecret=SECRET, bogus=SECRET), "credentials.apiKey.bogus"),
    (api_key(inlineSecret=[SECRET]), "credentials.apiKey.inlineSecret"),
    ({"kind": "CREDENTIAL_KIND_API_KEY"}, "credentials.apiKey"),
    ({"kind": "NOT_A_KIND"}, "credentials.kind"),
    ({**api_key(inlineSecret=SECRET), "gcpAdc": {}}, "credentials.gcpAdc"),
    (SECRET, "credentials"),
]


async def test_verify_refuses_invalid_credentials_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    llm_id = await make_llm(client, INLINE)
    for credentials, field in INVALID:
        response = await verify(client, llm_id, credentials)
        assert field in fields(response), (credentials, response.text)
        assert SECRET not in response.text


async def test_verify_needs_a_credentials_object(client: httpx.AsyncClient) -> None:
    llm_id = await make_llm(client, INLINE)
    missing = await client.post(f"/v1/llms/{llm_id}/credentials:verify", json={})
    assert fields(missing) == ["credentials"]


# --- who may call them ----------------------------------------------------------------------


async def test_members_reach_only_their_own_llms(app: FastAPI, client: httpx.AsyncClient) -> None:
    admins = await make_llm(client, INLINE, model="admins")
    _, token = await new_member(client, "dora")
    async with acting_as(app, token) as dora:
        own = await make_llm(dora, INLINE, model="doras")

        # Another's LLM does not exist for a member, whatever the route.
        hidden = await dora.get(f"/v1/llms/{admins}/credentials")
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["code"] == "NOT_FOUND"
        probe = await verify(dora, admins, INLINE)
        assert probe.status_code == 404, probe.text
        assert SECRET not in hidden.text + probe.text

        assert (await outline(dora, own) or {})["apiKey"]["hasInlineSecret"] is True
        assert await matches(dora, own, INLINE) is True

    # Admins reach every LLM.
    assert (await outline(client, own) or {})["labels"] == {"rotation": "2024-q3"}
    assert await matches(client, own, INLINE) is True


async def test_unknown_and_deleted_llms_are_not_found(client: httpx.AsyncClient) -> None:
    llm_id = await make_llm(client, INLINE)
    assert (await client.delete(f"/v1/llms/{llm_id}")).status_code == 200
    for gone in (llm_id, "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        shown = await client.get(f"/v1/llms/{gone}/credentials")
        assert shown.status_code == 404, shown.text
        checked = await verify(client, gone, INLINE)
        assert checked.status_code == 404, checked.text


async def test_anonymous_callers_are_refused(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    llm_id = await make_llm(client, INLINE)
    shown = await anon.get(f"/v1/llms/{llm_id}/credentials")
    checked = await verify(anon, llm_id, INLINE)
    assert (shown.status_code, checked.status_code) == (401, 401)
    assert SECRET not in shown.text + checked.text
