"""Waiting for a change: read, and read again each time one of its topics is published."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from modelplane.store.uow import Store

T = TypeVar("T")


async def first_change(
    store: Store,
    topics: Sequence[str],
    read: Callable[[], Awaitable[T | None]],
    timeout_seconds: float,
) -> T | None:
    """What `read()` answers as soon as it answers something (not None): it reads at once,
    then after each publication of one of `topics` (on any replica); None when
    `timeout_seconds` pass first. The wake-ups are set up before each read, so that no
    change slips between a read and the wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_seconds
    while True:
        woken = [store.feed.waiter(t) for t in topics]
        try:
            found = await read()
            if found is not None:
                return found
            left = deadline - loop.time()
            if left <= 0:
                return None
            done, _ = await asyncio.wait(woken, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                return None
        finally:
            for t, future in zip(topics, woken, strict=True):
                store.feed.discard(t, future)
