"""Two `modelplane serve` replicas on one database: concurrent catalog changes keep it whole.

Concurrent batches keep each code once and one default. A default deleted on one replica
while the other names a new one (a batch with a default, PATCH `defaultModel`, RPC
BatchCreateLlmTemplates or UpdateModelTemplate) ends, in either order, with the new
default both flagged and pointed at: the group's pointer and the flags never disagree.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.databases import database
from tests.support.rpc import RpcClient
from tests.support.server import Server, instance_env, replicas
from tests.support.store_invariants import broken_invariants, defaults, pointer_disagreements
from tests.support.store_snapshot import PostgresRows, SqliteRows

TOKEN = "mp_replicas_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
ACCESS_KEY_ID = "MPAKREPLICAS0123456789"
ACCESS_KEY_SECRET = "replicas-secret-0123456789abcdef"
BATCHES_PER_REPLICA = 6
ROUNDS = 80
ROUNDS_SECONDS = 240  # a bound, far above the ~15 s the rounds take on a loaded machine
PROVIDER = "provider-acme"


@dataclass
class Pair:
    """Two replicas on one database, and a way to look at its rows."""

    first: Server
    second: Server
    rows: SqliteRows | PostgresRows

    @property
    def urls(self) -> list[str]:
        return [self.first.url, self.second.url]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    tmp_path = tmp_path_factory.mktemp(f"replicas-{request.param}")
    with database(request.param, tmp_path) as url:
        env = instance_env(
            url,
            TOKEN,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID=ACCESS_KEY_ID,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET,
        )
        with replicas(env, cwd=tmp_path) as (first, second):
            rows = (
                SqliteRows(sqlite3.connect(tmp_path / "modelplane.db"))
                if request.param == "sqlite"
                else PostgresRows(url)
            )
            try:
                yield Pair(first, second, rows)
            finally:
                rows.close()


def group_with_provider(pair: Pair, name: str) -> tuple[str, str]:
    """A new group (made through the first replica) with one Custom provider (the second)."""
    group = httpx.post(f"{pair.first.url}/v1/model-groups", json={"name": name}, headers=HEADERS)
    group_id = group.json()["modelTemplateId"]
    provider = httpx.post(
        f"{pair.second.url}/v1/provider-templates",
        json={
            "modelTemplateId": group_id,
            "name": "Acme",
            "providerName": PROVIDER,
            "providerType": "Custom",
        },
        headers=HEADERS,
    )
    return group_id, provider.json()["providerTemplateId"]


async def fire_batches(urls: list[str], provider_id: str) -> list[httpx.Response]:
    """Every replica gets its batches at once; each batch claims a new default."""
    async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:

        def batch(url: str, n: int) -> Awaitable[httpx.Response]:
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
        return list(await asyncio.gather(*calls))


@pytest.mark.slow
def test_concurrent_batches_on_two_replicas_keep_each_code_once_and_one_default(
    pair: Pair,
) -> None:
    group_id, provider_id = group_with_provider(pair, "shared")
    answers = asyncio.run(fire_batches(pair.urls, provider_id))
    assert [a.status_code for a in answers] == [200] * len(answers), [
        a.text for a in answers if a.status_code != 200
    ]
    created = sum(a.json()["successCount"] for a in answers)
    listed = httpx.get(
        f"{pair.second.url}/v1/llm-templates",
        params={"modelTemplateId": group_id, "pageSize": 500},
        headers=HEADERS,
    ).json()
    codes = [t["llmCode"] for t in listed["llmTemplates"]]
    batches = 2 * BATCHES_PER_REPLICA
    expected = {*(f"m{n}" for n in range(batches)), "shared", "x0", "x1", "x2"}
    assert sorted(codes) == sorted(expected) and created == len(expected)
    defaults = [t["llmCode"] for t in listed["llmTemplates"] if t["isDefaultModel"]]
    assert len(defaults) == 1
    seen_by_first = httpx.get(f"{pair.first.url}/v1/model-groups/{group_id}", headers=HEADERS)
    assert seen_by_first.json()["defaultModel"] == f"{PROVIDER}/{defaults[0]}"


@dataclass
class Replica:
    """One replica as the native API and the RPC face reach it."""

    http: httpx.AsyncClient
    rpc: RpcClient


class DefaultRace:
    """Each round: one replica deletes the default, the other names a new one, at once."""

    CLAIMS = ("batch", "patch", "rpc batch", "rpc update")

    def __init__(self, group_id: str, provider_id: str, replicas: list[Replica]) -> None:
        self.group_id = group_id
        self.provider_id = provider_id
        self.replicas = replicas

    async def setup(self, n: int) -> str:
        """A new default `d{n}` and a spare `k{n}`; the id of the default."""
        answer = await self.replicas[0].http.post(
            "/v1/llm-templates:batchCreate",
            json={
                "providerTemplateId": self.provider_id,
                "items": [{"llmCode": f"d{n}", "isDefaultModel": True}, {"llmCode": f"k{n}"}],
            },
        )
        assert answer.status_code == 200, answer.text
        ids: list[str] = answer.json()["llmTemplateIds"]
        return ids[0]

    async def delete(self, replica: Replica, template_id: str, *, rpc: bool) -> httpx.Response:
        if rpc:
            return await replica.rpc.call("DeleteLlmTemplate", {"LlmTemplateId": template_id})
        return await replica.http.delete(f"/v1/llm-templates/{template_id}")

    async def claim(self, replica: Replica, n: int, how: str) -> tuple[httpx.Response, str]:
        """Name a new default; the response and the `providerName/llmCode` it names."""
        if how == "batch":
            answer = await replica.http.post(
                "/v1/llm-templates:batchCreate",
                json={
                    "providerTemplateId": self.provider_id,
                    "items": [{"llmCode": f"b{n}", "isDefaultModel": True}],
                },
            )
            return answer, f"{PROVIDER}/b{n}"
        if how == "patch":
            answer = await replica.http.patch(
                f"/v1/model-groups/{self.group_id}", json={"defaultModel": f"{PROVIDER}/k{n}"}
            )
            return answer, f"{PROVIDER}/k{n}"
        if how == "rpc batch":
            form = {
                "ProviderTemplateId": self.provider_id,
                "LlmTemplateItems.1.LlmCode": f"b{n}",
                "LlmTemplateItems.1.IsDefaultModel": "true",
            }
            return await replica.rpc.call("BatchCreateLlmTemplates", form=form), f"{PROVIDER}/b{n}"
        config = json.dumps({"defaults": {"model": {"primary": f"{PROVIDER}/k{n}"}}})
        answer = await replica.rpc.call(
            "UpdateModelTemplate", form={"ModelTemplateId": self.group_id, "Config": config}
        )
        return answer, f"{PROVIDER}/k{n}"

    async def round(self, n: int) -> str:
        """Play round `n`; the default it must end with."""
        template_id = await self.setup(n)
        deleter, claimer = self.replicas[n % 2], self.replicas[1 - n % 2]
        how = self.CLAIMS[(n // 2) % len(self.CLAIMS)]
        deleted, (claimed, wanted) = await asyncio.gather(
            self.delete(deleter, template_id, rpc=(n // 8) % 2 == 1),
            self.claim(claimer, n, how),
        )
        assert deleted.status_code == 200, deleted.text
        assert claimed.status_code == 200, (how, claimed.text)
        return wanted


async def race_defaults(pair: Pair, group_id: str, provider_id: str) -> list[str]:
    """Play the rounds; a line for each round that did not end with the default it named
    both flagged and pointed at (whichever request came first, that one is the default)."""
    deadline = time.monotonic() + ROUNDS_SECONDS
    wrong = []
    async with (
        httpx.AsyncClient(base_url=pair.first.url, headers=HEADERS, timeout=60) as first,
        httpx.AsyncClient(base_url=pair.second.url, headers=HEADERS, timeout=60) as second,
    ):
        race = DefaultRace(
            group_id,
            provider_id,
            [
                Replica(http, RpcClient(http, ACCESS_KEY_ID, ACCESS_KEY_SECRET))
                for http in (first, second)
            ],
        )
        for n in range(ROUNDS):
            assert time.monotonic() < deadline, f"only {n} rounds in {ROUNDS_SECONDS} s"
            wanted = await race.round(n)
            pointer, flagged = defaults(pair.rows)[group_id]
            if pointer != wanted or flagged != wanted:
                what = "disagree" if pointer != flagged else "agree on another default"
                wrong.append(f"round {n}: pointer {pointer} and flag {flagged} {what}")
    return wrong


@pytest.mark.slow
def test_a_default_deleted_on_one_replica_while_the_other_names_one_leaves_them_agreeing(
    pair: Pair,
) -> None:
    group_id, provider_id = group_with_provider(pair, "raced default")
    wrong = asyncio.run(race_defaults(pair, group_id, provider_id))
    assert not wrong, f"{len(wrong)} of {ROUNDS} rounds:\n" + "\n".join(wrong)
    assert not pointer_disagreements(pair.rows)
    assert not broken_invariants(pair.rows)
