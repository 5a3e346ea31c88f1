"""The read cache never outlives a change, made here or by another replica."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from modelplane.app import create_app
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN, new_member
from tests.integration.test_llms_api import llm_body


@pytest.fixture
async def replica_b(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second application instance on the same database."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://replica-b.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as http,
    ):
        yield http


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 2.0) -> float:
    """Poll `check` until true; return how long it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < seconds:
        if await check():
            return loop.time() - started
        await asyncio.sleep(0.005)
    raise AssertionError("the change was not seen in time")


async def test_an_update_on_another_replica_is_seen_by_a_cached_reader(
    client: httpx.AsyncClient, replica_b: httpx.AsyncClient
) -> None:
    llm_id = (await client.post("/v1/llms", json=llm_body())).json()["llm"]["llmId"]
    for _ in range(3):  # now surely cached on replica A
        assert (await client.get(f"/v1/llms/{llm_id}")).json()["displayName"] == "GPT-4 Turbo"
    await replica_b.put(f"/v1/llms/{llm_id}", json={"displayName": "changed on B"})

    async def seen() -> bool:
        response = await client.get(f"/v1/llms/{llm_id}")
        return bool(response.json()["displayName"] == "changed on B")

    await eventually(seen)


async def test_a_listing_cached_on_one_replica_reflects_a_create_on_another(
    client: httpx.AsyncClient, replica_b: httpx.AsyncClient
) -> None:
    assert (await client.get("/v1/llms")).json()["llms"] == []
    await replica_b.post("/v1/llms", json=llm_body())

    async def seen() -> bool:
        return len((await client.get("/v1/llms")).json()["llms"]) == 1

    await eventually(seen)


async def test_a_key_revoked_on_another_replica_stops_working(
    client: httpx.AsyncClient, replica_b: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    principal_id, token = await new_member(client, "alice")
    as_alice = {"x-api-key": token}
    assert (await anon.get("/v1/llms", headers=as_alice)).status_code == 200
    keys = (await replica_b.get(f"/v1/principals/{principal_id}/api-keys")).json()["apiKeys"]
    await replica_b.delete(f"/v1/principals/{principal_id}/api-keys/{keys[0]['apiKeyId']}")

    async def refused() -> bool:
        return (await anon.get("/v1/llms", headers=as_alice)).status_code == 401

    await eventually(refused)


async def test_a_local_write_is_visible_to_the_next_read_at_once(
    client: httpx.AsyncClient,
) -> None:
    llm_id = (await client.post("/v1/llms", json=llm_body())).json()["llm"]["llmId"]
    await client.get(f"/v1/llms/{llm_id}")
    await client.put(f"/v1/llms/{llm_id}", json={"displayName": "now"})
    assert (await client.get(f"/v1/llms/{llm_id}")).json()["displayName"] == "now"
    await client.delete(f"/v1/llms/{llm_id}")
    assert (await client.get(f"/v1/llms/{llm_id}")).status_code == 404
