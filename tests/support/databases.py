"""Throw-away databases for tests: a SQLite file or a randomly named PostgreSQL database."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_HOST = os.environ.get("MODELPLANE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("MODELPLANE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("MODELPLANE_TEST_PG_USER", "postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_exec(sql: str) -> None:
    """Run one statement on the maintenance database (autocommit)."""
    import asyncio
    import concurrent.futures

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5
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


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a database with a random name; drop it (and its sessions) afterwards."""
    problem = postgres_available()
    if problem is not None:
        message = f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable ({problem})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = "mp_test_" + secrets.token_hex(6)
    _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
