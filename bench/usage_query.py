"""Usage reports over 10 million gateway calls, through the HTTP API, on either store.

    python bench/usage_query.py --store sqlite|postgres [--records 10000000] [--runs 5]

Starts `modelplane serve` on a new database (a SQLite file in a temporary directory, or a
PostgreSQL database with a random name on 127.0.0.1:5432, dropped afterwards), with the
retention off so that nothing is deleted while it is measured. Then it fills
`usage_records` with `--records` calls spread evenly over the last 90 days (one
`INSERT … SELECT` per million rows over `generate_series` on PostgreSQL, over a recursive
CTE on SQLite, every index in place) and builds their daily sums in `usage_daily` with one
`INSERT … SELECT … GROUP BY` and the monthly ones in `usage_monthly` from those, as the
server's own writes would have. The calls come from 50 principals with 2 keys each, over
10 model names served by 2 members each; 94 % answer 200, the rest 429, 500 or 400; 8 of
the 10 models have a price.

Each report and record list below is asked `--runs` times through `GET /v1/usage` and
`GET /v1/usage/records` with an admin key; the table gives the median and the slowest.
Last, in the bench's own process: a batch of 1,000 records and their sums written as the
server's recorder writes them, and one batch of the retention's deletes (10,000 records
older than 80 days). Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import smoke

from modelplane.domain.prices import Tokens
from modelplane.domain.usage import DAY_MS, UsageRecord, day_text, month_of, next_month
from modelplane.security.secretbox import new_master_key_text
from modelplane.services.clock import now_ms
from modelplane.services.usage_recorder import RecorderOptions, UsageRecorder
from modelplane.settings import Settings
from modelplane.store.cache import ReadCache
from modelplane.store.engine import create_engines
from modelplane.store.uow import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.databases import postgres_database  # noqa: E402
from tests.support.server import Server  # noqa: E402

TOKEN = "mp_bench_usage_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
DAYS = 90
CHUNK = 1_000_000  # rows per INSERT … SELECT (one transaction each)

# One call per series number `n`; `h` mixes `n` (Knuth's multiplicative hash) so that each
# column below draws its own pseudo-random digits of it, the same on both stores.
COLUMNS = """
    at, principal_id, api_key_id, model, member, operation, status, streamed,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nanos, latency_us
"""
VALUES = """
    :start_ms + (n - 1) * :span_ms / :total,
    'p-' || (h % 50),
    'k-' || (h % 50) || '-' || ((h / 50) % 2),
    'model-' || ((h / 100) % 10),
    'llm/m' || ((h / 100) % 10) || '-' || ((h / 1000) % 2),
    'chat/completions',
    CASE WHEN (h / 2000) % 100 < 94 THEN 200 WHEN (h / 2000) % 100 < 97 THEN 429
         WHEN (h / 2000) % 100 < 99 THEN 500 ELSE 400 END,
    (h / 200000) % 2 = 1,
    100 + (h / 7) % 2000,
    10 + (h / 11) % 500,
    ((h / 13) % 2) * 100,
    0,
    CASE WHEN (h / 100) % 10 < 8 THEN (100 + (h / 7) % 2000) * 2500 + (10 + (h / 11) % 500) * 10000
         END,
    200000 + (h / 17) % 2000000
"""
HASHED = "SELECT n, (n * 2654435761) % 4294967296 AS h FROM {series}"
SERIES = {
    "postgres": "generate_series(:first, :last) AS s(n)",
    "sqlite": "(WITH RECURSIVE s(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM s "
    "WHERE n < :last) SELECT n FROM s)",
}
ROLLUP = """
INSERT INTO usage_daily
SELECT at / 86400000, principal_id, COALESCE(api_key_id, ''), model, COALESCE(member, ''),
       status, COUNT(*), SUM(CASE WHEN streamed THEN 1 ELSE 0 END), SUM(input_tokens),
       SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens),
       COALESCE(SUM(cost_nanos), 0), SUM(CASE WHEN cost_nanos IS NULL THEN 1 ELSE 0 END),
       SUM(latency_us)
FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6
"""
MONTHLY = """
INSERT INTO usage_monthly
SELECT {month}, principal_id, api_key_id, model, member, status, SUM(calls),
       SUM(streamed_calls), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
       SUM(cache_write_tokens), SUM(cost_nanos), SUM(unpriced_calls), SUM(latency_us)
FROM usage_daily WHERE day >= {month} AND day < {following}
GROUP BY principal_id, api_key_id, model, member, status
"""
COUNT_ROLLUPS = "SELECT (SELECT COUNT(*) FROM usage_daily), (SELECT COUNT(*) FROM usage_monthly)"


def monthly_statements(start_ms: int, span_ms: int) -> list[str]:
    """The INSERT … SELECT of each month's sums from the daily ones."""
    month, last = month_of((start_ms) // DAY_MS), (start_ms + span_ms) // DAY_MS
    found = []
    while month <= last:
        found.append(MONTHLY.format(month=month, following=next_month(month)))
        month = next_month(month)
    return found


def fill_statement(store: str) -> str:
    """One chunk's INSERT … SELECT, with named parameters (`:first`, `:last`, …)."""
    source = HASHED.format(series=SERIES[store])
    columns = f"INSERT INTO usage_records ({COLUMNS})"
    return f"{columns} SELECT {VALUES} FROM ({source}) AS g"  # noqa: S608 - constants only


def positional(statement: str, names: list[str]) -> str:
    """`:name` parameters as asyncpg's `$1`, `$2`, … (bigint casts where needed)."""
    for n, name in enumerate(names, 1):
        statement = statement.replace(f":{name}", f"${n}::bigint")
    return statement


def fill_sqlite(path: Path, total: int, start_ms: int, span_ms: int) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA cache_size = -2000000")  # 2 GB: the indexes stay in memory
    statement = fill_statement("sqlite")
    for first in range(1, total + 1, CHUNK):
        last = min(total, first + CHUNK - 1)
        params = {"first": first, "last": last, "start_ms": start_ms}
        with conn:
            conn.execute(statement, params | {"span_ms": span_ms, "total": total})
        print(f"  {last:,} records", file=sys.stderr, flush=True)
    with conn:
        conn.execute(ROLLUP)
        for statement in monthly_statements(start_ms, span_ms):
            conn.execute(statement)
    conn.execute("ANALYZE")
    daily, monthly = conn.execute(COUNT_ROLLUPS).fetchone()
    conn.close()
    return daily, monthly


async def fill_postgres(url: str, total: int, start_ms: int, span_ms: int) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    names = ["start_ms", "span_ms", "total", "first", "last"]
    statement = positional(fill_statement("postgres"), names)
    try:
        for first in range(1, total + 1, CHUNK):
            last = min(total, first + CHUNK - 1)
            await conn.execute(statement, start_ms, span_ms, total, first, last)
            print(f"  {last:,} records", file=sys.stderr, flush=True)
        await conn.execute(ROLLUP)
        for statement in monthly_statements(start_ms, span_ms):
            await conn.execute(statement)
        for table in ("usage_records", "usage_daily", "usage_monthly"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        daily, monthly = await conn.fetchrow(COUNT_ROLLUPS)
        return int(daily), int(monthly)
    finally:
        await conn.close()


def queries(today: int) -> list[tuple[str, str, dict[str, str]]]:
    """(what, path, parameters) of each measured request."""
    first = day_text(today - DAYS + 1)
    return [
        ("total of the last 30 days", "/v1/usage", {}),
        ("per day, 90 days", "/v1/usage", {"groupBy": "day", "from": first}),
        ("per model, 30 days", "/v1/usage", {"groupBy": "model"}),
        ("per key, 90 days (100 a page)", "/v1/usage", {"groupBy": "key", "from": first}),
        (
            "per principal and model, 90 days (1,000 a page)",
            "/v1/usage",
            {"groupBy": "principal,model", "from": first, "pageSize": "1000"},
        ),
        (
            "one principal per day and model, 90 days (a member's own)",
            "/v1/usage",
            {"groupBy": "day,model", "from": first, "principalId": "p-7", "pageSize": "1000"},
        ),
        (
            "one key per day, 90 days",
            "/v1/usage",
            {"groupBy": "day", "from": first, "apiKeyId": "k-7-1"},
        ),
        (
            "one model per member and day, 30 days",
            "/v1/usage",
            {"groupBy": "member,day", "model": "model-3"},
        ),
        ("5xx per day, 90 days", "/v1/usage", {"groupBy": "day", "from": first, "status": "5xx"}),
        (
            "all five groups, 90 days (first 1,000)",
            "/v1/usage",
            {"groupBy": "day,principal,key,model,member", "from": first, "pageSize": "1000"},
        ),
        ("records: the newest 100 of the last day", "/v1/usage/records", {}),
        ("records: one key's newest 100", "/v1/usage/records", {"apiKeyId": "k-7-1"}),
    ]


def timed(http: httpx.Client, path: str, params: dict[str, str], runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = http.get(path, params=params)
        took.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return took


def sample(at: int, n: int) -> UsageRecord:
    return UsageRecord(
        at=at,
        principal_id=f"p-{n % 50}",
        api_key_id=f"k-{n % 50}-{n % 2}",
        model=f"model-{n % 10}",
        member=f"llm/m{n % 10}-{n % 2}",
        operation="chat/completions",
        status=200,
        streamed=False,
        tokens=Tokens(input=500, output=100),
        cost_nanos=2_250_000,
        latency_us=400_000,
    )


async def write_and_prune(url: str) -> list[tuple[str, str]]:
    """A batch written as the recorder writes it, and a batch of the retention's deletes."""
    settings = Settings(database_url=url, secret_key=new_master_key_text())
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    try:
        now = now_ms()
        writes, deletes, deleted = [], [], []
        for _ in range(3):
            recorder = UsageRecorder(store, RecorderOptions(retention_days=80))
            for n in range(1000):
                recorder.record(sample(now, n))
            started = time.perf_counter()
            await recorder.flush()
            writes.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            deleted.append(await recorder.prune())
            deletes.append((time.perf_counter() - started) * 1000)
        return [
            (
                "a batch of 1,000 records and their daily and monthly sums written (3 batches)",
                f"{statistics.median(writes):.0f} / {max(writes):.0f}",
            ),
            (
                f"a batch of the retention's deletes ({deleted[0]:,} records, 3 batches)",
                f"{statistics.median(deletes):.0f} / {max(deletes):.0f}",
            ),
        ]
    finally:
        await engines.dispose()


@contextmanager
def database(store: str, tmp: Path) -> Iterator[str]:
    if store == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'usage.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = smoke.cap_args(parser.parse_args(), records=20_000, runs=1)
    now = now_ms()
    span = DAYS * DAY_MS
    with tempfile.TemporaryDirectory() as tmp, database(args.store, Path(tmp)) as url:
        env = {
            "MODELPLANE_DATABASE_URL": url,
            "MODELPLANE_SECRET_KEY": new_master_key_text(),
            "MODELPLANE_BOOTSTRAP_TOKEN": TOKEN,
            "MODELPLANE_LOG_LEVEL": "warning",
            "MODELPLANE_USAGE_RETENTION_DAYS": "0",  # nothing deleted while measured
        }
        with Server(cwd=Path(tmp), env=env) as server:  # migrates the new database
            started = time.perf_counter()
            if args.store == "postgres":
                rollups = asyncio.run(fill_postgres(url, args.records, now - span, span))
            else:
                rollups = fill_sqlite(Path(tmp) / "usage.db", args.records, now - span, span)
            filled = time.perf_counter() - started
            with httpx.Client(base_url=server.url, headers=HEADERS, timeout=120) as http:
                http.get("/v1/usage").raise_for_status()  # warm: first connection, first query
                rows = []
                for what, path, params in queries(now // DAY_MS):
                    took = timed(http, path, params, args.runs)
                    rows.append((what, f"{statistics.median(took):.0f} / {max(took):.0f}"))
                daily = http.get("/v1/usage", params={"groupBy": "day"}).json()
        rows += asyncio.run(write_and_prune(url))
    print(
        f"{args.records:,} records, {rollups[0]:,} daily and {rollups[1]:,} monthly sums filled "
        f"in {filled:.0f} s on {args.store} ({len(daily['groups'])} of the last 30 days hold "
        "calls)"
    )
    print()
    print(f"| request ({args.store}, {args.records:,} records) | median / slowest, ms |")
    print("|---|---|")
    for what, result in rows:
        print(f"| {what} | {result} |")


if __name__ == "__main__":
    main()
