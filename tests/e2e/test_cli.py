"""The `modelplane` command: direct database administration, migrate, and clean errors.

The server-side commands fail in one line on stderr with exit code 1: a bad setting names
its variable, a database is created only with `--create` (run from the wrong folder they
would otherwise make a new, empty `./modelplane.db` and print a key the server refuses).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from modelplane.security.secretbox import new_master_key_text
from tests.support.databases import postgres_database
from tests.support.server import Server

MALFORMED_KEY = "not-a-master-key-0123456789"


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


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed, checked to be alone and without a traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == "", result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_db_commands_create_principals_and_keys_that_the_server_accepts(tmp_path: Path) -> None:
    made = cli(
        "db", "create-principal", "--name", "ops", "--role", "admin", "--create", cwd=tmp_path
    )
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
    first = cli("migrate", "--create", cwd=tmp_path)
    assert first.returncode == 0 and "migrated to head" in first.stdout
    second = cli("migrate", cwd=tmp_path)
    assert second.returncode == 0 and "already at head" in second.stdout


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"MODELPLANE_DATABASE_URL": "mysql://x"}, "MODELPLANE_DATABASE_URL: must be sqlite"),
        ({"MODELPLANE_BOOTSTRAP_TOKEN": "short"}, "MODELPLANE_BOOTSTRAP_TOKEN: must be at least"),
        ({"MODELPLANE_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"}, "MODELPLANE_SECRET_KEY"),
        ({"MODELPLANE_PORT": "eighty"}, "MODELPLANE_PORT: Input should be a valid integer"),
    ],
)
def test_bad_settings_are_one_line_without_traceback(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    line = one_error_line(cli("migrate", cwd=tmp_path, env=env))
    assert line.startswith("error: invalid settings") and fragment in line, line


SECRET_KEY_FRAGMENT = "MODELPLANE_SECRET_KEY: a master key is 32 bytes"
PREVIOUS_FRAGMENT = "MODELPLANE_PREVIOUS_SECRET_KEYS: key 1 of 1: a master key is 32 bytes"


@pytest.mark.parametrize(
    ("command", "env", "fragment"),
    [
        (["serve", "--port", "0"], {"MODELPLANE_SECRET_KEY": MALFORMED_KEY}, SECRET_KEY_FRAGMENT),
        (["migrate"], {"MODELPLANE_SECRET_KEY": MALFORMED_KEY}, SECRET_KEY_FRAGMENT),
        (["db", "list-principals"], {"MODELPLANE_SECRET_KEY": MALFORMED_KEY}, SECRET_KEY_FRAGMENT),
        (["rotate-key"], {"MODELPLANE_SECRET_KEY": MALFORMED_KEY}, SECRET_KEY_FRAGMENT),
        (
            ["serve", "--port", "0"],
            {"MODELPLANE_PREVIOUS_SECRET_KEYS": f'["{MALFORMED_KEY}"]'},
            PREVIOUS_FRAGMENT,
        ),
    ],
    ids=["serve", "migrate", "db", "rotate-key", "serve-previous"],
)
def test_a_malformed_master_key_is_one_line_naming_its_variable(
    tmp_path: Path, command: list[str], env: dict[str, str], fragment: str
) -> None:
    line = one_error_line(cli(*command, cwd=tmp_path, env=env))
    assert fragment in line and MALFORMED_KEY not in line, line
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_that_holds_no_key_is_one_line_naming_it(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(MALFORMED_KEY + "\n")
    env = {"MODELPLANE_SECRET_KEY_FILE": str(key_file)}
    for command in (["serve", "--port", "0"], ["db", "list-principals", "--create"]):
        line = one_error_line(cli(*command, cwd=tmp_path, env=env))
        assert f"MODELPLANE_SECRET_KEY_FILE {key_file}: a master key is 32 bytes" in line, line
        assert MALFORMED_KEY not in line


@pytest.mark.parametrize(
    "command",
    [["migrate"], ["db", "create-principal", "--name", "ops", "--role", "admin"], ["rotate-key"]],
    ids=["migrate", "db", "rotate-key"],
)
def test_a_missing_sqlite_database_is_named_and_created_only_with_create(
    tmp_path: Path, command: list[str]
) -> None:
    line = one_error_line(cli(*command, cwd=tmp_path))
    assert line.startswith(f"error: no database at {tmp_path / 'modelplane.db'} ")
    assert "MODELPLANE_DATABASE_URL is sqlite:///./modelplane.db" in line, line
    assert f"relative to the current folder {tmp_path}" in line, line
    assert ("--create creates a new, empty database there" in line) != (command[0] == "rotate-key")
    assert list(tmp_path.iterdir()) == []  # no database, no key file, no lock file


def test_lock_out_recovery_works_from_any_folder_and_never_makes_a_stray_database(
    tmp_path: Path,
) -> None:
    """docs/operations.md, bootstrap and recovery: a new admin key with the server's settings."""
    served, elsewhere = tmp_path / "served", tmp_path / "elsewhere"
    served.mkdir()
    elsewhere.mkdir()
    env = {
        "MODELPLANE_DATABASE_URL": f"sqlite:///{served / 'modelplane.db'}",
        "MODELPLANE_SECRET_KEY": new_master_key_text(),
    }
    with Server(cwd=served, env=env) as server:
        stray = cli("db", "create-principal", "--name", "ops", "--role", "admin", cwd=elsewhere)
        assert "no database at" in one_error_line(stray)
        assert list(elsewhere.iterdir()) == []
        made = cli(
            "db", "create-principal", "--name", "ops", "--role", "admin", cwd=elsewhere, env=env
        )
        assert made.returncode == 0 and "first start" not in made.stderr, made.stderr
        token = json.loads(made.stdout)["token"]
        listed = httpx.get(f"{server.url}/v1/principals", headers={"x-api-key": token})
        assert listed.status_code == 200, listed.text
    assert list(elsewhere.iterdir()) == []


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_one_line_without_its_password(tmp_path: Path) -> None:
    with postgres_database() as url:
        pass  # dropped again: a database that surely does not exist
    user, _, rest = url.removeprefix("postgresql://").partition("@")
    env = {
        "MODELPLANE_DATABASE_URL": f"postgresql://{user}:pw-never-shown@{rest}",
        "MODELPLANE_SECRET_KEY": new_master_key_text(),
    }
    name = rest.rsplit("/", 1)[1]
    for command in (["migrate", "--create"], ["db", "list-principals"], ["serve", "--port", "0"]):
        line = one_error_line(cli(*command, cwd=tmp_path, env=env))
        assert line == (
            f"error: cannot use the database postgresql://{user}:***@{rest}: "
            f'database "{name}" does not exist'
        ), line


def test_domain_errors_are_one_line(tmp_path: Path) -> None:
    cli("db", "create-principal", "--name", "dup", "--create", cwd=tmp_path)
    again = cli("db", "create-principal", "--name", "dup", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == "error: a principal named 'dup' already exists"
    assert "Traceback" not in again.stderr


def test_an_argument_that_is_not_utf8_is_refused_before_the_database(tmp_path: Path) -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates ("\udcff" for 0xFF).
    refused = cli("db", "create-principal", "--name", "a\udcff", "--create", cwd=tmp_path)
    assert one_error_line(refused) == (
        "error: argument 4 must be valid Unicode text (no lone surrogates U+D800..U+DFFF)"
    )
    assert not (tmp_path / "modelplane.db").exists()
