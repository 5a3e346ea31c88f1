"""Running the Alembic migrations, serialized across replicas that start together."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from modelplane.settings import Settings
from modelplane.store.engine import Connection, admin_engine
from modelplane.store.migrations import HEAD
from modelplane.store.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("modelplane.migrate")

# An arbitrary constant: the PostgreSQL advisory lock all replicas take to migrate.
_PG_LOCK_KEY = 0x6D6F64656C706C  # "modelpl"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    location = resources.files("modelplane.store") / "migrations"
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str | None:
    """The newest revision among the migration scripts (Alembic's view)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(sync_conn: Any) -> str | None:
    """The stamped revision, read with plain SQL so that a started replica needs no Alembic."""
    if not sa.inspect(sync_conn).has_table("alembic_version"):
        return None
    row = sync_conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def _upgrade(sync_conn: Any, target: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = sync_conn
    command.upgrade(config, target)


@asynccontextmanager
async def exclusive(settings: Settings) -> AsyncIterator[Connection]:
    """Hold the migration lock: a PostgreSQL advisory lock or a file lock beside SQLite."""
    engine = admin_engine(settings)
    lock_file = None
    try:
        db = settings.sqlite_path
        if db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
            lock_file = open(db.with_name(db.name + ".lock"), "a+")  # noqa: SIM115, ASYNC230
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        conn = await engine.connect()
        try:
            if settings.is_postgres:
                await conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK_KEY})")
                await conn.commit()
            try:
                yield conn
            finally:
                if settings.is_postgres:
                    await conn.rollback()
                    await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})")
                    await conn.commit()
        finally:
            await conn.close()
    finally:
        if lock_file is not None:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
            lock_file.close()
        await engine.dispose()


def _create_fresh(sync_conn: Any) -> bool:
    """On a database with no tables at all, create the head schema and stamp it.

    Alembic's recipe for building an up-to-date database from scratch; a test keeps
    the tables equal to what the migration scripts build.
    """
    if sa.inspect(sync_conn).get_table_names():
        return False
    metadata.create_all(sync_conn)
    version = sa.Table(
        "alembic_version",
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), primary_key=True),
    )
    version.create(sync_conn)
    sync_conn.execute(version.insert().values(version_num=HEAD))
    return True


async def upgrade(conn: Connection, target: str = "head", *, scripts_only: bool = False) -> bool:
    """Bring the schema to `target` on a locked connection; whether anything ran.

    Logs one line either way, so that replicas started together show who migrated.
    """
    before = await conn.run_sync(_current)
    if target == "head" and before == HEAD:
        log.info("schema already at %s", HEAD)
        return False
    if target == "head" and not scripts_only and await conn.run_sync(_create_fresh):
        await conn.commit()
        log.info("schema migrated from %s to %s", before, HEAD)
        return True
    await conn.run_sync(_upgrade, target)
    await conn.commit()
    log.info("schema migrated from %s to %s", before, target)
    return True


async def current_revision(conn: Connection) -> str | None:
    """The revision the database is at."""
    return await conn.run_sync(_current)


def readiness_problem(revision: str | None) -> str | None:
    """Why this version cannot serve a database whose schema is at `revision`; None if it can.

    A schema newer than this version's head is served: in a rolling upgrade the next
    version migrates first (docs/operations.md), and migrations only add tables, columns
    and indexes, so the replicas still on this version keep working until they restart.
    """
    if revision == HEAD:
        return None
    needs = f"this version needs revision {HEAD}: run modelplane migrate"
    if revision is None:
        return f"the database has no schema; {needs}"
    known = revision.isdigit() and len(revision) == len(HEAD)
    if known and revision > HEAD:
        return None
    if known:
        return f"the schema is at revision {revision}; {needs}"
    return f"the schema is at revision {revision!r}, unknown to this version (its head is {HEAD})"
