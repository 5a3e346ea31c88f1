"""The unit of work: one transaction per use case, repositories bound to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from modelplane.domain.errors import InvalidArgument, Unavailable
from modelplane.store import ambient as shared_tx
from modelplane.store import migrate
from modelplane.store.audit import AuditRepository
from modelplane.store.cache import CHANNEL, ReadCache
from modelplane.store.catalog import CatalogRepository
from modelplane.store.config_listeners import ListenerOptions, ListenerRegistry, ListenerRepository
from modelplane.store.configs import ConfigRepository
from modelplane.store.console import ConsoleRepository
from modelplane.store.engine import Connection, Engine, Engines
from modelplane.store.feed import TOPIC_CHANNEL, ChangeFeed
from modelplane.store.llms import LlmRepository
from modelplane.store.ownership import OwnershipRepository
from modelplane.store.principals import PrincipalRepository
from modelplane.store.prompt_labels import PromptLabelRepository
from modelplane.store.prompts import PromptRepository
from modelplane.store.sealed import SealedRepository
from modelplane.store.spend_limits import SpendLimitRepository
from modelplane.store.usage import UsageRepository

T = TypeVar("T")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


_OUTAGES = (OperationalError, InterfaceError, DBAPIError, OSError, TimeoutError)


def _is_bad_data(exc: BaseException | None) -> bool:
    """Whether PostgreSQL refused a value itself (SQLSTATE class 22), not the connection."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


class UnitOfWork:
    """`async with uow:` opens a transaction; `commit()` makes it durable.

    Leaving the block without `commit()` rolls back. Store outages surface as
    `Unavailable` so every face answers 503 the same way.
    """

    llms: LlmRepository
    principals: PrincipalRepository
    catalog: CatalogRepository
    prompts: PromptRepository
    prompt_labels: PromptLabelRepository
    configs: ConfigRepository
    listeners: ListenerRepository
    sealed: SealedRepository
    audit: AuditRepository
    ownership: OwnershipRepository
    spend_limits: SpendLimitRepository
    usage: UsageRepository
    console: ConsoleRepository

    def __init__(
        self,
        engine: Engine,
        *,
        on_commit: Callable[[], None] | None = None,
        is_postgres: bool = False,
        feed: ChangeFeed | None = None,
    ) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._on_commit = on_commit
        self._is_postgres = is_postgres
        self._feed = feed
        self._topics: set[str] = set()

    async def __aenter__(self) -> UnitOfWork:
        try:
            self._conn = await self._engine.connect()
            await self._conn.begin()
        except _OUTAGES as exc:
            if self._conn is not None:
                await self._conn.close()
            raise Unavailable(f"the store is unavailable: {type(exc).__name__}") from exc
        self.llms = LlmRepository(self._conn)
        self.principals = PrincipalRepository(self._conn)
        self.catalog = CatalogRepository(self._conn, is_postgres=self._is_postgres)
        self.prompts = PromptRepository(self._conn, is_postgres=self._is_postgres)
        self.prompt_labels = PromptLabelRepository(self._conn, is_postgres=self._is_postgres)
        self.configs = ConfigRepository(self._conn, is_postgres=self._is_postgres)
        self.listeners = ListenerRepository(self._conn)
        self.sealed = SealedRepository(self._conn, is_postgres=self._is_postgres)
        self.audit = AuditRepository(self._conn)
        self.ownership = OwnershipRepository(self._conn)
        self.spend_limits = SpendLimitRepository(self._conn, is_postgres=self._is_postgres)
        self.usage = UsageRepository(self._conn, is_postgres=self._is_postgres)
        self.console = ConsoleRepository(self._conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        except _OUTAGES:
            pass  # the connection is gone; the pool will replace it
        finally:
            await conn.close()
        if _is_bad_data(exc):
            raise InvalidArgument(
                "a value was refused by the store: text with NUL characters, or out of range"
            ) from exc
        if isinstance(exc, _OUTAGES) and not isinstance(exc, IntegrityError):
            raise Unavailable(f"the store is unavailable: {type(exc).__name__}") from exc

    async def schema_revision(self) -> str | None:
        """The migration revision the schema is stamped with; None when there is none."""
        if self._conn is None:
            raise RuntimeError("schema_revision() outside `async with`")
        return await migrate.current_revision(self._conn)

    def announce(self, topic: str) -> None:
        """Wake the watchers of `topic`, here and on every replica, once this commits."""
        self._topics.add(topic)

    async def commit(self) -> None:
        """Commit the transaction."""
        if self._conn is None:
            raise RuntimeError("commit() outside `async with`")
        if self._is_postgres and self._on_commit is not None:  # a writer tells the replicas
            await self._conn.exec_driver_sql(f"NOTIFY {CHANNEL}")
            for topic in sorted(self._topics):
                await self._conn.execute(sa.select(sa.func.pg_notify(TOPIC_CHANNEL, topic)))
        await self._conn.commit()
        if self._on_commit is not None:
            self._on_commit()
        if self._feed is not None:
            for topic in self._topics:
                self._feed.publish(topic)


class Store:
    """Hands out units of work and keeps the read cache coherent with every commit."""

    def __init__(
        self, engines: Engines, cache: ReadCache, listeners: ListenerOptions | None = None
    ) -> None:
        self.engines = engines
        self.cache = cache
        self.feed = ChangeFeed()
        # Who watches which namespace: written without touching the read caches.
        self.listeners = ListenerRegistry(
            lambda: self.writer(invalidates=False), listeners or ListenerOptions(), _now_ms
        )
        self._in_flight: dict[Hashable, asyncio.Future[Any]] = {}
        # SQLite: this process's writers one at a time, waiting without blocking the loop.
        self._gate = None if engines.is_postgres else shared_tx.WriteGate()

    def _joined(self) -> UnitOfWork | None:
        """A unit of work in this context's ambient transaction, when one is open."""
        outer = shared_tx.current()
        if outer is None:
            return None
        return UnitOfWork(outer.engine(), is_postgres=self.engines.is_postgres, feed=outer.feed)

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only."""
        return self._joined() or UnitOfWork(self.engines.read, is_postgres=self.engines.is_postgres)

    def writer(self, *, invalidates: bool = True) -> UnitOfWork:
        """A unit of work that will write; its commit invalidates every read cache.

        `invalidates=False` is for writes that no cached read depends on (signature
        nonces): they neither clear this replica's cache nor notify the others. (On
        SQLite they go through the connection that watches `data_version`, so this
        process's caches stay; other processes on the same file still see a change.)

        Inside an ambient transaction (`ambient()`) it is a savepoint of that one.
        """
        joined = self._joined()
        if joined is not None:
            return joined
        engine = self.engines.write if invalidates else self.engines.quiet
        return UnitOfWork(
            engine if self._gate is None else self._gate.engine(engine),
            on_commit=self.cache.clear if invalidates else None,
            is_postgres=self.engines.is_postgres,
            feed=self.feed,
        )

    @asynccontextmanager
    async def ambient(self) -> AsyncIterator[shared_tx.Ambient]:
        """One transaction that every unit of work of this context joins (see
        `store/ambient.py`); leaving without `commit()` on it rolls all of it back.

        It reads one state from start to end (REPEATABLE READ on PostgreSQL: a row another
        transaction changed meanwhile is a serialization failure, 503, nothing written)."""
        if shared_tx.current() is not None:
            raise RuntimeError("an ambient transaction is open in this context already")
        async with self.writer() as outer:
            connection = outer._conn  # the outer unit of work's own connection
            assert connection is not None
            if self.engines.is_postgres:  # one state read from start to end, as on SQLite
                await connection.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            joined = shared_tx.Ambient(outer, connection)
            token = shared_tx.enter(joined)
            try:
                yield joined
            finally:
                shared_tx.leave(joined, token)

    async def cached(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """A read through the cache: `load()` runs only when no fresh result is kept.

        Inside an ambient transaction it always loads: its writes are not yet everyone's.
        """
        if shared_tx.current() is not None:
            return await load()
        return await self.cache.get_or_load(key, load)

    async def shared(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """`load()`, run once for all callers that ask for `key` while it runs.

        For reads that many callers make at the same moment (watchers woken by one
        change): they share one query instead of queueing for connections. A caller
        may get a result that was being read when it asked, never an older one.
        Inside an ambient transaction it loads on its own (it reads what others cannot).
        """
        if shared_tx.current() is not None:
            return await load()
        running = self._in_flight.get(key)
        if running is None:
            running = asyncio.ensure_future(load())
            self._in_flight[key] = running
            running.add_done_callback(lambda _done: self._in_flight.pop(key, None))
        result: T = await asyncio.shield(running)
        return result

    async def open(self) -> None:
        """Start watching for changes made elsewhere."""
        self.engines.freshness.listen_topics(self._heard)
        await self.cache.start()
        await self.listeners.start()

    def _heard(self, topic: str | None) -> None:
        if topic is None:
            self.feed.publish_all()
        else:
            self.feed.publish(topic)

    async def readiness(self) -> str | None:
        """Why this replica cannot serve now (no database, or a schema it cannot use); None
        when it can. One small query (two on a database without the version table)."""
        try:
            async with self.reader() as uow:
                revision = await uow.schema_revision()
        except Exception as exc:
            return f"the database does not answer: {type(exc).__name__}"
        return migrate.readiness_problem(revision)

    async def close(self) -> None:
        """Stop watching and dispose of the engines."""
        await self.listeners.stop()
        await self.cache.stop()
        await self.engines.dispose()
