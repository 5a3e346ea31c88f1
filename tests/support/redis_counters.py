"""Redis for the tests of limits and budgets: the local server at 127.0.0.1:6379, keys
under a random prefix per test (deleted afterwards). Without it, such a test is skipped
locally and fails in CI, as the PostgreSQL tests do."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from pydantic import SecretStr

from tests.support.databases import IN_CI

REDIS_URL = os.environ.get("MODELPLANE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Counters in the database, or in Redis (marked, so that `-m "not redis"` leaves it out).
COUNTERS = ["database", pytest.param("redis", marks=pytest.mark.redis)]


async def require_redis() -> None:
    """Fail in CI, skip elsewhere, when Redis does not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as exc:
        message = f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__}: {exc})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    finally:
        await client.aclose()


async def drop_keys(prefix: str) -> int:
    """Delete every key under `prefix`; how many went."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        return int(await client.delete(*keys)) if keys else 0
    finally:
        await client.aclose()


async def redis_prefix() -> AsyncIterator[str]:
    """A fresh key prefix on the test Redis, its keys deleted afterwards (a fixture body)."""
    await require_redis()
    prefix = f"modelplane-test:{secrets.token_hex(6)}:"
    try:
        yield prefix
    finally:
        await drop_keys(prefix)


def counter_settings(kind: str, prefix: str | None) -> dict[str, object]:
    """The settings of counters of `kind` (`database` or `redis`), for `model_copy`."""
    if kind == "redis":
        return {"redis_url": SecretStr(REDIS_URL), "redis_key_prefix": prefix}
    return {}
