"""`modelplane serve` as a real process: defaults, first start, drain, replicas, secrets."""

from __future__ import annotations

import os
import pty
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.databases import database
from tests.support.server import Server, free_port, instance_env, replicas

TOKEN = "mp_e2e_admin_token_0123456789abcdef"
SECRET = "sk-e2e-plaintext-never-stored-7f3a9c"


def test_serve_defaults_to_sqlite_in_cwd_and_prints_a_one_time_admin_key(tmp_path: Path) -> None:
    with Server(cwd=tmp_path, env={}) as server:
        health = httpx.get(f"{server.url}/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        match = re.search(r"API key \(shown only this once\): (mp_\S+)", server.stdout())
        assert match, server.stdout()
        token = match.group(1)
        listing = httpx.get(f"{server.url}/v1/llms", headers={"x-api-key": token})
        assert listing.status_code == 200
    assert (tmp_path / "modelplane.db").exists()
    key_file = tmp_path / "modelplane.db.key"
    assert key_file.stat().st_mode & 0o777 == 0o600

    with Server(cwd=tmp_path, env={}) as again:
        assert "shown only this once" not in again.stdout()
        assert httpx.get(f"{again.url}/v1/llms", headers={"x-api-key": token}).status_code == 200


def test_serve_listens_on_127_0_0_1_8080_by_default(tmp_path: Path) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("port 8080 is in use on this machine")
    env = {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}
    server = Server(cwd=tmp_path, env=env, port=8080, pass_port=False).start()
    try:
        server.wait_ready()
        assert httpx.get("http://127.0.0.1:8080/readyz").json() == {"status": "ready"}
    finally:
        server.stop()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_bootstrap_variables_create_then_refresh_one_admin(tmp_path: Path, kind: str) -> None:
    with database(kind, tmp_path) as url:
        env = instance_env(
            url,
            TOKEN,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID="MPAKBOOTSTRAP0001",
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET="bootstrap-secret-0123456789",
        )
        for _ in range(2):
            with Server(cwd=tmp_path, env=env) as server:
                assert "shown only this once" not in server.stdout()
                headers = {"Authorization": f"Bearer {TOKEN}"}
                principals = httpx.get(f"{server.url}/v1/principals", headers=headers).json()
                assert [p["name"] for p in principals["principals"]] == ["bootstrap-admin"]
                admin_id = principals["principals"][0]["principalId"]
                keys = httpx.get(
                    f"{server.url}/v1/principals/{admin_id}/access-keys", headers=headers
                ).json()["accessKeys"]
                assert [k["accessKeyId"] for k in keys] == ["MPAKBOOTSTRAP0001"]
                api_keys = httpx.get(
                    f"{server.url}/v1/principals/{admin_id}/api-keys", headers=headers
                ).json()["apiKeys"]
                assert len(api_keys) == 1


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_replicas_starting_together_migrate_once_and_both_serve(
    tmp_path: Path, kind: str
) -> None:
    with database(kind, tmp_path) as url:
        env = instance_env(url, TOKEN)
        with replicas(env, cwd=tmp_path) as (first, second):
            headers = {"x-api-key": TOKEN}
            body = {
                "displayName": "a",
                "providerType": "VLLM",
                "endpointUrl": "http://127.0.0.1:9/v1",
                "modelIdentifier": "m",
            }
            created = httpx.post(f"{first.url}/v1/llms", json=body, headers=headers)
            assert created.status_code == 201
            again = httpx.post(f"{second.url}/v1/llms", json=body, headers=headers)
            assert again.status_code == 409
            principals = httpx.get(f"{second.url}/v1/principals", headers=headers).json()
            assert len(principals["principals"]) == 1
        # One migration: exactly one replica built the schema, the other found it at head.
        logs = [first.stderr(), second.stderr()]
        migrated = [log.count('"msg":"schema migrated from None to ') for log in logs]
        already = [log.count('"msg":"schema already at ') for log in logs]
        assert sorted(migrated) == [0, 1] and sorted(already) == [0, 1], logs
        assert migrated.index(1) == already.index(0), logs
        assert "Traceback" not in "".join(logs), logs
        third = Server(cwd=tmp_path, env=env).start()  # a later start migrates nothing
        try:
            third.wait_ready()
        finally:
            assert third.stop_cleanly()
        assert '"msg":"schema already at ' in third.stderr()
        assert "schema migrated" not in third.stderr()


def test_sigterm_lets_an_in_flight_request_finish(tmp_path: Path) -> None:
    env = {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}
    server = Server(cwd=tmp_path, env=env).start()
    server.wait_ready()
    body = (
        b'{"displayName":"drain","providerType":"VLLM",'
        b'"endpointUrl":"http://127.0.0.1:9/v1","modelIdentifier":"m"}'
    )
    head = (
        f"POST /v1/llms HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body[:20])
        time.sleep(0.3)  # the request is now in flight
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(body[20:])
        reply = sock.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 201"), reply
    assert server.stop_cleanly()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=1)


def test_plaintext_secrets_reach_neither_the_database_nor_the_log(tmp_path: Path) -> None:
    env = {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN, "MODELPLANE_LOG_LEVEL": "debug"}
    with Server(cwd=tmp_path, env=env) as server:
        headers = {"x-api-key": TOKEN}
        body = {
            "displayName": "secret-check",
            "providerType": "OPENAI",
            "endpointUrl": "https://api.openai.com/v1",
            "modelIdentifier": "gpt-4o",
            "credentials": {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": SECRET}},
        }
        created = httpx.post(f"{server.url}/v1/llms", json=body, headers=headers)
        assert created.status_code == 201 and SECRET not in created.text
        llm_id = created.json()["llm"]["llmId"]
        dup = httpx.post(f"{server.url}/v1/llms", json=body, headers=headers)
        assert dup.status_code == 409 and SECRET not in dup.text
        bad = httpx.post(
            f"{server.url}/v1/llms", json={**body, "endpointUrl": "nope"}, headers=headers
        )
        assert bad.status_code == 400 and SECRET not in bad.text
        update = {
            "credentials": {
                "kind": "CREDENTIAL_KIND_API_KEY",
                "apiKey": {"inlineSecret": SECRET + "2"},
            }
        }
        assert (
            httpx.put(f"{server.url}/v1/llms/{llm_id}", json=update, headers=headers).status_code
            == 200
        )
        got = httpx.get(f"{server.url}/v1/llms/{llm_id}", headers=headers)
        assert SECRET not in got.text
    stderr = server.stderr()  # read after shutdown, which flushes the access log
    assert '"path": "/v1/llms"' in stderr.replace('":"', '": "') or '"path":"/v1/llms"' in stderr
    assert SECRET not in stderr and SECRET not in server.stdout()
    for path in tmp_path.glob("modelplane.db*"):
        assert SECRET.encode() not in path.read_bytes(), path
    with sqlite3.connect(tmp_path / "modelplane.db") as conn:
        sealed = conn.execute("SELECT credentials_sealed FROM llms").fetchone()[0]
    assert sealed.startswith("mp1.")


def test_startup_to_ready_is_measured(tmp_path: Path) -> None:
    """Not a timed assertion: the bench records the number; this pins that it is reachable."""
    port = free_port()
    server = Server(cwd=tmp_path, env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}, port=port).start()
    try:
        assert server.wait_ready() > 0
    finally:
        server.stop()


def test_concurrent_requests_on_sqlite_all_succeed(tmp_path: Path) -> None:
    with Server(cwd=tmp_path, env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}) as server:
        errors: list[str] = []

        def worker(n: int) -> None:
            with httpx.Client(base_url=server.url, headers={"x-api-key": TOKEN}) as http:
                for i in range(10):
                    body = {
                        "displayName": f"w{n}-{i}",
                        "providerType": "VLLM",
                        "endpointUrl": f"http://127.0.0.1:{1000 + n}/v1",
                        "modelIdentifier": f"m{i}",
                    }
                    response = http.post("/v1/llms", json=body)
                    if response.status_code != 201:
                        errors.append(response.text)
                    http.get("/v1/llms")

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        listing = httpx.get(f"{server.url}/v1/llms", headers={"x-api-key": TOKEN}).json()
        assert len(listing["llms"]) == 80


def test_on_a_terminal_the_log_is_readable_lines(tmp_path: Path) -> None:
    """MODELPLANE_LOG_FORMAT=auto (the default): stderr on a terminal gets text lines (off a
    terminal it gets JSON, as the other tests here read it)."""
    leader, follower = pty.openpty()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env |= {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN, "MODELPLANE_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "modelplane", "serve"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    output = bytearray()

    def read_terminal() -> None:  # as a terminal would: all along, so the server never blocks
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the server is gone and the terminal closed
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                headers = {"x-api-key": TOKEN}
                if httpx.get(f"http://127.0.0.1:{port}/v1/llms", headers=headers).is_success:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    lines = output.decode().splitlines()
    assert lines and not any(line.startswith("{") for line in lines), lines
    access = [line for line in lines if " modelplane.access: GET /v1/llms 200 " in line]
    assert len(access) == 1, lines
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO ", access[0]), access[0]
