"""Model catalog through the official appstream-center SDK: batch creation and list paging.

    python bench/catalog_rpc.py [--stores sqlite,postgres] [--rows 100000] [--repeat 30]

Starts `modelplane serve` on 127.0.0.1 for each store (SQLite file; PostgreSQL database
with a random name on 127.0.0.1:5432, dropped afterwards) with a bootstrap access key,
and drives it with `alibabacloud_appstream_center20210901.client.Client`, unchanged:

1. BatchCreateLlmTemplates of 1,000 items into an empty provider, `--repeat` times into
   fresh providers (every call timed end to end: signing, HTTP, verification, the
   transaction).
2. The same batch into one provider until it holds `--rows` rows (1,000 per call, timed),
   then ListLlmTemplates pages of 100 (first, middle, last page; by provider, by group,
   and unfiltered), each timed `--repeat` times.

Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import smoke
from alibabacloud_appstream_center20210901 import models
from alibabacloud_appstream_center20210901.client import Client
from alibabacloud_tea_openapi.models import Config

from modelplane.security.secretbox import new_master_key_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.databases import database  # noqa: E402
from tests.support.server import Server  # noqa: E402

KEY_ID = "LTAIbenchcatalog0001"
KEY_SECRET = "bench-catalog-secret-0123456789abcdef"
BATCH = smoke.cap(1000, 100)  # items per BatchCreateLlmTemplates
PAGE_SIZE = 100


def item(n: int, *, default: bool = False) -> models.BatchCreateLlmTemplatesRequestLlmTemplateItems:
    """One realistic batch item (the seed's example, numbered)."""
    config = {
        "id": f"qwen-bench-{n}",
        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
        "input": ["image", "text"],
        "maxTokens": 65536,
        "reasoning": False,
        "contextWindow": 1000000,
    }
    return models.BatchCreateLlmTemplatesRequestLlmTemplateItems(
        llm_code=f"qwen-bench-{n}",
        name=f"Qwen Bench {n}",
        description="千问Plus系列模型",
        config=json.dumps(config),
        is_default_model=default,
    )


def timed(call: Callable[[], object]) -> float:
    """Seconds one call took."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def summary(seconds: list[float]) -> str:
    """Median and worst of a list of timings, in ms."""
    return f"{statistics.median(seconds) * 1000:.0f} ms (max {max(seconds) * 1000:.0f} ms)"


@contextmanager
def serving(kind: str) -> Iterator[tuple[Client, str]]:
    """A live modelplane on `kind`, an SDK client for it, and the database URL."""
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        env = {
            "MODELPLANE_DATABASE_URL": url,
            "MODELPLANE_SECRET_KEY": new_master_key_text(),
            "MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID": KEY_ID,
            "MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET": KEY_SECRET,
            "MODELPLANE_LOG_LEVEL": "warning",
            "MODELPLANE_RATE_LIMIT_PER_SECOND": "0",  # one access key, as fast as it can
        }
        with Server(cwd=Path(tmp), env=env) as server:
            config = Config(
                access_key_id=KEY_ID,
                access_key_secret=KEY_SECRET,
                endpoint=f"127.0.0.1:{server.port}",
                protocol="http",
                read_timeout=60000,
                connect_timeout=5000,
            )
            yield Client(config), url


def new_provider(client: Client, group_id: str, n: int) -> str:
    created = client.create_model_provider_template(
        models.CreateModelProviderTemplateRequest(
            model_template_id=group_id,
            name=f"Bench {n}",
            provider_name=f"provider-bench-{n}",
            provider_type="Custom",
            config=json.dumps(
                {
                    "baseUrl": "https://bench.test/v1",
                    "api": "openai",
                    "apiKey": "sk-bench-0123456789",
                }
            ),
        )
    )
    return str(created.body.data.provider_template_id)


def batch(client: Client, provider_id: str, start: int) -> int:
    items = [item(n, default=n == start) for n in range(start, start + BATCH)]
    answer = client.batch_create_llm_templates(
        models.BatchCreateLlmTemplatesRequest(
            provider_template_id=provider_id, llm_template_items=items
        )
    )
    assert answer.body.data.success_count == BATCH, answer.body.to_map()
    return int(answer.body.data.total_count)


def vacuum(url: str, statement: str) -> None:
    """Run a maintenance statement outside any transaction."""
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def run_store(kind: str, rows: int, repeat: int) -> list[tuple[str, str]]:
    """Every measure on one store kind, as (measure, result) rows."""
    results: list[tuple[str, str]] = []
    with serving(kind) as (client, url):
        group = client.create_model_template(models.CreateModelTemplateRequest(name="bench"))
        group_id = str(group.body.data.model_template_id)
        fresh = [
            timed(lambda n=n: batch(client, new_provider(client, group_id, n), 0))
            for n in range(repeat)
        ]
        results.append(
            (
                f"BatchCreateLlmTemplates, {BATCH:,} items, empty provider ({repeat} runs)",
                summary(fresh),
            )
        )

        big = new_provider(client, group_id, 10_000)
        filling = [timed(lambda s=s: batch(client, big, s)) for s in range(0, rows, BATCH)]
        results.append(
            (
                f"BatchCreateLlmTemplates, {BATCH:,} items, provider growing to {rows:,} rows",
                summary(filling),
            )
        )

        last = -(-rows // PAGE_SIZE)
        rounds: list[tuple[str, str | None]] = [("", None)]
        if kind == "postgres":  # also once the planner has statistics, as autovacuum gives
            rounds.append((", after VACUUM ANALYZE", "VACUUM ANALYZE llm_templates"))
        for note, maintenance in rounds:
            if maintenance is not None:
                vacuum(url, maintenance)
            for label, request in [
                ("by provider", {"provider_template_id": big}),
                ("by group", {"model_template_id": group_id}),
                ("unfiltered", {}),
            ]:
                for page in (1, last // 2, last):

                    def listing(page: int = page, request: dict[str, str] = request) -> int:
                        answer = client.list_llm_templates(
                            models.ListLlmTemplatesRequest(
                                page_number=page, page_size=PAGE_SIZE, **request
                            )
                        )
                        assert len(answer.body.data) == PAGE_SIZE, answer.body.total_count
                        return int(answer.body.total_count)

                    matched = listing()  # warm, and how many rows the filter matches
                    times = [timed(listing) for _ in range(repeat)]
                    results.append(
                        (
                            f"ListLlmTemplates {label}, page {page} (100 rows of {matched:,})"
                            f"{note}",
                            summary(times),
                        )
                    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = smoke.cap_args(parser.parse_args(), rows=200, repeat=1)
    table = ["| store | measure | median (max) through the SDK |", "|---|---|---|"]
    for kind in args.stores.split(","):
        for measure, result in run_store(kind, args.rows, args.repeat):
            table.append(f"| {kind} | {measure} | {result} |")
            print(table[-1], file=sys.stderr, flush=True)
    print("\n".join(table))


if __name__ == "__main__":
    main()
