"""What the gateway's end-to-end tests share: the test's app served on a real socket, and
the official `openai` SDK pointed at its gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from fastapi import FastAPI

from tests.conftest import ADMIN_TOKEN
from tests.support.in_process import served


@pytest.fixture
async def gateway_url(app: FastAPI) -> AsyncIterator[str]:
    """The base URL of the test's app (the `app` fixture), served on 127.0.0.1."""
    async with served(app) as base:
        yield base


@pytest.fixture
async def openai_client(gateway_url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    """The `openai` SDK, as the admin, at the gateway's OpenAI routes; no retries of its own."""
    async with openai.AsyncOpenAI(
        base_url=f"{gateway_url}/openai/v1", api_key=ADMIN_TOKEN, max_retries=0
    ) as client:
        yield client
