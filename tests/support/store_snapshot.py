"""Digests of the resource tables of a store: "a refused request stored nothing"."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

# The tables that hold resources. Left out: signature nonces, audit events and any
# bookkeeping that a refused request may legitimately touch.
RESOURCE_TABLES = (
    "principals",
    "api_keys",
    "access_keys",
    "llms",
    "model_groups",
    "provider_templates",
    "llm_templates",
    "runtime_bindings",
    "workspaces",
    "workspace_members",
    "prompt_templates",
    "prompt_template_versions",
    "config_namespaces",
    "configs",
    "config_history",
)


def snapshot(db: sqlite3.Connection) -> str:
    """A digest of every row of every resource table."""
    digest = hashlib.sha256()
    for table in RESOURCE_TABLES:
        digest.update(table.encode())
        for row in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):  # noqa: S608
            digest.update(repr(row).encode())
    return digest.hexdigest()


def count(db: sqlite3.Connection, table: str) -> int:
    """The number of rows of one resource table."""
    assert table in RESOURCE_TABLES
    (rows,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    return int(rows)


class SqliteRows:
    """Queries on a SQLite store between requests (the same methods as `PostgresRows`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of `query`, as tuples."""
        return [tuple(row) for row in self.db.execute(query).fetchall()]

    def snapshot(self) -> str:
        """A digest of every row of every resource table."""
        return snapshot(self.db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


class PostgresRows:
    """Synchronous queries on a PostgreSQL store, for tests that check it between requests.

    One asyncpg connection on an event loop of its own thread, so that it can be used
    while the application under test runs its own loop.
    """

    def __init__(self, url: str) -> None:
        import asyncio
        import threading

        import asyncpg

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._conn = self._run(asyncpg.connect(url))

    def _run(self, coroutine: Any) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def execute(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of `query`, as tuples."""
        return [tuple(row) for row in self._run(self._conn.fetch(query))]

    def snapshot(self) -> str:
        """A digest of every row of every resource table (one round trip)."""
        digest = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        parts = " UNION ALL ".join(
            f"SELECT '{table}', {digest} FROM {table} t"  # noqa: S608 (fixed names)
            for table in RESOURCE_TABLES
        )
        return hashlib.sha256(repr(self.execute(parts)).encode()).hexdigest()

    def close(self) -> None:
        """Close the connection and stop the loop."""
        self._run(self._conn.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
