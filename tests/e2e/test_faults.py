"""Faults on real `modelplane serve` processes.

- PostgreSQL restarted while two replicas serve: every request fails fast with 503
  UNAVAILABLE (none waits 5 s), /readyz says so, and both recover by themselves: the
  read cache and the LISTEN connection too (a change through A still reaches B's cache
  and B's watchers). The shared PostgreSQL must never be stopped, so this runs on a
  private cluster of its own (tests/support/private_postgres.py).
- The server killed with SIGKILL while a 1,000-item BatchCreateLlmTemplates is inside
  its transaction: afterwards all of it or none of it is stored, and the server starts
  again cleanly on the same database.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import database
from tests.support.private_postgres import PrivateCluster, private_cluster
from tests.support.rpc import RpcClient
from tests.support.server import Server, instance_env, replicas

TOKEN = "mp_faults_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
ACCESS_KEY_ID = "MPAKFAULTS00000001"
ACCESS_KEY_SECRET = "faults-secret-0123456789abcdef"
NS = "/v1/configs/cn-hangzhou/service/faults"
FAIL_FAST_SECONDS = 5.0
# Start-up takes ~1.5 s on an idle machine; a loaded shared CI box has been seen at 18 s.


def llm_body(name: str = "restart") -> dict[str, Any]:
    return {
        "displayName": name,
        "providerType": "VLLM",
        "endpointUrl": "http://127.0.0.1:9/v1",
        "modelIdentifier": "m",
    }


async def eventually(check: Callable[[], Any], seconds: float, what: str) -> float:
    """Poll the coroutine function `check` until it returns true; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if await check():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds}s")


@dataclass
class Outcome:
    """One request sent while the database went away and came back."""

    what: str
    status: int
    seconds: float
    body: str


class Traffic:
    """Requests against both replicas in a loop, each timed; run while PostgreSQL restarts."""

    def __init__(self, http: httpx.AsyncClient, urls: list[str], llm_id: str) -> None:
        self.http = http
        self.urls = urls
        self.llm_id = llm_id
        self.outcomes: list[Outcome] = []
        self._stop = asyncio.Event()

    async def _one(self, what: str, send: Callable[[], Any]) -> None:
        started = time.monotonic()
        try:
            response = await send()
            status, body = response.status_code, response.text
        except httpx.TimeoutException:
            status, body = 0, "client timeout"
        self.outcomes.append(Outcome(what, status, time.monotonic() - started, body))

    async def _loop(self, url: str) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            new = llm_body(f"t-{n}") | {"apiPath": f"/{url.rsplit(':', 1)[1]}/{n}"}
            await asyncio.gather(
                self._one("get", lambda: self.http.get(f"{url}/v1/llms/{self.llm_id}")),
                self._one("list", lambda: self.http.get(f"{url}/v1/llms")),
                self._one("create", partial(self.http.post, f"{url}/v1/llms", json=new)),
                self._one("readyz", lambda: self.http.get(f"{url}/readyz")),
            )
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        await asyncio.gather(*(self._loop(url) for url in self.urls))

    def stop(self) -> None:
        self._stop.set()


@pytest.mark.postgres
def test_postgres_restart_fails_fast_with_503_and_both_replicas_recover(tmp_path: Path) -> None:
    with private_cluster() as cluster:
        env = instance_env(
            cluster.url,
            TOKEN,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID=ACCESS_KEY_ID,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET,
        )
        with replicas(env, cwd=tmp_path) as (a, b):
            pids = (a.process and a.process.pid, b.process and b.process.pid)
            asyncio.run(restart_while_serving(a.url, b.url, cluster))
            assert all(s.process is not None and s.process.poll() is None for s in (a, b))
            assert (a.process and a.process.pid, b.process and b.process.pid) == pids


async def restart_while_serving(a: str, b: str, cluster: PrivateCluster) -> None:
    # The client waits longer than the bound, so that a request that hangs is measured.
    async with httpx.AsyncClient(headers=HEADERS, timeout=3 * FAIL_FAST_SECONDS) as http:
        created = await http.post(f"{a}/v1/llms", json=llm_body())
        assert created.status_code == 201, created.text
        llm_id = created.json()["llm"]["llmId"]
        for _ in range(3):  # cached on B
            assert (await http.get(f"{b}/v1/llms/{llm_id}")).status_code == 200
        assert (await http.put(f"{a}{NS}/k", json={"value": "1"})).status_code == 201

        traffic = Traffic(http, [a, b], llm_id)
        running = asyncio.create_task(traffic.run())
        await asyncio.sleep(0.3)
        await asyncio.to_thread(cluster.stop)
        down_at = len(traffic.outcomes)
        try:
            # While it is down: each face answers 503 with its own code, fast.
            for url in (a, b):
                ready = await http.get(f"{url}/readyz")
                assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
                assert ready.json()["reason"].startswith("the database does not answer")
                got = await http.get(f"{url}/v1/llms/{llm_id}")  # cached before: not served
                assert got.status_code == 503, got.text
                assert got.json()["code"] == "UNAVAILABLE", got.text
                rpc = RpcClient(
                    httpx.AsyncClient(base_url=url, timeout=3 * FAIL_FAST_SECONDS),
                    ACCESS_KEY_ID,
                    ACCESS_KEY_SECRET,
                )
                async with rpc.http:
                    answer = await rpc.call("ListModelTemplates")
                assert answer.status_code == 503, answer.text
                assert answer.json()["Code"] == "ServiceUnavailable", answer.text
            await asyncio.sleep(1.0)  # more traffic while it is down
        finally:
            await asyncio.to_thread(cluster.start)
        during = traffic.outcomes[down_at:]
        for url in (a, b):
            await eventually(partial(_is_ready, http, url), 15, f"{url} ready again")
        traffic.stop()
        await running

        slow = [o for o in traffic.outcomes if o.seconds >= FAIL_FAST_SECONDS or o.status == 0]
        assert slow == [], slow
        unexpected = [o for o in traffic.outcomes if o.status not in (200, 201, 503)]
        assert unexpected == [], unexpected
        failed = [o for o in traffic.outcomes if o.status == 503]
        assert any(o.status == 503 and o.what != "readyz" for o in during), during
        for outcome in failed:
            if outcome.what != "readyz":
                assert '"code":"UNAVAILABLE"' in outcome.body.replace(" ", ""), outcome

        await after_recovery(http, a, b, llm_id)


async def _is(request: Any, status: int) -> bool:
    return bool((await request).status_code == status)


async def _is_ready(http: httpx.AsyncClient, url: str) -> bool:
    return await _is(http.get(f"{url}/readyz"), 200)


async def after_recovery(http: httpx.AsyncClient, a: str, b: str, llm_id: str) -> None:
    """Both replicas serve again, and a change through A reaches B's watchers and cache."""
    for url in (a, b):
        listed = await http.get(f"{url}/v1/llms")
        assert listed.status_code == 200, listed.text

    revision = (await http.get(f"{b}{NS}/k")).json()["revision"]
    # B's LISTEN connection may still be waiting to reconnect: a watcher on B then wakes
    # when it does (a reconnect wakes every watcher); later ones wake on the NOTIFY itself.
    for value in ("2", "3", "4"):
        watching = asyncio.create_task(
            http.get(f"{b}{NS}:watch", params={"sinceRevision": revision, "timeoutSeconds": 10})
        )
        await asyncio.sleep(0.2)
        assert not watching.done(), watching.result().text
        started = time.monotonic()
        changed = await http.put(f"{a}{NS}/k", json={"value": value})
        assert changed.status_code == 200, changed.text
        answer = (await watching).json()
        lag = time.monotonic() - started
        assert answer["changed"] is True, answer
        revision = answer["revision"]
        if value != "2":
            assert lag < 1.0, lag

    for _ in range(3):  # cached on B again
        assert (await http.get(f"{b}/v1/llms/{llm_id}")).json()["displayName"] == "restart"
    renamed = await http.put(f"{a}/v1/llms/{llm_id}", json={"displayName": "renamed on A"})
    assert renamed.status_code == 200, renamed.text

    async def seen_on_b() -> bool:
        got = await http.get(f"{b}/v1/llms/{llm_id}")
        return bool(got.json()["displayName"] == "renamed on A")

    assert await eventually(seen_on_b, 2, "B sees the rename") < 1.0


# --- SIGKILL during a 1,000-item batch ----------------------------------------------------

BATCH_SIZE = 1000
ATTEMPTS = 6


def batch_items(prefix: str) -> list[dict[str, Any]]:
    return [
        {"llmCode": f"{prefix}-{n:04d}", "name": f"model {n}", "description": "d" * 200}
        for n in range(BATCH_SIZE)
    ]


class Probe:
    """Whether the (stopped) server is inside a write transaction, and row counts."""

    def __init__(self, url: str) -> None:
        self.url = url

    def in_transaction(self) -> bool:
        raise NotImplementedError

    def count(self, provider_id: str) -> int:
        raise NotImplementedError


class SqliteProbe(Probe):
    """Writers hold SQLite's write lock from BEGIN IMMEDIATE to COMMIT: try to take it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.path = url.split(":///", 1)[1]

    def in_transaction(self) -> bool:
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                return True
            raise
        finally:
            conn.close()

    def count(self, provider_id: str) -> int:
        with sqlite3.connect(self.path) as conn:
            row = conn.execute(
                "SELECT count(*) FROM llm_templates WHERE provider_template_id = ?",
                (provider_id,),
            ).fetchone()
        return int(row[0])


class PostgresProbe(Probe):
    """pg_stat_activity: a session of the server in a transaction whose last statement
    wrote the batch (its INSERT, the group's pointer, the NOTIFY), not yet committed."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.database = url.rsplit("/", 1)[1]

    def _fetch(self, sql: str, *args: Any) -> Any:
        import asyncpg

        async def run() -> Any:
            conn = await asyncpg.connect(self.url, timeout=5)
            try:
                return await conn.fetchval(sql, *args)
            finally:
                await conn.close()

        return asyncio.run(run())

    def in_transaction(self) -> bool:
        return bool(
            self._fetch(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
                " AND application_name = 'modelplane' AND xact_start IS NOT NULL"
                " AND query ~* $2",
                self.database,
                "^(INSERT INTO llm_templates|UPDATE model_groups|NOTIFY|SELECT pg_notify)",
            )
        )

    def count(self, provider_id: str) -> int:
        return int(
            self._fetch(
                "SELECT count(*) FROM llm_templates WHERE provider_template_id = $1",
                provider_id,
            )
        )


def kill_inside_the_batch(
    server: Server, body: dict[str, Any], probe: Probe, rng: random.Random
) -> bool:
    """Send the batch; freeze the server again and again until it is seen inside its write
    transaction, let it run a random few milliseconds more (so that the kill lands anywhere
    in the transaction, not only at its start), and SIGKILL it if it is still inside.
    False when the request finished first."""
    assert server.process is not None
    pid = server.process.pid
    answers: list[Any] = []

    def send() -> None:
        try:
            answers.append(
                httpx.post(
                    f"{server.url}/v1/llm-templates:batchCreate",
                    json=body,
                    headers=HEADERS,
                    timeout=30,
                )
            )
        except httpx.HTTPError as exc:
            answers.append(exc)

    def frozen_inside() -> bool:
        os.kill(pid, signal.SIGSTOP)
        try:
            inside = probe.in_transaction()
        except BaseException:
            os.kill(pid, signal.SIGCONT)
            raise
        if not inside:
            os.kill(pid, signal.SIGCONT)
        return inside

    sender = threading.Thread(target=send)
    sender.start()
    killed = False
    deadline = time.monotonic() + 20
    while sender.is_alive() and time.monotonic() < deadline:
        if frozen_inside():
            os.kill(pid, signal.SIGCONT)
            time.sleep(rng.uniform(0, 0.01))
            if frozen_inside():
                os.kill(pid, signal.SIGKILL)
                killed = True
            break
        time.sleep(0.001)
    sender.join(30)
    if killed:
        server.process.wait(10)
        assert server.process.returncode == -signal.SIGKILL
        assert len(answers) == 1 and isinstance(answers[0], httpx.HTTPError), answers
    else:
        response = answers[0]
        assert response.status_code == 200 and response.json()["successCount"] == BATCH_SIZE
    return killed


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sigkill_during_a_1000_item_batch_stores_all_or_none_and_restarts_cleanly(
    tmp_path: Path, kind: str
) -> None:
    with database(kind, tmp_path) as url:
        env = instance_env(url, TOKEN)
        probe: Probe = SqliteProbe(url) if kind == "sqlite" else PostgresProbe(url)
        server = Server(cwd=tmp_path, env=env).start()
        killed_in: str | None = None
        rng = random.Random()
        try:
            server.wait_ready()
            group = httpx.post(
                f"{server.url}/v1/model-groups", json={"name": "g"}, headers=HEADERS
            ).json()["modelTemplateId"]
            for attempt in range(ATTEMPTS):
                provider = httpx.post(
                    f"{server.url}/v1/provider-templates",
                    json={
                        "modelTemplateId": group,
                        "name": f"P{attempt}",
                        "providerName": f"provider-p{attempt}",
                        "providerType": "Custom",
                    },
                    headers=HEADERS,
                ).json()["providerTemplateId"]
                body = {"providerTemplateId": provider, "items": batch_items(f"a{attempt}")}
                body["items"][0]["isDefaultModel"] = True
                if kill_inside_the_batch(server, body, probe, rng):
                    killed_in = provider
                    break
                assert probe.count(provider) == BATCH_SIZE  # finished first: all of it
        finally:
            server.stop(signal.SIGKILL)
        assert killed_in is not None, "the kill never landed inside the batch's transaction"
        stored = probe.count(killed_in)
        assert stored in (0, BATCH_SIZE), stored  # all or none, whatever the timing

        # The same database, started again: it serves, and the killed batch goes through.
        again = Server(cwd=tmp_path, env=env).start()
        try:
            again.wait_ready()
            retried = httpx.post(
                f"{again.url}/v1/llm-templates:batchCreate",
                json={"providerTemplateId": killed_in, "items": batch_items("retry")},
                headers=HEADERS,
                timeout=30,
            )
            assert retried.status_code == 200, retried.text
            expected = BATCH_SIZE if stored == 0 else 0
            assert retried.json()["successCount"] == expected, retried.json()
            assert probe.count(killed_in) == BATCH_SIZE
            group_now = httpx.get(f"{again.url}/v1/model-groups/{group}", headers=HEADERS)
            assert group_now.status_code == 200, group_now.text
        finally:
            assert again.stop_cleanly(), again.stderr()
