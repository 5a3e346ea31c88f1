"""What one client can hold on a real `modelplane serve` (one shared per worker): idle and
slow connections are closed in time, connections past the cap are refused, the request
head limit holds to the byte on every face, long-lived watches outlast every timeout,
watch events carry what changed (not the namespace), and failed `accept()`s are logged
once a second.

The server runs with 1 s head, body and keep-alive timeouts and a cap of 200 connections,
so that each attack ends within seconds; every wait below is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import select
import socket
import statistics
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelplane.logs import ACCEPT_FAILED
from modelplane.settings import MAX_REQUEST_HEAD_BYTES
from tests.support.databases import database
from tests.support.server import Server, instance_env

pytestmark = pytest.mark.slow

TOKEN = "mp_limits_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
TIMEOUT = 1.0  # head, body and keep-alive
MARGIN = 1.5  # how late a deadline may be kept on a loaded machine
MAX_CONNECTIONS = 200
NS = "/v1/configs/cn-hangzhou/service/limits"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("limits")
    with database("sqlite", directory) as url:
        env = instance_env(
            url,
            TOKEN,
            MODELPLANE_HEAD_TIMEOUT_SECONDS=str(TIMEOUT),
            MODELPLANE_BODY_TIMEOUT_SECONDS=str(TIMEOUT),
            MODELPLANE_KEEP_ALIVE_TIMEOUT_SECONDS=str(int(TIMEOUT)),
            MODELPLANE_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
            MODELPLANE_MAX_WATCHES="40",
            MODELPLANE_MAX_WATCHES_PER_PRINCIPAL="20",
        )
        with Server(cwd=directory, env=env) as running:
            yield running


class Probe:
    """`GET /healthz` every 50 ms on a connection of its own, timing each answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seconds: list[float] = []

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            while not stop.is_set():
                started = time.perf_counter()
                answer = await http.get(f"{self.url}/healthz")
                self.seconds.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
                await asyncio.sleep(0.05)

    def fast(self) -> None:
        """The answers came fast: the median under 100 ms, none over 500 ms."""
        assert len(self.seconds) >= 5, self.seconds
        assert statistics.median(self.seconds) < 0.1, sorted(self.seconds)
        assert max(self.seconds) < 0.5, sorted(self.seconds)


async def while_probing(url: str, work: Awaitable[Any]) -> tuple[Any, Probe]:
    """`work`'s result, and the probe that ran meanwhile."""
    probe, stop = Probe(url), asyncio.Event()
    probing = asyncio.create_task(probe.run(stop))
    try:
        return await work, probe
    finally:
        stop.set()
        await probing


async def read_until_closed(reader: asyncio.StreamReader, bound: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed (monotonic)."""
    data = b""
    async with asyncio.timeout(bound):
        while chunk := await reader.read(65536):
            data += chunk
    return data, time.monotonic()


async def slow_client(port: int, first: bytes, trickle: bytes) -> tuple[bytes, float, float]:
    """Send `first`, then `trickle` every 0.2 s until the server closes; what it answered,
    when the connection opened and when it closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened = time.monotonic()
    if first:
        writer.write(first)

    async def dribble() -> None:
        while trickle:
            await asyncio.sleep(0.2)
            writer.write(trickle)
            await writer.drain()

    dribbling = asyncio.create_task(dribble())
    try:
        answer, closed = await read_until_closed(reader, TIMEOUT + 2 * MARGIN)
    finally:
        dribbling.cancel()
        writer.close()
    return answer, opened, closed


def status_and_body(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_idle_slow_head_and_slow_body_connections_are_closed_in_time(server: Server) -> None:
    slow_head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    slow_body = (
        f"PUT {NS}/slow HTTP/1.1\r\nHost: x\r\nx-api-key: {TOKEN}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode() + b'{"value": "'

    async def attack() -> list[tuple[str, bytes, float]]:
        kinds = {"idle": (b"", b""), "head": (slow_head, b"X-a: b\r\n"), "body": (slow_body, b"x")}
        made = [(kind, slow_client(server.port, *kinds[kind])) for kind in kinds for _ in range(50)]
        done = await asyncio.gather(*(coroutine for _, coroutine in made))
        return [
            (kind, answer, closed - opened)
            for (kind, _), (answer, opened, closed) in zip(made, done, strict=True)
        ]

    outcomes, probe = asyncio.run(while_probing(server.url, attack()))
    for kind, answer, held in outcomes:
        assert TIMEOUT - 0.1 < held < TIMEOUT + MARGIN, (kind, held)
        if kind == "idle":
            assert answer == b""  # nothing was asked: closed without a word
            continue
        status, body = status_and_body(answer)
        setting = f"MODELPLANE_{kind.upper()}_TIMEOUT_SECONDS"
        assert (status, body["code"]) == (408, "REQUEST_TIMEOUT"), answer
        assert setting in body["message"] and body["details"][0]["field"] == kind
    probe.fast()
    # The request whose body never came stored nothing.
    assert httpx.get(f"{server.url}{NS}/slow", headers=HEADERS).status_code == 404


def test_an_idle_keep_alive_connection_is_closed_and_a_later_slow_head_gets_408(
    server: Server,
) -> None:
    def answered(sock: socket.socket) -> None:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b'{"status":"ok"}'):
            answer += sock.recv(4096)

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        answered(sock)
        idle_from = time.monotonic()
        assert sock.recv(4096) == b""  # closed by the server
        assert TIMEOUT - 0.1 < time.monotonic() - idle_from < TIMEOUT + MARGIN
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        answered(sock)
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request's head, never ended
        started = time.monotonic()
        rest = b""
        while chunk := sock.recv(4096):
            rest += chunk
        assert TIMEOUT - 0.1 < time.monotonic() - started < TIMEOUT + MARGIN
        status, body = status_and_body(rest)
        assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")


def test_connections_past_the_cap_are_refused_then_served_once_others_close(
    server: Server,
) -> None:
    time.sleep(TIMEOUT + 0.5)  # connections of earlier tests are gone
    extra = 5
    socks = [
        socket.create_connection(("127.0.0.1", server.port)) for _ in range(MAX_CONNECTIONS + extra)
    ]
    try:
        # Before the head deadline, only the refused ones have anything to read.
        time.sleep(TIMEOUT / 2)
        readable, _, _ = select.select(socks, [], [], 0)
        refused = []
        for sock in readable:
            try:
                refused.append(sock.recv(4096))
            except ConnectionResetError:
                refused.append(b"reset")
        assert extra <= len(refused) <= extra + 2, len(refused)
        for data in refused:
            if data != b"reset":
                status, body = status_and_body(data)
                assert (status, body["code"]) == (503, "UNAVAILABLE")
                assert "MODELPLANE_MAX_CONNECTIONS" in body["message"]
                assert b"retry-after: 1" in data
    finally:
        for sock in socks:
            sock.close()
    # The accepted ones are closed at their head deadline; then new ones are served.
    deadline = time.monotonic() + TIMEOUT + 2 * MARGIN
    while True:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.1)


def head_of(size: int, method: str, path: str, *, extra: str = "") -> bytes:
    """A request whose head (request line, headers, blank line) is exactly `size` bytes."""
    rest = f" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n{extra}\r\n".encode()
    start = f"{method} {path}{'&' if '?' in path else '?'}pad=".encode()
    return start + b"a" * (size - len(start) - len(rest)) + rest


def send_whole(port: int, request: bytes) -> bytes:
    """Send `request` in one piece; the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, body = answer.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                if len(body) >= length:
                    break
    return answer


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/v1/llms"),  # native
        ("POST", "/"),  # appstream-center RPC
        ("GET", "/llm-ws/promptTemplates"),  # bailian
        ("GET", "/api/v2/configs/cn-hangzhou/service/limits"),  # EAS
    ],
)
def test_a_request_head_is_limited_to_the_byte_on_every_face(
    server: Server, method: str, path: str
) -> None:
    exact = send_whole(server.port, head_of(MAX_REQUEST_HEAD_BYTES, method, path))
    assert int(exact.split()[1]) != 431, exact[:300]
    assert b"invalid HTTP request" not in exact, exact[:300]  # the parser took it whole
    if path == "/healthz":
        assert int(exact.split()[1]) == 200, exact[:300]
    for over in (
        head_of(MAX_REQUEST_HEAD_BYTES + 1, method, path),
        head_of(1_400_000, method, path, extra="X-Big: " + "b" * 1_400_000 + "\r\n"),
    ):
        status, body = status_and_body(send_whole(server.port, over))
        assert (status, body["code"]) == (431, "REQUEST_HEADER_FIELDS_TOO_LARGE"), body
        assert "MODELPLANE_MAX_REQUEST_HEAD_BYTES" in body["message"]
        assert body["details"] == [
            {"field": "head", "rule": f"at most {MAX_REQUEST_HEAD_BYTES} bytes"}
        ]
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_request_the_parser_refuses_gets_400_in_json_and_pipelined_heads_count_alone(
    server: Server,
) -> None:
    for bad in (
        b"GET /healthz HTTP/1.1\nHost: x\n\n",
        b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n",
    ):
        status, body = status_and_body(send_whole(server.port, bad))
        assert (status, body["code"]) == (400, "INVALID_ARGUMENT"), body
        assert body["message"].startswith("invalid HTTP request: ")
    # A request with a body, then a head of exactly the limit, then one byte more: in one send.
    put = (
        f"PUT {NS}/pipelined HTTP/1.1\r\nHost: x\r\nx-api-key: {TOKEN}\r\n"
        'Content-Type: application/json\r\nContent-Length: 15\r\n\r\n{"value": "p"}\n'
    ).encode()
    exact = head_of(MAX_REQUEST_HEAD_BYTES, "GET", "/healthz")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(put + exact + head_of(MAX_REQUEST_HEAD_BYTES + 1, "GET", "/healthz"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    statuses = [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]
    assert statuses == [201, 200, 431], answer[-500:]


def test_the_server_stops_cleanly_while_it_lets_connections_go(tmp_path: Path) -> None:
    with Server(cwd=tmp_path, env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}) as stopping:
        socks = [socket.create_connection(("127.0.0.1", stopping.port)) for _ in range(3)]
        try:
            socks[0].sendall(head_of(MAX_REQUEST_HEAD_BYTES + 1, "GET", "/healthz"))  # 431
            socks[1].sendall(b"GET /healthz HTTP/1.1\r\n")  # a head on its way
            socks[0].settimeout(10)
            assert socks[0].recv(12) == b"HTTP/1.1 431"  # refused, the rest left unread
            assert stopping.stop_cleanly(), stopping.stderr()
        finally:
            for sock in socks:
                sock.close()


def test_watches_outlast_every_timeout(server: Server) -> None:
    async def watch() -> None:
        async with httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=10) as http:
            put = await http.put(f"{NS}/model", json={"value": "a"})
            revision = put.json()["revision"]
            poll = http.get(
                f"{NS}:watch", params={"sinceRevision": revision, "timeoutSeconds": 2.5}
            )
            started = time.monotonic()
            assert (await poll).json() == {"changed": False, "revision": revision}
            assert time.monotonic() - started > 2.4
            params = {"sinceRevision": revision}
            async with http.stream(
                "GET", f"{NS}:watch", params=params, headers={"accept": "text/event-stream"}
            ) as stream:
                lines = stream.aiter_lines()
                await asyncio.sleep(3 * TIMEOUT + 0.5)  # past the head, body and keep-alive
                await http.put(f"{NS}/model", json={"value": "b"})
                async with asyncio.timeout(5):
                    while not (line := await anext(lines)).startswith("data: "):
                        pass
                assert json.loads(line.removeprefix("data: "))["configs"][0]["value"] == "b"

    asyncio.run(watch())


def test_watch_events_carry_what_changed_not_the_namespace(server: Server) -> None:
    keys, value_bytes, watchers, changes = 16, 64 * 1024, 10, 3
    big = "v" * value_bytes
    with httpx.Client(base_url=server.url, headers=HEADERS, timeout=30) as http:
        for n in range(keys):
            assert http.put(f"{NS}-big/k{n:02}", json={"value": big}).status_code in (200, 201)
        since = http.get(f"{NS}-big").json()["revision"]

    async def watch_and_change() -> list[int]:
        received = [0] * watchers
        events = [0] * watchers

        async def follow(n: int, http: httpx.AsyncClient, ready: asyncio.Event) -> None:
            headers = {"accept": "text/event-stream", "Last-Event-ID": str(since)}
            async with http.stream("GET", f"{NS}-big:watch", headers=headers) as stream:
                ready.set()
                async for chunk in stream.aiter_bytes():
                    received[n] += len(chunk)
                    events[n] += chunk.count(b"event: change")
                    if events[n] == changes:
                        return

        async with httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=30) as http:
            ready = [asyncio.Event() for _ in range(watchers)]
            following = [asyncio.create_task(follow(n, http, ready[n])) for n in range(watchers)]
            for event in ready:
                await asyncio.wait_for(event.wait(), 10)
            await asyncio.sleep(0.3)  # every stream waits for a change
            for n in range(changes):
                assert (await http.put(f"{NS}-big/k00", json={"value": str(n)})).status_code == 200
                await asyncio.sleep(0.1)
            await asyncio.wait_for(asyncio.gather(*following), 10)
        return received

    received, probe = asyncio.run(while_probing(server.url, watch_and_change()))
    # Each event holds the one-byte change, not the 1 MiB namespace.
    assert max(received) < changes * 1024, received
    probe.fast()


def test_failed_accepts_are_logged_once_a_second_with_a_count(server: Server) -> None:
    assert server.process is not None
    pid = server.process.pid
    saved = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    logged_before = server.stderr().count(ACCEPT_FAILED)
    socks = []
    try:
        resource.prlimit(
            pid, resource.RLIMIT_NOFILE, (len(os.listdir(f"/proc/{pid}/fd")) + 8, saved[1])
        )
        started = time.monotonic()
        for _ in range(100):  # more than the server can accept now
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(max(0.0, 2.5 - (time.monotonic() - started)))
        window = time.monotonic() - started
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, saved)
        for sock in socks:
            sock.close()
    time.sleep(0.5)  # the log is written
    lines = [json.loads(line) for line in server.stderr().splitlines() if ACCEPT_FAILED in line]
    new = lines[logged_before:]
    assert 1 <= len(new) <= window + 1, len(new)
    assert sum(line["count"] for line in new) > len(new)  # more failures than lines
    # The server serves again once it has file descriptors.
    deadline = time.monotonic() + 5
    while httpx.get(f"{server.url}/readyz", timeout=2).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_slow_head_after_a_body_gets_the_head_deadline_not_the_body_one(
    tmp_path: Path,
) -> None:
    """A connection's one timer, moved lazily, is brought forward when a shorter wait
    follows a longer one: the next head's deadline after a body's."""
    head_seconds, body_seconds = 1.0, 4.0
    with database("sqlite", tmp_path) as url:
        env = instance_env(
            url,
            TOKEN,
            MODELPLANE_HEAD_TIMEOUT_SECONDS=str(head_seconds),
            MODELPLANE_BODY_TIMEOUT_SECONDS=str(body_seconds),
        )
        with (
            Server(cwd=tmp_path, env=env) as running,
            socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock,
        ):
            value = b'{"value": "v"}'
            sock.sendall(
                f"PUT {NS}/after-body HTTP/1.1\r\nHost: x\r\nx-api-key: {TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(value)}\r\n\r\n".encode()
            )
            time.sleep(head_seconds + 0.3)  # the timer now waits for the body's deadline
            sock.sendall(value)
            answer = b""
            while b'"value":"v"' not in answer:
                answer += sock.recv(4096)
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next head, never ended
            started = time.monotonic()
            rest = b""
            while chunk := sock.recv(4096):
                rest += chunk
            assert head_seconds - 0.1 < time.monotonic() - started < head_seconds + MARGIN
            status, body = status_and_body(rest)
            assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")
