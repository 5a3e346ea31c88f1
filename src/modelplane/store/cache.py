"""A read cache that is only trusted while the database is known not to have changed.

Freshness comes from the store itself, so replicas stay coherent:
- SQLite: `PRAGMA data_version` on a dedicated connection changes whenever any other
  connection (any process) commits; a change clears the cache.
- PostgreSQL: every writing transaction sends `NOTIFY modelplane_changes`; each replica
  listens and clears its cache. While the listener is down, nothing is served from cache.
Local commits clear the cache at once. Entries are whole query results, never partial.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from modelplane.store.feed import TOPIC_CHANNEL

T = TypeVar("T")
CHANNEL = "modelplane_changes"
log = logging.getLogger("modelplane.cache")


class Freshness(Protocol):
    """Tells whether cached entries may still be served."""

    def version(self) -> int | None:
        """A number that changes whenever the database changes; None: do not cache."""
        ...

    async def start(self, on_change: Callable[[], None]) -> None:
        """Begin watching; call `on_change` when another party commits."""
        ...

    def listen_topics(self, on_topic: Callable[[str | None], None]) -> None:
        """Hear topics announced by other replicas (None: some may have been missed)."""
        ...

    async def stop(self) -> None:
        """Stop watching."""
        ...


class SqliteDataVersion:
    """`PRAGMA data_version` on a connection of its own, read at most once per `reuse` s.

    Commits made through this process invalidate the cache at once (`ReadCache.clear`);
    a commit by another process is noticed within `reuse` seconds (1 ms by default), well
    inside what PostgreSQL notifications take. Probing on every lookup cost about a tenth
    of the read path's CPU.
    """

    def __init__(self, engine: sa.Engine, *, reuse: float = 0.001) -> None:
        self._engine = engine
        self._raw: Any = None
        self._reuse = reuse
        self._last: int | None = None
        self._probed_at = -1.0

    async def start(self, on_change: Callable[[], None]) -> None:
        """Open the probe connection."""
        self._raw = self._engine.raw_connection()

    def listen_topics(self, on_topic: Callable[[str | None], None]) -> None:
        """Nothing to listen to: on SQLite, topics are announced within the process."""

    def version(self) -> int | None:
        """The data version (at most `reuse` seconds old), or None when the probe fails."""
        if self._raw is None:
            return None
        now = time.monotonic()
        if now - self._probed_at < self._reuse:
            return self._last
        try:
            row = self._raw.driver_connection.execute("PRAGMA data_version").fetchone()
            self._last = int(row[0])
        except Exception:  # a failing probe only disables the cache
            self._last = None
        self._probed_at = now
        return self._last

    async def stop(self) -> None:
        """Close the probe connection."""
        if self._raw is not None:
            self._raw.close()
            self._raw = None


class PostgresNotifications:
    """LISTEN on a dedicated asyncpg connection; reconnects with backoff."""

    def __init__(self, connect: Callable[[], Awaitable[Any]]) -> None:
        self._connect = connect
        self._generation = 0
        self._connected = False
        self._task: asyncio.Task[None] | None = None
        self._on_change: Callable[[], None] = lambda: None
        self._on_topic: Callable[[str | None], None] = lambda _topic: None

    def listen_topics(self, on_topic: Callable[[str | None], None]) -> None:
        """Call `on_topic(topic)` for each topic notified by any replica, and
        `on_topic(None)` whenever notifications may have been missed (a reconnect)."""
        self._on_topic = on_topic

    def _topic(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_topic(payload)

    def version(self) -> int | None:
        """Bumped on every notification; None while not listening."""
        return self._generation if self._connected else None

    async def start(self, on_change: Callable[[], None]) -> None:
        """Start the listener task and wait briefly for its first connection."""
        self._on_change = on_change
        self._task = asyncio.create_task(self._run(), name="modelplane-cache-listener")
        for _ in range(50):
            if self._connected:
                return
            await asyncio.sleep(0.01)

    def _terminated(self, closed: asyncio.Event, *_args: Any) -> None:
        closed.set()
        self._connected = False
        self._generation += 1
        self._on_change()

    def _notified(self, *_args: Any) -> None:
        self._generation += 1
        self._on_change()

    async def _run(self) -> None:
        delay = 0.1
        while True:
            conn = None
            closed = asyncio.Event()
            try:
                conn = await self._connect()
                conn.add_termination_listener(functools.partial(self._terminated, closed))
                await conn.add_listener(CHANNEL, self._notified)
                await conn.add_listener(TOPIC_CHANNEL, self._topic)
                self._generation += 1
                self._on_change()
                self._on_topic(None)
                self._connected = True
                delay = 0.1
                await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cache listener disconnected: %s", type(exc).__name__)
            finally:
                self._connected = False
                self._generation += 1
                if conn is not None and not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def stop(self) -> None:
        """Cancel the listener."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class ReadCache:
    """Query results keyed by what was asked, dropped whenever the database changes."""

    def __init__(self, freshness: Freshness, *, max_entries: int = 10_000) -> None:
        self._freshness = freshness
        self._entries: dict[Hashable, Any] = {}
        self._version: tuple[int, int] | None = None
        self._local = 0
        self._max = max_entries
        self.hits = 0  # lookups answered from the cache (for /metrics)
        self.misses = 0  # lookups that ran their query

    async def start(self) -> None:
        """Begin watching for changes."""
        await self._freshness.start(self.clear)

    async def stop(self) -> None:
        """Stop watching and forget everything."""
        await self._freshness.stop()
        self.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry; loads under way when this is called are not kept."""
        self._local += 1
        self._entries.clear()

    def _current(self) -> tuple[int, int] | None:
        version = self._freshness.version()
        return None if version is None else (version, self._local)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """The cached result for `key`, or `load()`'s, cached when the database held still."""
        before = self._current()
        if before is None:
            self.misses += 1
            return await load()
        if before != self._version:
            self._entries.clear()
            self._version = before
        elif key in self._entries:
            self.hits += 1
            value: T = self._entries[key]
            return value
        self.misses += 1
        value = await load()
        if self._current() == before:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = value
        return value
