"""Engines chosen by URL alone: embedded SQLite or PostgreSQL (asyncpg).

Repositories talk to a `Connection`: a small async interface over either an asyncpg
connection or a synchronous SQLite one. SQLite runs in the calling thread on purpose:
a read from its page cache takes microseconds, far less than handing each statement
to a worker thread, and a write transaction then runs without yielding, so units of
work in one process never interleave. Writers start with BEGIN IMMEDIATE so that
writers in other processes wait on the busy timeout instead of failing on upgrade.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from modelplane.settings import Settings
from modelplane.store.cache import Freshness, PostgresNotifications, SqliteDataVersion

if TYPE_CHECKING:  # the async stack is imported only when PostgreSQL is used
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")


Params = dict[str, Any] | list[dict[str, Any]]  # one row, or many for an executemany


class Connection(Protocol):
    """What repositories and the unit of work need from a database connection."""

    async def execute(
        self, statement: sa.Executable, params: Params | None = None
    ) -> sa.CursorResult[Any]: ...
    async def exec_driver_sql(self, sql: str) -> sa.CursorResult[Any]: ...
    async def begin(self) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def close(self) -> None: ...
    def in_transaction(self) -> bool: ...
    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T: ...


class Engine(Protocol):
    """Hands out connections."""

    async def connect(self) -> Connection: ...
    async def dispose(self) -> None: ...


class _AsyncConn:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

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
        await self._conn.close()

    def in_transaction(self) -> bool:
        return self._conn.in_transaction()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._conn.run_sync(fn, *args)


class _AsyncEngine:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def connect(self) -> Connection:
        return _AsyncConn(await self._engine.connect())

    async def dispose(self) -> None:
        await self._engine.dispose()

    def checked_out(self) -> int:
        """Pooled connections lent out now."""
        return _checked_out(self._engine.sync_engine.pool)


class _SyncConn:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    async def execute(
        self, statement: sa.Executable, params: Params | None = None
    ) -> sa.CursorResult[Any]:
        return self._conn.execute(statement, params)

    async def exec_driver_sql(self, sql: str) -> sa.CursorResult[Any]:
        return self._conn.exec_driver_sql(sql)

    async def begin(self) -> None:
        self._conn.begin()

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def in_transaction(self) -> bool:
        return self._conn.in_transaction()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(self._conn, *args)


class _SyncEngine:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    async def connect(self) -> Connection:
        return _SyncConn(self._engine.connect())

    async def dispose(self) -> None:
        self._engine.dispose()

    def checked_out(self) -> int:
        """Pooled connections lent out now."""
        return _checked_out(self._engine.pool)


def _checked_out(pool: Any) -> int:
    count = getattr(pool, "checkedout", None)  # QueuePool and friends; not every pool
    return int(count()) if callable(count) else 0


def async_url(url: str) -> str:
    """PostgreSQL URLs with the asyncpg driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def sqlite_url(url: str) -> str:
    """SQLite URLs with the standard-library driver."""
    return "sqlite://" + url.split("://", 1)[1]


@dataclass
class Engines:
    """One engine for reads and one whose transactions take the write lock up front."""

    read: Engine
    write: Engine
    is_postgres: bool
    freshness: Freshness
    # For writes no cached read depends on (signature nonces). On SQLite it is the very
    # connection that probes `data_version`, which moves only on other connections'
    # commits: so these writes leave the read caches of this process alone.
    quiet: Engine

    def connections_in_use(self) -> int:
        """Database connections lent out of the pools now (0 for engines without a pool)."""
        engines = {id(e): e for e in (self.read, self.write, self.quiet)}.values()
        return sum(_in_use(engine) for engine in engines)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        for n, engine in enumerate((self.read, self.write, self.quiet)):
            if engine not in (self.read, self.write, self.quiet)[:n]:
                await engine.dispose()


def _in_use(engine: Engine) -> int:
    checked_out = getattr(engine, "checked_out", None)
    return int(checked_out()) if callable(checked_out) else 0


def create_engines(settings: Settings) -> Engines:
    """Build the engines for `settings.database_url`."""
    if settings.is_postgres:
        engine = _AsyncEngine(postgres_engine(settings, pooled=True))
        dsn = settings.database_url
        timeout = settings.db_timeout_seconds

        async def listen_connection() -> Any:
            import asyncpg

            return await asyncpg.connect(dsn, timeout=timeout)

        notifications = PostgresNotifications(listen_connection)
        return Engines(
            read=engine, write=engine, is_postgres=True, freshness=notifications, quiet=engine
        )
    url = sqlite_url(settings.database_url)
    timeout = settings.db_timeout_seconds
    quiet = sqlite_engine(url, timeout, immediate=True, single=True)
    return Engines(
        read=_SyncEngine(sqlite_engine(url, timeout, immediate=False)),
        write=_SyncEngine(sqlite_engine(url, timeout, immediate=True)),
        is_postgres=False,
        freshness=SqliteDataVersion(quiet),
        quiet=_SyncEngine(quiet),
    )


def admin_engine(settings: Settings) -> Engine:
    """An unpooled engine for migrations and locks."""
    if settings.is_postgres:
        return _AsyncEngine(postgres_engine(settings, pooled=False))
    return _SyncEngine(
        sqlite_engine(
            sqlite_url(settings.database_url), settings.db_timeout_seconds, immediate=False
        )
    )


def postgres_engine(settings: Settings, *, pooled: bool) -> AsyncEngine:
    """An asyncpg engine with bounded waits."""
    from sqlalchemy.ext.asyncio import create_async_engine

    pool: dict[str, Any] = (
        {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_pool_size,
            "pool_timeout": settings.db_timeout_seconds,
            "pool_pre_ping": True,
        }
        if pooled
        else {"poolclass": NullPool}
    )
    return create_async_engine(
        async_url(settings.database_url),
        connect_args={
            "timeout": settings.db_timeout_seconds,
            "command_timeout": settings.db_timeout_seconds * 2,
            "server_settings": {"application_name": "modelplane"},
        },
        **pool,
    )


def sqlite_engine(url: str, timeout: float, *, immediate: bool, single: bool = False) -> sa.Engine:
    """A SQLite engine in WAL mode that issues its own BEGIN (`single`: one connection)."""
    pool: dict[str, Any] = (
        {"poolclass": sa.StaticPool}
        if single
        else {"poolclass": sa.QueuePool, "pool_size": 4, "max_overflow": 4}
    )
    engine = sa.create_engine(
        url, connect_args={"timeout": timeout, "check_same_thread": False}, **pool
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

    return engine
