"""One transaction that many use cases join: the ambient unit of work.

    async with store.ambient() as outer:
        ...                   # every store.writer()/reader() in this context joins it
        await outer.commit()  # or leave without: nothing of it was ever written

While an ambient transaction is open in a context (a `ContextVar`, so the tasks and
threads started from it carry it), `Store.writer()` and `Store.reader()` hand out units
of work on its one connection. Each of them is a SAVEPOINT: its `commit()` releases the
savepoint, leaving it without `commit()` (a refused request) rolls back to it, so a
failing use case leaves nothing and the transaction goes on. What a commit announces
(read-cache invalidation, watchers' topics, other replicas' notifications) waits for the
outer commit; after a rollback nothing is announced. Units of work of different tasks
take turns on the connection (one statement stream); those of one task nest.

On SQLite, where one connection writes at a time and statements run in the event loop's
thread, the ambient transaction holds the store's write gate from start to end: the
process's other writers wait for it without blocking the loop (see `WriteGate`).
"""

from __future__ import annotations

import asyncio
import itertools
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from modelplane.domain.errors import Unavailable
from modelplane.store.engine import Connection, Engine, Params
from modelplane.store.feed import ChangeFeed

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelplane.store.uow import UnitOfWork

T = TypeVar("T")

_CURRENT: ContextVar[Ambient | None] = ContextVar("modelplane_ambient_uow", default=None)
_names = itertools.count(1)


def current() -> Ambient | None:
    """The ambient transaction of this context, if one is open (or was: see `closed`)."""
    return _CURRENT.get()


class TaskLock:
    """A lock that one task holds at a time and may take again while it holds it."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        """Take the lock (at once when this task holds it already)."""
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    def release(self) -> None:
        """Give back one acquisition."""
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class Ambient:
    """An open outer transaction: its connection, and the topics its joiners announced."""

    def __init__(self, outer: UnitOfWork, connection: Connection) -> None:
        self.outer = outer
        self.connection = connection
        self.turns = TaskLock()
        self.closed = False
        self.feed = _Deferred(outer)

    def engine(self) -> Engine:
        """An engine whose connections are savepoints of this transaction."""
        return _SavepointEngine(self)

    async def commit(self) -> None:
        """Commit the outer transaction; then, only then, announce what it changed."""
        await self.turns.acquire()
        try:
            await self.outer.commit()
        finally:
            self.turns.release()


class _Deferred(ChangeFeed):
    """A joiner's feed: its topics go to the outer unit of work, announced at its commit."""

    def __init__(self, outer: UnitOfWork) -> None:
        super().__init__()
        self._outer = outer

    def publish(self, topic: str) -> None:
        self._outer.announce(topic)


class _SavepointEngine:
    def __init__(self, ambient: Ambient) -> None:
        self._ambient = ambient

    async def connect(self) -> Connection:
        return _Savepoint(self._ambient)

    async def dispose(self) -> None:
        return None


class _Savepoint:
    """The ambient connection as a joiner sees it: `begin` opens a savepoint (after its
    turn), `commit` releases it, `rollback` returns to it, `close` ends the turn."""

    def __init__(self, ambient: Ambient) -> None:
        self._ambient = ambient
        self._conn = ambient.connection
        self._name: str | None = None
        self._turn = False

    async def execute(
        self, statement: sa.Executable, params: Params | None = None
    ) -> sa.CursorResult[Any]:
        if isinstance(statement, sa.TextClause) and statement.text.startswith("SET TRANSACTION"):
            # A joiner asking for one snapshot (a repository's `snapshot()`) has it: the
            # ambient transaction reads one state from start to end (REPEATABLE READ on
            # PostgreSQL; on SQLite, one write transaction). PostgreSQL would refuse the
            # statement after the transaction's first query.
            return await self._conn.execute(sa.text("SELECT 1"))
        return await self._conn.execute(statement, params)

    async def exec_driver_sql(self, sql: str) -> sa.CursorResult[Any]:
        return await self._conn.exec_driver_sql(sql)

    async def begin(self) -> None:
        await self._ambient.turns.acquire()
        if self._ambient.closed:  # a straggler of a request whose transaction has ended
            self._ambient.turns.release()
            raise Unavailable("the transaction this request belonged to has ended")
        self._turn = True
        name = f"mp_sp_{next(_names)}"
        await self._conn.exec_driver_sql(f"SAVEPOINT {name}")
        self._name = name

    async def commit(self) -> None:
        name, self._name = self._name, None
        if name is not None:
            await self._conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")

    async def rollback(self) -> None:
        name, self._name = self._name, None
        if name is not None:
            await self._conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
            await self._conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")

    async def close(self) -> None:
        if self._turn:
            self._turn = False
            self._ambient.turns.release()

    def in_transaction(self) -> bool:
        return self._name is not None

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._conn.run_sync(fn, *args)


def enter(ambient: Ambient) -> object:
    """Make `ambient` this context's transaction; `leave(token)` ends that."""
    return _CURRENT.set(ambient)


def leave(ambient: Ambient, token: object) -> None:
    """Close `ambient` (stragglers are refused from now on) and forget it here."""
    ambient.closed = True
    _CURRENT.reset(token)  # type: ignore[arg-type]


class WriteGate:
    """SQLite's writers of this process, one at a time, waiting without blocking the loop.

    A writer's BEGIN IMMEDIATE would wait for the file's write lock inside the event
    loop's thread (statements run there): while an ambient transaction holds that lock
    across awaits, another writer of this process would block the very loop that has to
    finish it. So SQLite writers take this gate first; uncontended it costs nothing.
    """

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    def engine(self, engine: Engine) -> Engine:
        """`engine` whose connections hold the gate from connect to close."""
        return _GatedEngine(engine, self.lock)


class _GatedEngine:
    def __init__(self, engine: Engine, lock: asyncio.Lock) -> None:
        self._engine = engine
        self._lock = lock

    async def connect(self) -> Connection:
        await self._lock.acquire()
        try:
            return _Gated(await self._engine.connect(), self._lock)
        except BaseException:
            self._lock.release()
            raise

    async def dispose(self) -> None:
        await self._engine.dispose()


class _Gated:
    def __init__(self, conn: Connection, lock: asyncio.Lock) -> None:
        self._conn = conn
        self._lock: asyncio.Lock | None = lock

    async def execute(
        self, statement: sa.Executable, params: Params | None = None
    ) -> sa.CursorResult[Any]:
        return await self._conn.execute(statement, params)

    async def exec_driver_sql(self, sql: str) -> sa.CursorResult[Any]:
        return await self._conn.exec_driver_sql(sql)

    async def begin(self) -> None:
        await self._conn.begin()

    async def commit(self) -> None:
        await self._conn.commit()

    async def rollback(self) -> None:
        await self._conn.rollback()

    async def close(self) -> None:
        try:
            await self._conn.close()
        finally:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.release()

    def in_transaction(self) -> bool:
        return self._conn.in_transaction()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._conn.run_sync(fn, *args)
