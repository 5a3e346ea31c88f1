"""A PostgreSQL cluster of a test's own, which it may stop and start at will.

The PostgreSQL on 127.0.0.1:5432 is shared by every test run, so fault tests that stop
the database use one of these instead: `initdb` into a temporary directory, trust
authentication, listening only on 127.0.0.1 on a free port. PostgreSQL refuses to run
as root, so when the tests run as root the binaries run as the `postgres` OS user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.databases import IN_CI
from tests.support.server import free_port

OS_USER = "postgres"


def binaries() -> Path | None:
    """The newest `/usr/lib/postgresql/*/bin` holding initdb and pg_ctl, if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0)
    )
    for directory in reversed(found):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


class PrivateCluster:
    """One throw-away cluster: `start()`, `stop()` (fast shutdown), `start()` again."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.log = root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 30) -> None:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.decode(errors='replace')}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """Fast shutdown: every session is terminated, new connections are refused."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop_quietly(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"a private PostgreSQL cluster is needed: {reason}")
    pytest.skip(f"a private PostgreSQL cluster is impossible here: {reason}")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A running private cluster; stopped and deleted afterwards."""
    bin_dir = binaries()
    if bin_dir is None:
        _unavailable("no initdb/pg_ctl found")
        raise AssertionError  # unreachable: skip/fail raise
    # Not under pytest's tmp_path: its directories are private to the user running pytest,
    # and the cluster's owner must be able to reach its data directory.
    root = Path(tempfile.mkdtemp(prefix="mp-pg-"))
    try:
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(OS_USER)
            except KeyError:
                _unavailable(f"running as root and there is no {OS_USER!r} user")
            os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = PrivateCluster(bin_dir, root, free_port())
        try:
            cluster.init()
            cluster.start()
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            _unavailable(str(exc))
        try:
            yield cluster
        finally:
            cluster.stop_quietly()
    finally:
        shutil.rmtree(root, ignore_errors=True)
