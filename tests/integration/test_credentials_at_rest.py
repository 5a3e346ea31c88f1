"""Credentials are sealed at rest under the current key id and come back intact."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from modelplane.services.llms import read_credentials
from tests.integration.test_llms_api import llm_body


async def test_stored_credentials_are_sealed_and_open_to_what_was_sent(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    body = llm_body(
        credentials={
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": "sk-at-rest", "headerName": "X-Key", "prefix": "Token "},
        }
    )
    llm_id = (await client.post("/v1/llms", json=body)).json()["llm"]["llmId"]
    store, secrets = app.state.store, app.state.secrets

    async with store.reader() as uow:
        sealed = await uow.llms.sealed_credentials(llm_id)
    assert sealed is not None and "sk-at-rest" not in sealed
    assert sealed.startswith(f"mp1.{secrets.key_id}.")

    credentials = await read_credentials(store=store, secrets=secrets, llm_id=llm_id)
    assert credentials is not None and credentials.api_key is not None
    assert credentials.api_key.inline_secret == "sk-at-rest"
    assert credentials.api_key.header_name == "X-Key"
    assert credentials.api_key.prefix == "Token "


async def test_an_llm_without_credentials_stores_none(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    body = llm_body()
    del body["credentials"]
    created = (await client.post("/v1/llms", json=body)).json()["llm"]
    assert created["hasCredentials"] is False
    store = app.state.store
    assert (
        await read_credentials(store=store, secrets=app.state.secrets, llm_id=created["llmId"])
        is None
    )
    async with store.reader() as uow:
        conn_result = await uow.llms.sealed_credentials(created["llmId"])
    assert conn_result is None
