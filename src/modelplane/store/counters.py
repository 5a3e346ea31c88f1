"""Counters of fixed windows, shared by every replica: in Redis when one is configured
(`MODELPLANE_REDIS_URL`), else in the database.

Both take a call's counters all or nothing: every counter with a cap is checked, and only
when none would pass it are they all added to. Redis does it in one Lua script (atomic on
the server); the database in one transaction of `INSERT … ON CONFLICT DO UPDATE … WHERE
value + n <= cap RETURNING value` per counter, in key order, rolled back when one returns
no row (PostgreSQL and SQLite 3.35 on). A counter lives a while past its window's end
(Redis: `PEXPIREAT`; the database: rows past `expires_at` are deleted now and then).

A store that cannot be reached raises `Unavailable`; what a call then does is the
caller's choice (`MODELPLANE_LIMITS_FAIL_OPEN`).

Redis keys start with a prefix (`MODELPLANE_REDIS_KEY_PREFIX`). The script touches the
keys of a principal and of its key at once, so Redis must be one server (with replicas or
not), not a Cluster.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from modelplane.domain.errors import Unavailable
from modelplane.domain.spend_limits import Take
from modelplane.store.uow import Store

if TYPE_CHECKING:
    from redis.asyncio import Redis

PRUNE_SECONDS = 60.0  # how often a replica deletes the database's expired counters
SQLITE_RETURNING = (3, 35, 0)  # the first SQLite with `RETURNING`

# KEYS: the counters. ARGV, three per key: the amount, the cap (-1: none), the expiry
# (epoch ms). Returns {0, 0} when everything was added, else {i, value} of the first
# counter (from 1) that would pass its cap, with its value; then nothing was added.
_TAKE = """
for i = 1, #KEYS do
  local cap = tonumber(ARGV[3 * i - 1])
  if cap >= 0 then
    local value = tonumber(redis.call('GET', KEYS[i]) or '0')
    if value + tonumber(ARGV[3 * i - 2]) > cap then
      return {i, value}
    end
  end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  redis.call('PEXPIREAT', KEYS[i], ARGV[3 * i])
end
return {0, 0}
"""


@dataclass(frozen=True, slots=True)
class Taken:
    """What a take did: `refused` is the index of the take that would pass its cap (None:
    all were added), `value` that counter's value then."""

    refused: int | None = None
    value: int | None = None


class Counters(Protocol):
    """Counters shared by the replicas."""

    kind: str  # "redis" or "database", for /metrics and the log

    async def take(self, takes: Sequence[Take]) -> Taken:
        """Add every take if none would pass its cap; else add none."""
        ...

    async def add(self, takes: Sequence[Take]) -> None:
        """Add every take, whatever the caps (a settlement)."""
        ...

    async def values(self, keys: Sequence[str]) -> list[int]:
        """The value of each counter (0 for one that does not exist)."""
        ...

    async def close(self) -> None:
        """Release the connections."""
        ...


class DatabaseCounters:
    """Counters in the store's `spend_counters` table (written without touching the read
    caches)."""

    kind = "database"

    def __init__(self, store: Store, *, clock: Any = time.time) -> None:
        self._store = store
        self._clock = clock
        self._next_prune = 0.0
        self._unusable: str | None = None
        if not store.engines.is_postgres and sqlite3.sqlite_version_info < SQLITE_RETURNING:
            self._unusable = (
                f"SQLite {sqlite3.sqlite_version} cannot keep the limits' counters (they need "
                "3.35 or later): use a newer SQLite, PostgreSQL, or MODELPLANE_REDIS_URL"
            )

    def _usable(self) -> None:
        if self._unusable is not None:
            raise Unavailable(self._unusable)

    async def take(self, takes: Sequence[Take]) -> Taken:
        """Add every take if none would pass its cap (one transaction); else add none."""
        self._usable()
        async with self._store.writer(invalidates=False) as uow:
            refused = await uow.spend_limits.take(takes)
            if refused is None:
                await uow.commit()
                taken = Taken()
            else:
                value = (await uow.spend_limits.values([takes[refused].key]))[0]
                taken = Taken(refused, value)
        await self._prune()
        return taken

    async def add(self, takes: Sequence[Take]) -> None:
        """Add every take, whatever the caps."""
        self._usable()
        if not takes:
            return
        uncapped = [
            Take(t.key, t.amount, None, t.expires_at, t.kind, t.subject_id, t.metric, t.window, 0)
            for t in takes
        ]
        async with self._store.writer(invalidates=False) as uow:
            await uow.spend_limits.take(uncapped)
            await uow.commit()

    async def values(self, keys: Sequence[str]) -> list[int]:
        """The value of each counter."""
        self._usable()
        async with self._store.reader() as uow:
            return await uow.spend_limits.values(keys)

    async def _prune(self) -> None:
        now = self._clock()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_SECONDS
        async with self._store.writer(invalidates=False) as uow:
            await uow.spend_limits.prune(int(now * 1000))
            await uow.commit()

    async def close(self) -> None:
        """Nothing to release: the store's engines are the store's."""


class RedisCounters:
    """Counters in Redis (`redis.asyncio`), checked and added by one Lua script."""

    kind = "redis"

    def __init__(self, url: str, *, prefix: str, timeout_seconds: float) -> None:
        from redis.asyncio import Redis  # imported only when Redis is configured

        self._client: Redis = Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            decode_responses=False,
        )
        self._prefix = prefix
        self._take = self._client.register_script(_TAKE)

    def _keys(self, takes: Sequence[Take]) -> list[str]:
        return [self._prefix + t.key for t in takes]

    async def take(self, takes: Sequence[Take]) -> Taken:
        """Add every take if none would pass its cap (one script); else add none."""
        args: list[int] = []
        for t in takes:
            args += [t.amount, -1 if t.cap is None else t.cap, t.expires_at]
        found = await self._call(self._take(keys=self._keys(takes), args=args))
        index, value = int(found[0]), int(found[1])
        return Taken() if index == 0 else Taken(index - 1, value)

    async def add(self, takes: Sequence[Take]) -> None:
        """Add every take, whatever the caps (one transaction)."""
        if not takes:
            return
        pipe = self._client.pipeline(transaction=True)
        for key, t in zip(self._keys(takes), takes, strict=True):
            pipe.incrby(key, t.amount)
            pipe.pexpireat(key, t.expires_at)
        await self._call(pipe.execute())

    async def values(self, keys: Sequence[str]) -> list[int]:
        """The value of each counter."""
        if not keys:
            return []
        found = await self._call(self._client.mget([self._prefix + k for k in keys]))
        return [int(v) if v is not None else 0 for v in found]

    async def _call(self, pending: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return await pending
        except (RedisError, OSError, TimeoutError) as exc:
            raise Unavailable(f"Redis is unavailable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


def counters_for(store: Store, redis_url: str | None, *, prefix: str, timeout: float) -> Counters:
    """Redis counters when a URL is given, else the database's."""
    if redis_url:
        return RedisCounters(redis_url, prefix=prefix, timeout_seconds=timeout)
    return DatabaseCounters(store)
