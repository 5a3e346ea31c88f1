"""The `modelplane` command: direct database administration, migrate, and clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server import Server


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    return subprocess.run(
        [sys.executable, "-m", "modelplane", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_db_commands_create_principals_and_keys_that_the_server_accepts(tmp_path: Path) -> None:
    made = cli("db", "create-principal", "--name", "ops", "--role", "admin", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    ops = json.loads(made.stdout)
    assert ops["role"] == "admin" and ops["token"].startswith("mp_")

    listed = json.loads(cli("db", "list-principals", cwd=tmp_path).stdout)
    assert {p["name"] for p in listed} == {"admin", "ops"}  # 'admin' from the first start

    member = json.loads(
        cli("db", "create-principal", "--name", "bot", "--no-with-api-key", cwd=tmp_path).stdout
    )
    assert "token" not in member
    issued = json.loads(cli("db", "issue-api-key", member["principalId"], cwd=tmp_path).stdout)
    access = json.loads(cli("db", "issue-access-key", member["principalId"], cwd=tmp_path).stdout)
    assert access["accessKeyId"].startswith("MPAK") and len(access["accessKeySecret"]) == 30

    with Server(cwd=tmp_path, env={}) as server:
        ok = httpx.get(f"{server.url}/v1/principals", headers={"x-api-key": ops["token"]})
        assert ok.status_code == 200
        as_bot = {"x-api-key": issued["token"]}
        assert httpx.get(f"{server.url}/v1/llms", headers=as_bot).status_code == 200
        revoked = cli(
            "db", "revoke-api-key", member["principalId"], issued["apiKeyId"], cwd=tmp_path
        )
        assert revoked.returncode == 0, revoked.stderr
        assert httpx.get(f"{server.url}/v1/llms", headers=as_bot).status_code == 401


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    first = cli("migrate", cwd=tmp_path)
    assert first.returncode == 0 and "migrated to head" in first.stdout
    second = cli("migrate", cwd=tmp_path)
    assert second.returncode == 0 and "already at head" in second.stdout


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"MODELPLANE_DATABASE_URL": "mysql://x"}, "database_url"),
        ({"MODELPLANE_BOOTSTRAP_TOKEN": "short"}, "bootstrap_token"),
        ({"MODELPLANE_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"}, "MODELPLANE_SECRET_KEY"),
    ],
)
def test_bad_settings_are_one_line_without_traceback(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    result = cli("migrate", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid settings")
    assert fragment in result.stderr


def test_domain_errors_are_one_line(tmp_path: Path) -> None:
    cli("db", "create-principal", "--name", "dup", cwd=tmp_path)
    again = cli("db", "create-principal", "--name", "dup", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == "error: a principal named 'dup' already exists"
    assert "Traceback" not in again.stderr
