"""Two replicas on one database: a connection's key, endpoint and defaults changed through
one are used by the next call through the other within a second, with no restart."""

from __future__ import annotations

import time

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from modelplane.app import create_app
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.support.gateway_calls import UPSTREAM_KEY, connection, gateway_settings
from tests.support.in_process import served
from tests.support.upstreams import FixtureUpstream

ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
NEW_KEY = "sk-rotated-abcdef0123456789"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url)


async def test_a_key_endpoint_and_default_changed_on_one_replica_are_used_on_the_other(
    settings: Settings, client: httpx.AsyncClient, upstream: FixtureUpstream
) -> None:
    """`client` talks to replica A (the test's app); B is another app on the same database
    and master key, with its own caches, served on a socket."""
    llm_id = await connection(client, upstream.base("ok-before"), "replicated")
    replica_b = create_app(settings)
    async with (
        replica_b.router.lifespan_context(replica_b),
        served(replica_b) as url,
        openai.AsyncOpenAI(base_url=f"{url}/openai/v1", api_key=ADMIN_TOKEN, max_retries=0) as on_b,
    ):
        await on_b.chat.completions.create(model="replicated", messages=ASK)
        assert upstream.seen[-1].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"

        changed = await client.put(
            f"/v1/llms/{llm_id}",
            json={
                "endpointUrl": upstream.base("ok-after"),
                "credentials": {
                    "kind": "CREDENTIAL_KIND_API_KEY",
                    "apiKey": {"inlineSecret": NEW_KEY},
                },
                "defaultSamplingParams": {"temperature": 0.75},
            },
        )
        assert changed.status_code == 200, changed.text
        started = time.monotonic()
        while True:
            await on_b.chat.completions.create(model="replicated", messages=ASK)
            seen = upstream.seen[-1]
            if seen.path.startswith("/ok-after/"):
                break
            assert time.monotonic() - started < 1.0, "replica B still uses the old connection"
        assert seen.headers["authorization"] == f"Bearer {NEW_KEY}"
        assert seen.body["temperature"] == 0.75
