"""Who watches which namespace: every replica's open watches, kept in the database so that
any replica can list them.

A replica keeps its open watches in memory (`ListenerRegistry`) and writes what changed
(watches opened, advanced, ended) in one transaction every `flush_seconds`, so a watch
costs no write of its own, however often it polls. Every `stale_ms / 4` it writes that it
is alive (one row per replica, not per watch) and deletes the watches of replicas not
heard from for `stale_ms`: a replica that died takes its watchers with it. A list reads
only the watches of replicas heard from within `stale_ms`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from modelplane.domain.configs import Listener, ListenMode, NamespaceKey
from modelplane.settings import Settings
from modelplane.store.engine import Connection
from modelplane.store.tables import config_listener_replicas, config_listeners

if TYPE_CHECKING:
    from modelplane.store.uow import UnitOfWork

log = logging.getLogger("modelplane.listeners")
L, R = config_listeners.c, config_listener_replicas.c
_CHUNK = 500
_taken: set[str] = set()  # replica ids derived in this process (one per app)


def derived_replica_id() -> str:
    """`hostname:pid`, and `hostname:pid/N` for the Nth app of one process (tests)."""
    base = f"{socket.gethostname()[:180]}:{os.getpid()}"
    found, n = base, 1
    while found in _taken:
        n += 1
        found = f"{base}/{n}"
    _taken.add(found)
    return found


@dataclass(frozen=True, slots=True)
class ListenerOptions:
    """How a replica keeps its watchers in the registry."""

    replica_id: str | None = None  # None: `derived_replica_id()` at start
    flush_seconds: float = 1.0
    stale_seconds: float = 60.0

    @classmethod
    def of(cls, settings: Settings) -> ListenerOptions:
        """The options `settings` give."""
        return cls(
            settings.replica_id,
            settings.listeners_flush_seconds,
            settings.listeners_stale_seconds,
        )


def _listener(row: Any) -> Listener:
    return Listener(
        listener_id=row.listener_id,
        replica_id=row.replica_id,
        key=NamespaceKey(row.cluster_id, row.name),
        client_label=row.client_label,
        revision=row.revision,
        candidate_version=row.candidate_version,
        principal_id=row.principal_id,
        mode=ListenMode(row.mode),
        since=row.since,
    )


class ListenerRepository:
    """Reads and writes the registry of watchers inside one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def beat(self, replica_id: str, *, now_ms: int) -> None:
        """Say that `replica_id` is alive now."""
        updated = await self._conn.execute(
            config_listener_replicas.update()
            .where(R.replica_id == replica_id)
            .values(seen_at=now_ms)
        )
        if updated.rowcount == 0:
            await self._conn.execute(
                config_listener_replicas.insert().values(replica_id=replica_id, seen_at=now_ms)
            )

    async def forget_replica(self, replica_id: str) -> None:
        """Delete a replica's watchers and its row."""
        await self._conn.execute(config_listeners.delete().where(L.replica_id == replica_id))
        await self._conn.execute(
            config_listener_replicas.delete().where(R.replica_id == replica_id)
        )

    async def purge(self, *, before_ms: int) -> int:
        """Delete the watchers of replicas not heard from since `before_ms` (or never),
        and those replicas; how many watchers went."""
        alive = sa.select(R.replica_id).where(R.seen_at >= before_ms)
        gone = await self._conn.execute(config_listeners.delete().where(L.replica_id.not_in(alive)))
        await self._conn.execute(config_listener_replicas.delete().where(R.seen_at < before_ms))
        return int(gone.rowcount)

    async def write(
        self, added: list[Listener], advanced: list[Listener], ended: list[str]
    ) -> None:
        """Insert the `added` watchers, set what the `advanced` ones hold, delete `ended`."""
        if added:
            await self._conn.execute(
                config_listeners.insert(),
                [
                    {
                        "listener_id": w.listener_id,
                        "replica_id": w.replica_id,
                        "cluster_id": w.key.cluster_id,
                        "name": w.key.name,
                        "client_label": w.client_label,
                        "revision": w.revision,
                        "candidate_version": w.candidate_version,
                        "principal_id": w.principal_id,
                        "mode": w.mode.value,
                        "since": w.since,
                    }
                    for w in added
                ],
            )
        if advanced:
            await self._conn.execute(
                config_listeners.update()
                .where(L.listener_id == sa.bindparam("b_id"))
                .values(
                    revision=sa.bindparam("b_revision"),
                    candidate_version=sa.bindparam("b_candidate"),
                ),
                [
                    {
                        "b_id": w.listener_id,
                        "b_revision": w.revision,
                        "b_candidate": w.candidate_version,
                    }
                    for w in advanced
                ],
            )
        for start in range(0, len(ended), _CHUNK):
            chunk = ended[start : start + _CHUNK]
            await self._conn.execute(config_listeners.delete().where(L.listener_id.in_(chunk)))

    async def of_namespace(
        self, key: NamespaceKey, *, seen_after_ms: int, limit: int
    ) -> tuple[list[Listener], int]:
        """Up to `limit` watchers of a namespace on replicas heard from since
        `seen_after_ms`, oldest first, and how many there are."""
        alive = sa.select(R.replica_id).where(R.seen_at >= seen_after_ms)
        where = sa.and_(L.cluster_id == key.cluster_id, L.name == key.name, L.replica_id.in_(alive))
        # The count in the same statement as the page: one snapshot, so they agree while
        # replicas write (two statements may see two states on PostgreSQL).
        query = (
            sa.select(config_listeners, sa.func.count().over().label("total"))
            .where(where)
            .order_by(L.since, L.listener_id)
            .limit(limit)
        )
        rows = list(await self._conn.execute(query))
        return [_listener(row) for row in rows], int(rows[0].total) if rows else 0

    async def count(self) -> int:
        """How many watchers are written, of every replica (for tests and metrics)."""
        found = await self._conn.execute(sa.select(sa.func.count()).select_from(config_listeners))
        return int(found.scalar_one())


class ListenerHandle:
    """One open watch in the registry: `advance` it as it moves, `close` it when it ends."""

    def __init__(self, registry: ListenerRegistry, listener: Listener) -> None:
        self._registry = registry
        self.listener = listener

    def advance(self, revision: int, candidate_version: int) -> None:
        """The watch holds another revision (and candidate version) now."""
        self._registry.advanced(self, revision, candidate_version)

    def close(self) -> None:
        """The watch ended (idempotent)."""
        self._registry.ended(self)


class ListenerRegistry:
    """This replica's open watches, written to the database in batches."""

    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        options: ListenerOptions,
        now_ms: Callable[[], int],
    ) -> None:
        self._writer = writer
        self._options = options
        self._now_ms = now_ms
        self.replica_id = options.replica_id or ""
        self._open: dict[str, Listener] = {}
        self._added: dict[str, Listener] = {}
        self._advanced: dict[str, Listener] = {}
        self._ended: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def stale_ms(self) -> int:
        """After how long without a word from a replica its watchers are ignored."""
        return int(self._options.stale_seconds * 1000)

    def open(
        self,
        *,
        key: NamespaceKey,
        client_label: str | None,
        revision: int,
        candidate_version: int,
        principal_id: str,
        mode: ListenMode,
    ) -> ListenerHandle:
        """Register a watch that starts now."""
        listener = Listener(
            uuid.uuid4().hex,
            self.replica_id,
            key,
            client_label,
            revision,
            candidate_version,
            principal_id,
            mode,
            self._now_ms(),
        )
        self._open[listener.listener_id] = listener
        self._added[listener.listener_id] = listener
        return ListenerHandle(self, listener)

    def advanced(self, handle: ListenerHandle, revision: int, candidate_version: int) -> None:
        """Note what a watch holds now."""
        found = self._open.get(handle.listener.listener_id)
        if found is None:
            return
        moved = replace(found, revision=revision, candidate_version=candidate_version)
        handle.listener = moved
        self._open[moved.listener_id] = moved
        if moved.listener_id in self._added:
            self._added[moved.listener_id] = moved
        else:
            self._advanced[moved.listener_id] = moved

    def ended(self, handle: ListenerHandle) -> None:
        """Note that a watch ended."""
        listener_id = handle.listener.listener_id
        if self._open.pop(listener_id, None) is None:
            return
        self._advanced.pop(listener_id, None)
        if self._added.pop(listener_id, None) is None:  # written already: delete it
            self._ended.add(listener_id)

    def watching(self) -> int:
        """How many watches are open on this replica."""
        return len(self._open)

    async def start(self) -> None:
        """Take the replica id, drop what a predecessor with the same id left, and start
        writing in the background."""
        if not self.replica_id:
            self.replica_id = derived_replica_id()
        async with self._writer() as uow:
            await uow.listeners.forget_replica(self.replica_id)
            await uow.listeners.beat(self.replica_id, now_ms=self._now_ms())
            await uow.commit()
        self._task = asyncio.create_task(self._run(), name="config-listeners")

    async def stop(self) -> None:
        """Stop writing, and delete this replica's watchers (they end with it)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        try:
            async with self._writer() as uow:
                await uow.listeners.forget_replica(self.replica_id)
                await uow.commit()
        except Exception as exc:  # the store is gone: the rows go stale and are purged
            log.warning("config listeners of %s not deleted: %s", self.replica_id, exc)

    async def flush(self) -> None:
        """Write the watches opened, advanced and ended since the last flush, at once."""
        added, advanced, ended = self._added, self._advanced, self._ended
        if not (added or advanced or ended):
            return
        self._added, self._advanced, self._ended = {}, {}, set()
        try:
            async with self._writer() as uow:
                await uow.listeners.write(
                    list(added.values()), list(advanced.values()), sorted(ended)
                )
                await uow.commit()
        except BaseException:  # written next time, merged with what happened since
            for listener_id in added:
                if listener_id in self._open:
                    self._added[listener_id] = self._open[listener_id]
            for listener_id in advanced:
                if listener_id in self._open and listener_id not in self._added:
                    self._advanced[listener_id] = self._open[listener_id]
            self._ended |= ended  # (one ended meanwhile is in it too: a harmless delete)
            raise

    async def beat(self) -> None:
        """Say this replica is alive, and delete the watchers of replicas that are not."""
        now = self._now_ms()
        async with self._writer() as uow:
            await uow.listeners.beat(self.replica_id, now_ms=now)
            await uow.listeners.purge(before_ms=now - self.stale_ms)
            await uow.commit()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        beat_every = self._options.stale_seconds / 4
        next_beat = loop.time() + beat_every
        while True:
            await asyncio.sleep(min(self._options.flush_seconds, beat_every))
            try:
                await self.flush()
                if loop.time() >= next_beat:
                    next_beat = loop.time() + beat_every
                    await self.beat()
            except Exception as exc:  # the store is down: try again at the next tick
                log.warning("config listeners not written: %s", exc)
