"""Throw-away databases for tests: a SQLite file or a randomly named PostgreSQL database."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_HOST = os.environ.get("MODELPLANE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("MODELPLANE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("MODELPLANE_TEST_PG_USER", "postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_exec(sql: str, database: str = "postgres") -> None:
    """Run `sql` (one or more statements) on `database`, autocommit."""
    import asyncio
    import concurrent.futures

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, database=database, timeout=5
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    # A thread of its own, so this works whether or not an event loop is running here.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        _pg_exec("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _require_postgres() -> None:
    """Fail in CI, skip elsewhere, when PostgreSQL does not answer."""
    problem = postgres_available()
    if problem is not None:
        message = f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable ({problem})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


# Deletes every row but the schema version, before a test. DELETE with foreign-key
# triggers off (the test user is a superuser) takes ~15 ms; TRUNCATE took ~150 ms.
_EMPTY_TABLES = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid();
SET session_replication_role = replica;
DO $$
DECLARE name text;
BEGIN
  FOR name IN SELECT tablename FROM pg_tables
              WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
    EXECUTE format('DELETE FROM %I', name);
  END LOOP;
END $$;
"""


class ReusedPostgres:
    """One randomly named database for a whole test session (one per xdist worker).

    Creating, migrating and dropping a database cost about a second per test; emptying
    the tables of this one costs milliseconds. The first test to start an app
    migrates it; tests of the migrations themselves take `postgres_database()` instead.
    """

    def __init__(self) -> None:
        self.name = "mp_test_" + secrets.token_hex(6)
        self.url = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.name}"
        self.created = False

    def empty(self) -> str:
        """The database with no rows (created on first use); its URL."""
        if not self.created:
            _require_postgres()
            _pg_exec(f'CREATE DATABASE "{self.name}"')
            self.created = True
        else:
            _pg_exec(_EMPTY_TABLES, database=self.name)
        return self.url

    def drop(self) -> None:
        """Drop the database if it was created."""
        if self.created:
            _pg_exec(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a database with a random name; drop it (and its sessions) afterwards."""
    _require_postgres()
    name = "mp_test_" + secrets.token_hex(6)
    _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_sqlite(path: Path) -> Path:
    """Migrate a new SQLite file at `path` to the head schema, as a starting app would."""
    import asyncio
    import concurrent.futures

    from modelplane.settings import Settings
    from modelplane.store import migrate

    async def run() -> None:
        async with migrate.exclusive(Settings(database_url=f"sqlite:///{path}")) as conn:
            await migrate.upgrade(conn)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
    return path


def copied_sqlite(template: Path, directory: Path) -> str:
    """A copy of the migrated file `template` inside `directory`; its URL.

    A file copy takes a fraction of a millisecond; migrating a new file, ten or more.
    """
    target = directory / "modelplane.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    """A SQLite file URL inside `directory`."""
    yield f"sqlite:///{directory / 'modelplane.db'}"


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """A fresh database URL of `kind` ('sqlite' or 'postgres')."""
    if kind == "postgres":
        with postgres_database() as url:
            yield url
    else:
        with sqlite_database(directory) as url:
            yield url
