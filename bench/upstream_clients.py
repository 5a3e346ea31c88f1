"""Which upstream client a relay should use: httpx, httpx2 and aiohttp, measured in one run.

    python bench/upstream_clients.py [--duration 10] [--rounds 3]

Needs `wrk`. Starts the mock upstream (`bench/mock_upstream.py`) and, for each client, a
relay-shaped proxy: this module's ASGI `app` under uvicorn as modelplane runs it (h11,
the asyncio loop, no access log), which reads a POST's body and sends it to the mock with
one shared client (the relay's pool limits, a timeout per call), reads the whole answer
and sends it on with its status and content type. Then wrk `-c1` (p50) and `-c32`
(requests/s, proxy CPU per request) over the mock direct and each proxy, in interleaved
rounds. httpx2 and aiohttp come with the dev extras (the openai and anthropic SDKs depend
on httpx2, the Alibaba Cloud SDKs on aiohttp); where one is missing its row is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

CLIENT = "UPSTREAM_CLIENT"  # httpx, httpx2 or aiohttp
TARGET = "UPSTREAM_URL"  # the mock's chat completions URL
Forward = Callable[[bytes], Awaitable[tuple[int, bytes, bytes]]]


async def _httpx_client(
    url: str, httpx: Any = httpx
) -> tuple[Forward, Callable[[], Awaitable[None]]]:
    """httpx as the relay uses it: build, send streaming, read whole, close. `httpx` may
    be httpx2, its fork with the same interface."""
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(60, connect=5),
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200),
        follow_redirects=False,
    )
    headers = {"content-type": "application/json", "authorization": "Bearer sk-mock"}

    async def forward(body: bytes) -> tuple[int, bytes, bytes]:
        request = client.build_request(
            "POST", url, content=body, headers=headers, timeout=httpx.Timeout(60, connect=5)
        )
        async with asyncio.timeout(60):
            response = await client.send(request, stream=True)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        kind = response.headers.get("content-type", "application/json").encode()
        return response.status_code, kind, content

    return forward, client.aclose


async def _httpx2_client(url: str) -> tuple[Forward, Callable[[], Awaitable[None]]]:
    """httpx2 (pydantic's fork of httpx and httpcore, whose pool was reworked), used alike."""
    return await _httpx_client(url, importlib.import_module("httpx2"))


async def _aiohttp_client(url: str) -> tuple[Forward, Callable[[], Awaitable[None]]]:
    """aiohttp with the same pool size and timeouts."""
    import aiohttp

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1000),
        timeout=aiohttp.ClientTimeout(sock_read=60, sock_connect=5),
    )
    headers = {"content-type": "application/json", "authorization": "Bearer sk-mock"}

    async def forward(body: bytes) -> tuple[int, bytes, bytes]:
        async with asyncio.timeout(60), session.post(url, data=body, headers=headers) as response:
            content = await response.read()
            kind = response.headers.get("content-type", "application/json").encode()
            return response.status, kind, content

    return forward, session.close


class RelayApp:
    """POST anything: forward the body upstream, answer what came back."""

    def __init__(self) -> None:
        self.forward: Forward | None = None
        self.close: Callable[[], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        assert self.forward is not None
        status, kind, content = await self.forward(body)
        headers = [(b"content-type", kind), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                make = CLIENTS[os.environ[CLIENT]]
                self.forward, self.close = await make(os.environ[TARGET])
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.close is not None:
                    await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


app = RelayApp()
CLIENTS = {"httpx": _httpx_client, "httpx2": _httpx2_client, "aiohttp": _aiohttp_client}


def _start_proxy(client: str, upstream: str, directory: Path) -> tuple[Any, str]:
    from gateway_peers import free_port, wait_ready

    port = free_port()
    env = {**os.environ, CLIENT: client, TARGET: upstream}
    args = [sys.executable, "-m", "uvicorn", "upstream_clients:app", "--port", str(port)]
    args += ["--http", "h11", "--loop", "asyncio", "--no-access-log", "--log-level", "warning"]
    with (directory / f"{client}.out").open("wb") as out:
        process = subprocess.Popen(
            args, cwd=Path(__file__).parent, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    wait_ready(process, url, client, directory)
    return process, url


def main() -> None:
    import smoke
    from gateway_peers import start_mock
    from loadgen import WrkRun, wrk_post

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = smoke.cap_args(parser.parse_args(), duration=1, rounds=1)
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    clients = ["httpx"]
    for name in ("httpx2", "aiohttp"):
        if importlib.util.find_spec(name) is None:
            print(f"{name} is not installed in this environment; its row is skipped.", flush=True)
        else:
            clients.append(name)
    started_load = os.getloadavg()[0]
    runs: dict[str, dict[int, list[WrkRun]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        mock = start_mock(directory)
        proxies: dict[str, tuple[Any, str]] = {}
        try:
            for client in clients:
                proxies[client] = _start_proxy(client, mock.chat_url, directory)
            targets = {"direct": (mock.pid, mock.chat_url)}
            targets |= {name: (p.pid, url) for name, (p, url) in proxies.items()}
            runs = {name: {1: [], 32: []} for name in targets}
            for pid, url in targets.values():
                wrk_post(url, duration=1, connections=4, headers={}, pid=pid)
            for _ in range(args.rounds):
                for connections in (1, 32):
                    for name, (pid, url) in targets.items():
                        run = wrk_post(
                            url,
                            duration=args.duration,
                            connections=connections,
                            headers={},
                            pid=pid,
                        )
                        runs[name][connections].append(run)
        finally:
            for process, _ in proxies.values():
                process.terminate()
                process.wait()
            mock.stop()
    print(
        f"\n{os.cpu_count()} cores; load average {started_load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end; wrk -t1, {args.duration} s per run, "
        f"{args.rounds} interleaved rounds\n"
    )
    print(
        "| client | p50 at c1, ms (rounds) | added p50 vs direct | req/s at c32 (rounds) "
        "| proxy CPU µs/request at c32 | req/s ratio to httpx |"
    )
    print("|---|---|---|---|---|---|")
    for name, by in runs.items():
        p50s = [r.p50_ms for r in by[1]]
        rates = [r.rps for r in by[32]]
        added = statistics.median(
            a.p50_ms - d.p50_ms for a, d in zip(by[1], runs["direct"][1], strict=True)
        )
        ratio = statistics.median(
            a.rps / h.rps for a, h in zip(by[32], runs["httpx"][32], strict=True)
        )
        cells = [
            name,
            ", ".join(f"{v:.3f}" for v in p50s),
            "-" if name == "direct" else f"+{added:.3f} ms",
            ", ".join(f"{v:.0f}" for v in rates),
            f"{statistics.median(r.cpu_us for r in by[32]):.0f}",
            "-" if name == "direct" else f"{ratio:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
