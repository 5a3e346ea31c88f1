"""Two `modelplane serve` replicas on one database: concurrent batches keep the catalog whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support.databases import database
from tests.support.server import instance_env, replicas

TOKEN = "mp_replicas_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
BATCHES_PER_REPLICA = 6


async def fire_batches(urls: list[str], provider_id: str) -> list[httpx.Response]:
    """Every replica gets its batches at once; each batch claims a new default."""
    async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:

        def batch(url: str, n: int) -> object:
            items = [
                {"llmCode": f"m{n}", "isDefaultModel": True},
                {"llmCode": "shared"},
                {"llmCode": f"x{n % 3}"},
            ]
            return http.post(
                f"{url}/v1/llm-templates:batchCreate",
                json={"providerTemplateId": provider_id, "items": items},
            )

        calls = [
            batch(url, r * BATCHES_PER_REPLICA + n)
            for n in range(BATCHES_PER_REPLICA)
            for r, url in enumerate(urls)
        ]
        return list(await asyncio.gather(*calls))  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_batches_on_two_replicas_keep_each_code_once_and_one_default(
    tmp_path: Path, kind: str
) -> None:
    with database(kind, tmp_path) as url:
        env = instance_env(url, TOKEN)
        with replicas(env, cwd=tmp_path) as (first, second):
            group = httpx.post(
                f"{first.url}/v1/model-groups", json={"name": "shared"}, headers=HEADERS
            ).json()
            group_id = group["modelTemplateId"]
            provider = httpx.post(
                f"{second.url}/v1/provider-templates",
                json={
                    "modelTemplateId": group_id,
                    "name": "Acme",
                    "providerName": "provider-acme",
                    "providerType": "Custom",
                },
                headers=HEADERS,
            ).json()
            answers = asyncio.run(
                fire_batches([first.url, second.url], provider["providerTemplateId"])
            )
            assert [a.status_code for a in answers] == [200] * len(answers), [
                a.text for a in answers if a.status_code != 200
            ]
            created = sum(a.json()["successCount"] for a in answers)
            listed = httpx.get(
                f"{second.url}/v1/llm-templates",
                params={"modelTemplateId": group_id, "pageSize": 500},
                headers=HEADERS,
            ).json()
            codes = [t["llmCode"] for t in listed["llmTemplates"]]
            batches = 2 * BATCHES_PER_REPLICA
            expected = {*(f"m{n}" for n in range(batches)), "shared", "x0", "x1", "x2"}
            assert sorted(codes) == sorted(expected) and created == len(expected)
            defaults = [t["llmCode"] for t in listed["llmTemplates"] if t["isDefaultModel"]]
            assert len(defaults) == 1
            seen_by_first = httpx.get(
                f"{first.url}/v1/model-groups/{group_id}", headers=HEADERS
            ).json()
            assert seen_by_first["defaultModel"] == f"provider-acme/{defaults[0]}"
