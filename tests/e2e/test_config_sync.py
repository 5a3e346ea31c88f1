"""`modelplane config sync` as a process against a live server: the EAS-style file appears,
follows every change, and keeps following after the server restarts."""

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


def sync_command(url: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "modelplane",
        "config",
        "sync",
        "--url",
        url,
        "--api-key",
        TOKEN,
        "--cluster",
        CLUSTER,
        "--service",
        SERVICE,
        "--out",
        str(out),
        *extra,
    ]


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}


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
    with Server(cwd=tmp_path, env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}) as server:
        out = tmp_path / "service.json"
        empty = subprocess.run(
            [*sync_command(server.url, out), "--once"],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert empty.returncode == 0, empty.stderr
        assert json.loads(out.read_text()) == {"properties": {}}
        put(server.url, "temperature", "0.5")
        put(server.url, "stop", '["\\n", "END"]')
        put(server.url, "nan", "NaN")
        done = subprocess.run(
            [*sync_command(server.url, out), "--once"],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(out.read_text()) == {
            "properties": {"nan": "NaN", "stop": ["\n", "END"], "temperature": 0.5}
        }
        assert "revision 3" in done.stderr
        refused = subprocess.run(
            [*sync_command(server.url, out), "--once", "--api-key", "mp_wrong"],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert refused.returncode == 2 and "401" in refused.stderr, refused.stderr
    down = subprocess.run(
        [*sync_command(server.url, out), "--once"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert down.returncode == 1 and "unreachable" in down.stderr, down.stderr
