"""A digest of the resource tables of a SQLite store: "a refused request stored nothing"."""

from __future__ import annotations

import hashlib
import sqlite3

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
