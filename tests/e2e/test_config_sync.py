"""`modelplane configs sync` as a process against a live server: the EAS-style file appears,
follows every change, and keeps following after the server restarts; it finds the server
in MODELPLANE_URL and MODELPLANE_TOKEN, and its first name `config sync` still works."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import database
from tests.support.server import Server, free_port, instance_env

TOKEN = "mp_sync_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
CLUSTER, SERVICE = "cn-hangzhou", "my_llm_service"
NS = f"/v1/configs/{CLUSTER}/service/{SERVICE}"


def sync_command(url: str | None, out: Path, *extra: str) -> list[str]:
    """`configs sync`, given the server by options (else it reads the environment)."""
    server = ["--url", url, "--token", TOKEN] if url is not None else []
    command = [sys.executable, "-m", "modelplane", "configs", "sync", CLUSTER, SERVICE]
    return [*command, "--out", str(out), *server, *extra]


def child_env(url: str | None = None) -> dict[str, str]:
    """The test's environment without MODELPLANE_*, or with the server `url` and TOKEN."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    if url is not None:
        env |= {"MODELPLANE_URL": url, "MODELPLANE_TOKEN": TOKEN}
    return env


def eventually(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def properties(out: Path) -> Any:
    try:
        return json.loads(out.read_text())["properties"]
    except (FileNotFoundError, ValueError, KeyError):
        return None


def put(url: str, key: str, value: str) -> None:
    response = httpx.put(f"{url}{NS}/{key}", json={"value": value}, headers=HEADERS)
    assert response.status_code in (200, 201), response.text


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sync_keeps_the_file_current_across_a_server_restart(tmp_path: Path, kind: str) -> None:
    with database(kind, tmp_path) as url:
        env = instance_env(url, TOKEN)
        port = free_port()
        server = Server(cwd=tmp_path, env=env, port=port).start()
        server.wait_ready()
        put(server.url, "model", '{"name": "gpt-4", "temperature": 0.7}')
        put(server.url, "rate_limit", "10")
        put(server.url, "greeting", "hello world")
        put(server.url, "feature/enabled", "true")
        put(server.url, "not_json", "{oops")
        conf = tmp_path / "conf"
        conf.mkdir()
        out = conf / "service.json"
        log = (tmp_path / "sync.err").open("wb")
        sync = subprocess.Popen(
            sync_command(server.url, out, "--max-backoff", "0.5", "--watch-seconds", "10"),
            cwd=tmp_path,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            expected: dict[str, Any] = {
                "feature/enabled": True,
                "greeting": "hello world",
                "model": {"name": "gpt-4", "temperature": 0.7},
                "not_json": "{oops",
                "rate_limit": 10,
            }
            eventually(lambda: properties(out) == expected, "the first write")
            assert list(json.loads(out.read_text())) == ["properties"]

            put(server.url, "rate_limit", "20")
            expected["rate_limit"] = 20
            eventually(lambda: properties(out) == expected, "an update")
            deleted = httpx.delete(f"{server.url}{NS}/greeting", headers=HEADERS)
            assert deleted.status_code == 200
            del expected["greeting"]
            eventually(lambda: properties(out) == expected, "a delete")

            # The server goes away (its open watch must not hold the shutdown) ...
            started = time.monotonic()
            assert server.stop_cleanly(), server.stderr()
            assert time.monotonic() - started < 8
            time.sleep(1.5)  # the sync retries meanwhile
            assert sync.poll() is None
            assert properties(out) == expected  # the file stays as it was
            # ... and comes back on the same port and database.
            server = Server(cwd=tmp_path, env=env, port=port).start()
            server.wait_ready()
            put(server.url, "rate_limit", "30")
            put(server.url, "after_restart", '"quoted"')
            expected.update(rate_limit=30, after_restart="quoted")
            eventually(lambda: properties(out) == expected, "a change after the restart")
        finally:
            sync.send_signal(signal.SIGTERM)
            code = sync.wait(10)
            log.close()
            server.stop()
        errors = (tmp_path / "sync.err").read_text()
        assert code == 0, errors
        assert "retrying in" in errors and "Traceback" not in errors
        assert sorted(p.name for p in conf.iterdir()) == ["service.json"]  # no temporary left


def test_sync_once_writes_the_file_and_exits(tmp_path: Path) -> None:
    def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=30, check=False
        )

    with Server(cwd=tmp_path, env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}) as server:
        out = tmp_path / "service.json"
        from_environment = child_env(server.url)
        empty = run([*sync_command(None, out), "--once"], from_environment)
        assert empty.returncode == 0, empty.stderr
        assert json.loads(out.read_text()) == {"properties": {}}
        put(server.url, "temperature", "0.5")
        put(server.url, "stop", '["\\n", "END"]')
        put(server.url, "nan", "NaN")
        done = run([*sync_command(None, out), "--once"], from_environment)
        assert done.returncode == 0, done.stderr
        expected = {"properties": {"nan": "NaN", "stop": ["\n", "END"], "temperature": 0.5}}
        assert json.loads(out.read_text()) == expected
        assert "revision 3" in done.stderr
        refused = run([*sync_command(None, out), "--once", "--token", "mp_wrong"], from_environment)
        assert refused.returncode == 2 and "401" in refused.stderr, refused.stderr

        # The first spelling, as scripts wrote it, still works and says what replaces it.
        legacy_out = tmp_path / "legacy.json"
        legacy = run(
            [
                *[sys.executable, "-m", "modelplane", "config", "sync", "--url", server.url],
                *["--api-key", TOKEN, "--cluster", CLUSTER, "--service", SERVICE],
                *["--out", str(legacy_out), "--once"],
            ],
            child_env(),
        )
        assert legacy.returncode == 0, legacy.stderr
        assert "`config sync` is deprecated" in legacy.stderr
        assert "modelplane configs sync CLUSTER SERVICE --out FILE" in legacy.stderr
        assert json.loads(legacy_out.read_text()) == expected
    down = run([*sync_command(None, out), "--once"], from_environment)
    assert down.returncode == 1 and "unreachable" in down.stderr, down.stderr
    no_token = run([*sync_command(None, out), "--once"], child_env())
    assert no_token.returncode == 2 and "MODELPLANE_TOKEN" in no_token.stderr
