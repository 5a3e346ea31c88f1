"""Run `modelplane serve` as a real process on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from modelplane.security.secretbox import new_master_key_text

# Start-up takes ~1.5 s on an idle machine; a loaded shared CI box has taken 18 s.
READY_SECONDS = 60.0


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A `modelplane serve` child process; its stdout and stderr go to files."""

    def __init__(
        self, *, cwd: Path, env: dict[str, str], port: int | None = None, pass_port: bool = True
    ) -> None:
        self.cwd = cwd
        self.port = port or free_port()
        self.pass_port = pass_port
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
        # No rate limit unless `env` sets one: tests and benchmarks hammer with one key.
        self.env = {**inherited, "MODELPLANE_RATE_LIMIT_PER_SECOND": "0", **env}
        self.stdout_path = cwd / f"server-{self.port}.out"
        self.stderr_path = cwd / f"server-{self.port}.err"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            port_args = ["--port", str(self.port)] if self.pass_port else []
            self.process = subprocess.Popen(
                [sys.executable, "-m", "modelplane", "serve", *port_args],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=err,
            )
        return self

    def wait_ready(self, timeout: float = READY_SECONDS) -> float:
        """Poll /readyz; return the seconds it took."""
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}: {self.stderr()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=0.5).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"server not ready after {timeout}s: {self.stderr()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the process and wait for it to exit; return its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def stop_cleanly(self) -> bool:
        """SIGTERM, then whether shutdown completed (uvicorn re-raises the signal to exit)."""
        code = self.stop(signal.SIGTERM)
        return code in (0, -signal.SIGTERM) and "Application shutdown complete" in self.stderr()

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def __enter__(self) -> Server:
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def instance_env(database_url: str, token: str, **extra: str) -> dict[str, str]:
    """The environment of one instance: its database, a new master key, an admin token."""
    return {
        "MODELPLANE_DATABASE_URL": database_url,
        "MODELPLANE_SECRET_KEY": new_master_key_text(),
        "MODELPLANE_BOOTSTRAP_TOKEN": token,
        **extra,
    }


@contextmanager
def replicas(env: dict[str, str], *, cwd: Path, count: int = 2) -> Iterator[list[Server]]:
    """`count` servers sharing `env` (one database), started at once and ready.

    Afterwards each must shut down cleanly (checked unless the body failed first).
    """
    servers = [Server(cwd=cwd, env=env) for _ in range(count)]
    for server in servers:
        server.start()
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        unclean = [server.stderr() for server in servers if not server.stop_cleanly()]
    assert not unclean, unclean
