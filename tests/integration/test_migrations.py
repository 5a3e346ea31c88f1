"""Migrations: the scripts build exactly the tables the code declares, on both stores."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
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
        await conn.run_sync(partial(_downgrade, target="base"))
        await conn.commit()
        assert await migrate.current_revision(conn) is None
        assert await migrate.upgrade(conn, scripts_only=True) is True
        assert await conn.run_sync(_differences) == []


def _downgrade(sync_conn: Any, *, target: str) -> None:
    from alembic import command

    config = migrate.alembic_config()
    config.attributes["connection"] = sync_conn
    command.downgrade(config, target)


async def test_0008_makes_every_existing_member_a_reader(new_database_url: str) -> None:
    settings = Settings(database_url=new_database_url, secret_key="a" * 64)
    members = "SELECT principal_id, role FROM workspace_members ORDER BY principal_id"
    async with migrate.exclusive(settings) as conn:
        await migrate.upgrade(conn, "0007", scripts_only=True)
        statements = [
            "INSERT INTO principals (principal_id, name, role, created_at) VALUES "
            "('p-owner', 'owner', 'member', 1), ('p-1', 'one', 'member', 1), "
            "('p-2', 'two', 'member', 1)",
            "INSERT INTO workspaces (workspace_id, name, owner_id, created_at) "
            "VALUES ('ws-old', 'old', 'p-owner', 1)",
            "INSERT INTO workspace_members (workspace_id, principal_id, added_at) "
            "VALUES ('ws-old', 'p-1', 2), ('ws-old', 'p-2', 3)",
        ]
        for statement in statements:
            await conn.execute(sa.text(statement))
        await conn.commit()

        assert await migrate.upgrade(conn, scripts_only=True) is True
        assert [tuple(row) for row in await conn.execute(sa.text(members))] == [
            ("p-1", "reader"),
            ("p-2", "reader"),
        ]
        await conn.run_sync(partial(_downgrade, target="0007"))
        await conn.commit()
        kept = "SELECT principal_id, added_at FROM workspace_members ORDER BY principal_id"
        assert [tuple(row) for row in await conn.execute(sa.text(kept))] == [("p-1", 2), ("p-2", 3)]


def _stamp(sync_conn: Any, revision: str) -> None:
    update = sa.text("UPDATE alembic_version SET version_num = :revision")
    sync_conn.execute(update, {"revision": revision})


async def test_readyz_is_503_naming_the_revisions_until_the_schema_is_at_head(
    settings: Settings, anon: httpx.AsyncClient
) -> None:
    async def schema(change: Any) -> dict[str, Any]:
        async with migrate.exclusive(settings) as conn:
            await conn.run_sync(change)
            await conn.commit()
        probe = await anon.get("/readyz")
        assert probe.status_code in (200, 503), probe.text
        assert (probe.status_code == 200) == (probe.json()["status"] == "ready"), probe.text
        answer: dict[str, Any] = probe.json()
        return answer

    assert (await anon.get("/readyz")).json() == {"status": "ready"}
    older = await schema(partial(_downgrade, target="0006"))
    assert older["status"] == "unavailable"
    assert f"at revision 0006; this version needs revision {HEAD}" in older["reason"]
    empty = await schema(partial(_downgrade, target="base"))
    assert f"has no schema; this version needs revision {HEAD}" in empty["reason"]
    async with migrate.exclusive(settings) as conn:
        assert await migrate.upgrade(conn) is True
    assert (await anon.get("/readyz")).json() == {"status": "ready"}
    # A newer schema (the next version migrated first, in a rolling upgrade) is served;
    # a revision this version never heard of is not.
    assert await schema(partial(_stamp, revision=f"{int(HEAD) + 1:04d}")) == {"status": "ready"}
    unknown = await schema(partial(_stamp, revision="f00d"))
    assert "revision 'f00d', unknown to this version" in unknown["reason"]
    assert await schema(partial(_stamp, revision=HEAD)) == {"status": "ready"}


async def test_0009_renames_duplicate_template_names_oldest_first_and_says_so(
    new_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=new_database_url, secret_key="a" * 64)
    # (id, workspace, name, created_at): three `greeting`s in ws-a, one of which is older
    # than an existing `greeting-2`; the same name alone in ws-b.
    templates = [
        ("t3", "ws-a", "greeting", 30),
        ("t1", "ws-a", "greeting", 10),
        ("t2", "ws-a", "greeting-2", 20),
        ("t4", "ws-a", "greeting", 30),
        ("t5", "ws-b", "greeting", 40),
    ]
    names = "SELECT prompt_template_id, name FROM prompt_templates ORDER BY prompt_template_id"
    versions = (
        "SELECT prompt_template_id, version, name FROM prompt_template_versions "
        "ORDER BY prompt_template_id, version"
    )
    async with migrate.exclusive(settings) as conn:
        await migrate.upgrade(conn, "0008", scripts_only=True)
        await conn.execute(
            sa.text(
                "INSERT INTO principals (principal_id, name, role, created_at) "
                "VALUES ('p-owner', 'owner', 'member', 1)"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO workspaces (workspace_id, name, owner_id, created_at) "
                "VALUES ('ws-a', 'a', 'p-owner', 1), ('ws-b', 'b', 'p-owner', 1)"
            )
        )
        for template_id, workspace_id, name, created_at in templates:
            row = {"id": template_id, "ws": workspace_id, "name": name, "at": created_at}
            await conn.execute(
                sa.text(
                    "INSERT INTO prompt_templates (prompt_template_id, workspace_id, name, "
                    "content, variables, version, created_at, updated_at, created_by, "
                    "updated_by) VALUES (:id, :ws, :name, 'x', '[]', 2, :at, :at, 'p-owner', "
                    "'p-owner')"
                ),
                row,
            )
            for version in (1, 2):
                await conn.execute(
                    sa.text(
                        "INSERT INTO prompt_template_versions (prompt_template_id, version, "
                        "name, content, variables, created_at, created_by) VALUES "
                        "(:id, :version, :name, 'x', '[]', :at, 'p-owner')"
                    ),
                    {**row, "version": version},
                )
        await conn.commit()

        with caplog.at_level("WARNING", logger="modelplane.migrate"):
            assert await migrate.upgrade(conn, scripts_only=True) is True
        assert [tuple(r) for r in await conn.execute(sa.text(names))] == [
            ("t1", "greeting"),
            ("t2", "greeting-2"),
            ("t3", "greeting-3"),
            ("t4", "greeting-4"),
            ("t5", "greeting"),
        ]
        # The current version takes the new name; the earlier ones keep theirs.
        renamed = [tuple(r) for r in await conn.execute(sa.text(versions))]
        assert ("t3", 1, "greeting") in renamed and ("t3", 2, "greeting-3") in renamed
        assert ("t4", 1, "greeting") in renamed and ("t4", 2, "greeting-4") in renamed
        said = [r.getMessage() for r in caplog.records if r.name == "modelplane.migrate"]
        assert len(said) == 2, said
        assert "t3" in said[0] and "'greeting' to 'greeting-3'" in said[0]
        assert "t4" in said[1] and "'greeting' to 'greeting-4'" in said[1]
        duplicate = sa.text(
            "INSERT INTO prompt_templates (prompt_template_id, workspace_id, name, content, "
            "variables, version, created_at, updated_at, created_by, updated_by) VALUES "
            "('t6', 'ws-b', 'greeting', 'x', '[]', 1, 50, 50, 'p-owner', 'p-owner')"
        )
        with pytest.raises(sa.exc.IntegrityError):
            await conn.execute(duplicate)
        await conn.rollback()


async def test_0011_makes_every_parameter_text_and_lets_a_revision_change_several(
    new_database_url: str,
) -> None:
    settings = Settings(database_url=new_database_url, secret_key="a" * 64)
    history = (
        "SELECT revision, config_key, kind, format FROM config_history "
        "ORDER BY revision, config_key"
    )
    async with migrate.exclusive(settings) as conn:
        await migrate.upgrade(conn, "0010", scripts_only=True)
        statements = [
            "INSERT INTO config_namespaces (cluster_id, name, owner_id, revision, created_at, "
            "updated_at) VALUES ('c', 'n', 'p-owner', 3, 1, 3)",
            "INSERT INTO configs (cluster_id, name, config_key, value, revision, created_at, "
            "updated_at) VALUES ('c', 'n', 'a', '2', 2, 1, 2)",
            "INSERT INTO config_history (cluster_id, name, revision, config_key, kind, value, "
            "actor_id, at) VALUES ('c', 'n', 1, 'a', 'create', '1', 'p-owner', 1), "
            "('c', 'n', 2, 'a', 'update', '2', 'p-owner', 2), "
            "('c', 'n', 3, 'b', 'delete', NULL, 'p-owner', 3)",
        ]
        for statement in statements:
            await conn.execute(sa.text(statement))
        await conn.commit()

        assert await migrate.upgrade(conn, scripts_only=True) is True
        formats = "SELECT config_key, format FROM configs"
        assert [tuple(r) for r in await conn.execute(sa.text(formats))] == [("a", "text")]
        assert [tuple(r) for r in await conn.execute(sa.text(history))] == [
            (1, "a", "create", "text"),
            (2, "a", "update", "text"),
            (3, "b", "delete", None),
        ]
        # Two parameters at one revision: what a batch writes.
        await conn.execute(
            sa.text(
                "INSERT INTO config_history (cluster_id, name, revision, config_key, kind, "
                "value, format, actor_id, at) VALUES "
                "('c', 'n', 4, 'a', 'update', '3', 'json', 'p-owner', 4), "
                "('c', 'n', 4, 'b', 'create', 'x', 'text', 'p-owner', 4)"
            )
        )
        await conn.commit()
        # Down again, a revision keeps its first parameter (the old key holds one).
        await conn.run_sync(partial(_downgrade, target="0010"))
        await conn.commit()
        old = "SELECT revision, config_key FROM config_history ORDER BY revision"
        assert [tuple(r) for r in await conn.execute(sa.text(old))] == [
            (1, "a"),
            (2, "a"),
            (3, "b"),
            (4, "a"),
        ]


async def test_0014_leaves_every_existing_key_unscoped_and_down_keeps_the_keys(
    new_database_url: str,
) -> None:
    settings = Settings(database_url=new_database_url, secret_key="a" * 64)
    scopes = "SELECT api_key_id, gateway_only, allowed_models, expires_at FROM api_keys"
    async with migrate.exclusive(settings) as conn:
        await migrate.upgrade(conn, "0013", scripts_only=True)
        statements = [
            "INSERT INTO principals (principal_id, name, role, created_at) VALUES "
            "('p-1', 'one', 'member', 1)",
            "INSERT INTO api_keys (api_key_id, principal_id, token_hash, key_prefix, label, "
            "created_at) VALUES ('k-1', 'p-1', 'h1', 'mp_abc', 'app', 1)",
        ]
        for statement in statements:
            await conn.execute(sa.text(statement))
        await conn.commit()

        assert await migrate.upgrade(conn, "0014", scripts_only=True) is True
        assert [tuple(r) for r in await conn.execute(sa.text(scopes))] == [
            ("k-1", False, None, None)
        ]
        await conn.run_sync(partial(_downgrade, target="0013"))
        await conn.commit()
        kept = "SELECT api_key_id, token_hash, label FROM api_keys"
        assert [tuple(r) for r in await conn.execute(sa.text(kept))] == [("k-1", "h1", "app")]
