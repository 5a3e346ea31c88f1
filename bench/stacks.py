"""The HTTP server stacks the read-path benchmark can run modelplane and the bare app on.

- `serve`: `modelplane serve`, the product as shipped (its protocol and guarantees);
- `serve-uvloop`: the same on uvloop instead of asyncio's loop (the choice not taken);
- `h11`: uvicorn with h11 on asyncio's loop, the application alone (no guarantees);
- `httptools`: uvicorn with httptools on uvloop, the application alone (no guarantees);
- `httptools-asyncio`: the same on asyncio's own loop;
- `granian`: granian's ASGI server (Rust HTTP, uvloop), when its executable is given.

Every stack but `serve` builds the application with `modelplane.app:create_app` from the
same `MODELPLANE_*` environment. granian is not a project dependency: install it into a
virtual environment of its own (`python3.11 -m venv /tmp/granian && /tmp/granian/bin/pip
install granian`) and pass its executable; it imports modelplane from this environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.processes import terminate

ROOT = Path(__file__).resolve().parent.parent
GRANIAN_ENV = "MODELPLANE_BENCH_GRANIAN"
# The uvicorn stacks: their HTTP protocol and event loop.
UVICORN = {
    "h11": ("h11", "asyncio"),
    "httptools": ("httptools", "uvloop"),
    "httptools-asyncio": ("httptools", "asyncio"),
}
STACKS = ("serve", "serve-uvloop", *UVICORN, "granian")
_SERVE_ON_UVLOOP = (
    "import sys; from modelplane import connections; connections.LOOP = 'uvloop'; "
    "from modelplane.cli.main import main; main()"
)
BASELINES = ("httptools", "h11")


@dataclass
class Running:
    """A server process on 127.0.0.1."""

    name: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and its descendants (granian's workers)."""
        return sum(_cpu(pid) for pid in _tree(self.process.pid))

    def stop(self) -> None:
        terminate(self.process)


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            found += _tree(int(child))
    return found


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def granian_path(given: str | None) -> Path | None:
    """granian's executable: `given`, else `$MODELPLANE_BENCH_GRANIAN`; None when absent."""
    path = given or os.environ.get(GRANIAN_ENV)
    return Path(path) if path and Path(path).is_file() else None


def uvicorn_args(app: str, stack: str, port: int, *, factory: bool = False) -> list[str]:
    """`python -m uvicorn` serving `app` on the uvicorn `stack`."""
    http, loop = UVICORN[stack]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *(["--factory"] if factory else []),
        "--http",
        http,
        "--loop",
        loop,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def command(stack: str, port: int, granian: Path | None) -> tuple[list[str], dict[str, str]]:
    """The command line of modelplane on `stack`, and what its environment adds."""
    if stack == "serve":
        return [sys.executable, "-m", "modelplane", "serve", "--port", str(port)], {}
    if stack == "serve-uvloop":
        return [sys.executable, "-c", _SERVE_ON_UVLOOP, "serve", "--port", str(port)], {}
    if stack in UVICORN:
        return uvicorn_args("modelplane.app:create_app", stack, port, factory=True), {}
    assert stack == "granian" and granian is not None
    here = [str(ROOT / "src"), sysconfig.get_paths()["purelib"]]  # modelplane and its deps
    args = [str(granian), "--interface", "asgi", "--loop", "uvloop", "--no-ws"]
    args += ["--port", str(port), "--log-level", "warning", "--factory"]
    return [*args, "modelplane.app:create_app"], {"PYTHONPATH": os.pathsep.join(here)}


def start(
    name: str,
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    port: int,
    probe: str,
    logs: Path | None = None,
) -> Running:
    """Start `args` in `cwd`, its stderr to a file in `logs` (else `cwd`); wait until
    `probe` answers 200."""
    log = ((logs or cwd) / f"{name}-{port}.err").open("wb")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    process = subprocess.Popen(
        args, cwd=cwd, env={**inherited, **env}, stdout=subprocess.DEVNULL, stderr=log
    )
    log.close()
    running = Running(name, process, port)
    for _ in range(1200):  # up to a minute on a loaded machine
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited {process.returncode}; see {log.name}")
        try:
            if httpx.get(f"{running.url}{probe}", timeout=0.5).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    running.stop()
    raise RuntimeError(f"{name} did not start; see {log.name}")
