"""Engines chosen by URL alone: embedded SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from modelplane.settings import Settings


def async_url(url: str) -> str:
    """Map a user-facing database URL to its async driver URL."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def sync_url(url: str) -> str:
    """Map a user-facing database URL to a synchronous driver URL (for migrations)."""
    if url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + url.removeprefix("sqlite+aiosqlite://")
    return url


@dataclass
class Engines:
    """One engine for reads and one whose transactions take the write lock up front.

    On PostgreSQL both are the same engine. On SQLite, writers start with
    BEGIN IMMEDIATE so that concurrent writers queue on the busy timeout instead of
    failing when a read transaction tries to upgrade.
    """

    read: AsyncEngine
    write: AsyncEngine
    is_postgres: bool

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.read.dispose()
        if self.write is not self.read:
            await self.write.dispose()


def create_engines(settings: Settings) -> Engines:
    """Build the engines for `settings.database_url`."""
    url = async_url(settings.database_url)
    if settings.is_postgres:
        engine = create_async_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_timeout=settings.db_timeout_seconds,
            pool_pre_ping=True,
            connect_args={
                "timeout": settings.db_timeout_seconds,
                "command_timeout": settings.db_timeout_seconds * 2,
                "server_settings": {"application_name": "modelplane"},
            },
        )
        return Engines(read=engine, write=engine, is_postgres=True)
    timeout = settings.db_timeout_seconds
    read = _sqlite_engine(url, timeout, immediate=False, pool_size=settings.db_pool_size)
    write = _sqlite_engine(url, timeout, immediate=True, pool_size=2)
    return Engines(read=read, write=write, is_postgres=False)


def _sqlite_engine(url: str, timeout: float, *, immediate: bool, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=timeout * 4,
        connect_args={"timeout": timeout},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine
