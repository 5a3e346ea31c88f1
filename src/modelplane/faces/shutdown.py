"""Ending long-lived responses (watches, event streams) early: at server shutdown, at a
client's disconnect.

A watch may wait minutes and an event stream has no end of its own, while a graceful
shutdown waits for every open response. So `modelplane serve` tells the application when
it begins to shut down (`Shutdown.begin`), and each long-lived response races its work
against that and against the client going away (`first_of`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from starlette.types import Receive

T = TypeVar("T")


class Shutdown:
    """Whether the server has begun to shut down; waiters wake when it does.

    Not bound to an event loop: each waiter is a future of the loop that waits.
    """

    def __init__(self) -> None:
        self._begun = False
        self._waiters: set[asyncio.Future[None]] = set()

    @property
    def begun(self) -> bool:
        """Whether `begin` was called."""
        return self._begun

    def begin(self) -> None:
        """Wake every waiter, now and later (call it on the waiters' event loop)."""
        self._begun = True
        waiters, self._waiters = self._waiters, set()
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def wait(self) -> None:
        """Return once the shutdown has begun."""
        if self._begun:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        try:
            await future
        finally:
            self._waiters.discard(future)


async def disconnected(receive: Receive) -> None:
    """Return when the client has gone (the request body, if any, is read and dropped).

    Only for responses that do not read the body themselves.
    """
    while (await receive())["type"] != "http.disconnect":
        pass


async def first_of(
    work: Coroutine[Any, Any, T], *stops: Coroutine[Any, Any, None] | Awaitable[None]
) -> T | None:
    """`work`'s result, or None when one of `stops` returns first; the rest is cancelled.

    An exception of `work` propagates; when `work` and a stop finish together, `work` wins.
    """
    main = asyncio.ensure_future(work)
    others = [asyncio.ensure_future(stop) for stop in stops]
    tasks = [main, *others]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if main.cancelled():
        return None
    return main.result()
