"""The counters of limits and budgets, in the database (both stores) and in Redis: a take
is all or nothing, a cap is never passed however many take at once, a settlement adds
whatever the caps, and counters outlive their window only a while."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from modelplane.domain.errors import Unavailable
from modelplane.domain.spend_limits import Metric, SubjectKind, Take, Window
from modelplane.store.counters import Counters, DatabaseCounters, RedisCounters, counters_for
from tests.support.redis_counters import COUNTERS, REDIS_URL, redis_prefix

WINDOW = Window(0, 60_000)
FAR = 4_102_444_800_000  # 2100-01-01: keys that outlive the test


@pytest.fixture(params=COUNTERS)
async def counters(request: pytest.FixtureRequest, app: FastAPI) -> AsyncIterator[Counters]:
    """Counters of each kind: the app's database, or Redis under the test's prefix."""
    if request.param == "redis":
        async for prefix in redis_prefix():
            found = counters_for(app.state.store, REDIS_URL, prefix=prefix, timeout=2.0)
            try:
                yield found
            finally:
                await found.close()
    else:
        yield counters_for(app.state.store, None, prefix="", timeout=1.0)


def take(key: str, amount: int, cap: int | None, expires_at: int = FAR) -> Take:
    return Take(key, amount, cap, expires_at, SubjectKind.API_KEY, "k", Metric.REQUESTS, WINDOW, 0)


async def test_a_take_is_all_or_nothing(counters: Counters) -> None:
    assert (await counters.take([take("a", 3, 5), take("b", 1, None)])).refused is None
    refused = await counters.take([take("b", 10, None), take("a", 3, 5)])
    assert (refused.refused, refused.value) == (1, 3)
    assert await counters.values(["a", "b", "c"]) == [3, 1, 0]  # b was not added to
    assert (await counters.take([take("a", 2, 5)])).refused is None
    assert (await counters.take([take("a", 0, 4)])).refused == 0  # a check: 5 passed 4
    assert (await counters.take([take("new", 6, 5)])).refused == 0  # alone over its cap
    assert await counters.values(["a", "new"]) == [5, 0]


async def test_a_settlement_adds_whatever_the_caps_and_may_take_back(counters: Counters) -> None:
    await counters.take([take("spend", 700, 1000)])
    await counters.add([take("spend", -450, 10), take("tokens", 33, 1)])
    assert await counters.values(["spend", "tokens"]) == [250, 33]


async def test_concurrent_takes_never_pass_the_cap(counters: Counters) -> None:
    results = await asyncio.gather(
        *(counters.take([take("shared", 1, 25), take("other", 1, None)]) for _ in range(60))
    )
    assert sum(r.refused is None for r in results) == 25
    assert await counters.values(["shared", "other"]) == [25, 25]


async def test_counters_past_their_expiry_go(counters: Counters) -> None:
    """Redis expires a key itself; the database deletes its rows now and then (once a
    minute per replica, at the first take)."""
    await counters.take([take("gone", 1, None, expires_at=1), take("kept", 1, None)])
    if isinstance(counters, DatabaseCounters):
        counters._next_prune = 0.0  # as a minute later
        await counters.take([take("kept", 1, None)])
        assert await counters.values(["gone", "kept"]) == [0, 2]
    else:
        assert await counters.values(["gone", "kept"]) == [0, 1]


async def test_redis_that_does_not_answer_is_unavailable() -> None:
    unreachable = RedisCounters("redis://127.0.0.1:1/0", prefix="x:", timeout_seconds=0.5)
    try:
        with pytest.raises(Unavailable, match="Redis"):
            await unreachable.take([take("a", 1, 1)])
        with pytest.raises(Unavailable):
            await unreachable.add([take("a", 1, None)])
        with pytest.raises(Unavailable):
            await unreachable.values(["a"])
    finally:
        await unreachable.close()
