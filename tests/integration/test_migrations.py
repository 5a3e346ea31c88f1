"""Migrations: the scripts build exactly the tables the code declares, on both stores."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from modelplane.settings import Settings
from modelplane.store import migrate
from modelplane.store.migrations import HEAD
from modelplane.store.tables import metadata


def _differences(sync_conn: Any) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(sync_conn), metadata))


@pytest.mark.parametrize("scripts_only", [True, False], ids=["scripts", "fresh-create"])
async def test_schema_matches_the_declared_tables(
    new_database_url: str, scripts_only: bool
) -> None:
    settings = Settings(database_url=new_database_url, secret_key="a" * 64)
    async with migrate.exclusive(settings) as conn:
        assert await migrate.upgrade(conn, scripts_only=scripts_only) is True
        assert await migrate.current_revision(conn) == HEAD
        assert await conn.run_sync(_differences) == []
        assert await migrate.upgrade(conn) is False


async def test_scripts_downgrade_to_empty_and_back(new_database_url: str) -> None:
    settings = Settings(database_url=new_database_url, secret_key="a" * 64)
    async with migrate.exclusive(settings) as conn:
        await migrate.upgrade(conn, scripts_only=True)
        await conn.run_sync(_downgrade_base)
        await conn.commit()
        assert await migrate.current_revision(conn) is None
        assert await migrate.upgrade(conn, scripts_only=True) is True
        assert await conn.run_sync(_differences) == []


def _downgrade_base(sync_conn: Any) -> None:
    from alembic import command

    config = migrate.alembic_config()
    config.attributes["connection"] = sync_conn
    command.downgrade(config, "base")
