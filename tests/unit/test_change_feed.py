"""The change feed wakes a topic's watchers; shared reads serve one feed generation."""

from __future__ import annotations

import asyncio

from modelplane.store.feed import ChangeFeed
from modelplane.store.uow import Store


async def test_publishing_wakes_only_that_topics_watchers_and_moves_its_generation() -> None:
    feed = ChangeFeed()
    a, b = feed.waiter("a"), feed.waiter("b")
    assert feed.generation("a") == 0 and feed.watchers() == 2
    feed.publish("a")
    assert a.done() and not b.done() and feed.generation("a") == 1
    feed.discard("b", b)
    assert feed.watchers() == 0


async def test_concurrent_shared_reads_of_one_key_run_once() -> None:
    store = Store.__new__(Store)  # only the in-flight table is used here
    store._in_flight = {}
    loads = 0
    release = asyncio.Event()

    async def load() -> int:
        nonlocal loads
        loads += 1
        await release.wait()
        return loads

    first = asyncio.create_task(store.shared(("k", 1), load))
    second = asyncio.create_task(store.shared(("k", 1), load))
    other_generation = asyncio.create_task(store.shared(("k", 2), load))
    await asyncio.sleep(0)
    release.set()
    assert await first == await second
    assert await other_generation != await first
    assert loads == 2 and store._in_flight == {}
