"""Races between two `modelplane serve` replicas on one database.

40 identical LLM creates (same owner, same connection) spread over both replicas at once:
the unique index lets exactly one through; every other answer is 409 ALREADY_EXISTS and
one row is stored. (Overlapping BatchCreateLlmTemplates through both replicas is in
test_catalog_replicas.py; replicas migrating together in test_serve.py.)
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import database
from tests.support.server import instance_env, replicas

TOKEN = "mp_races_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
CREATES = 40


def same_connection() -> dict[str, Any]:
    return {
        "displayName": "raced",
        "providerType": "OPENAI",
        # Spelled differently, canonically the same: the duplicate check compares the
        # canonical endpoint.
        "endpointUrl": "HTTPS://API.Example.COM:443/v1/",
        "modelIdentifier": "gpt-4o",
        "credentials": {
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": "sk-race-0123456789"},
        },
    }


async def create_everywhere(urls: list[str]) -> list[httpx.Response]:
    """All creates in flight at once, alternating between the replicas."""
    limits = httpx.Limits(max_connections=CREATES)
    async with httpx.AsyncClient(headers=HEADERS, timeout=60, limits=limits) as http:
        start = asyncio.Event()

        async def create(url: str) -> httpx.Response:
            await start.wait()
            return await http.post(f"{url}/v1/llms", json=same_connection())

        calls = [asyncio.create_task(create(urls[n % len(urls)])) for n in range(CREATES)]
        await asyncio.sleep(0)
        start.set()
        return list(await asyncio.gather(*calls))


def stored_rows(kind: str, url: str) -> int:
    if kind == "sqlite":
        with sqlite3.connect(url.split(":///", 1)[1]) as conn:
            return int(conn.execute("SELECT count(*) FROM llms").fetchone()[0])
    import asyncpg

    async def count() -> int:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM llms"))
        finally:
            await conn.close()

    return asyncio.run(count())


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_identical_creates_on_two_replicas_store_one_llm(tmp_path: Path, kind: str) -> None:
    with database(kind, tmp_path) as url:
        env = instance_env(url, TOKEN)
        with replicas(env, cwd=tmp_path) as (first, second):
            answers = asyncio.run(create_everywhere([first.url, second.url]))
            statuses = [a.status_code for a in answers]
            assert statuses.count(201) == 1, [a.text for a in answers]
            assert statuses.count(409) == CREATES - 1, [a.text for a in answers]
            winner = next(a for a in answers if a.status_code == 201).json()["llm"]["llmId"]
            # The message names the existing LLM when the check before the insert saw it;
            # a create that lost the race at the unique index gets the generic message.
            for answer in answers:
                if answer.status_code == 409:
                    body = answer.json()
                    assert body["code"] == "ALREADY_EXISTS", body
                    assert "sk-race" not in answer.text
            for server in (first, second):
                listed = httpx.get(f"{server.url}/v1/llms", headers=HEADERS).json()["llms"]
                assert [llm["llmId"] for llm in listed] == [winner]
            assert stored_rows(kind, url) == 1
