"""What the gateway's tests share: an app with short gateway timeouts, served on a real
socket, and LLM connections pointed at a test upstream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN

UPSTREAM_KEY = "sk-upstream-0123456789abcdef"
LONG_PROMPT = "Please answer with a long and friendly greeting for the whole team at once"


def gateway_settings(database_url: str, **overrides: Any) -> Settings:
    """The test settings, with gateway limits short enough for tests to wait them out."""
    fields: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": new_master_key_text(),
        "bootstrap_token": ADMIN_TOKEN,
        "access_log": False,
        "rate_limit_per_second": 0,
        "gateway_idle_timeout_seconds": 1.0,
        "gateway_connect_timeout_seconds": 1.0,
        "gateway_timeout_seconds": 10.0,
        "gateway_cooldown_failures": 2,
        "gateway_cooldown_seconds": 30.0,
        **overrides,
    }
    return Settings(**fields)


async def connection(
    client: httpx.AsyncClient,
    endpoint: str,
    model: str = "fixture-model",
    *,
    key: str = UPSTREAM_KEY,
    **fields: Any,
) -> str:
    """Create an LLM connection to `endpoint` (an OpenAI `/v1` base); its llmId."""
    body = {
        "displayName": fields.pop("displayName", "fixture"),
        "providerType": "CUSTOM_OPENAI_COMPATIBLE",
        "endpointUrl": endpoint,
        "modelIdentifier": model,
        "credentials": {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": key}},
        **fields,
    }
    created = await client.post("/v1/llms", json=body)
    assert created.status_code == 201, created.text
    llm_id: str = created.json()["llm"]["llmId"]
    return llm_id


def lines_of(metrics: str, name: str) -> list[str]:
    """The sample lines of one metric family in a `/metrics` text."""
    return [line for line in metrics.splitlines() if line.startswith(name)]


async def metric_lines(
    client: httpx.AsyncClient, name: str, wanted: Callable[[list[str]], bool]
) -> list[str]:
    """The lines of metric `name` once `wanted` holds for them (a call is counted just
    after its last byte is sent, so a client may ask a moment before), within 5 s."""
    deadline = time.monotonic() + 5
    while True:
        found = lines_of((await client.get("/metrics")).text, name)
        if wanted(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)
