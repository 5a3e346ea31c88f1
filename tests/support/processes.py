"""Commands run in a process group of their own, so that nothing they start outlives them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finished:
    """How a command ended: `status` None after a timeout; `stderr` empty when merged.

    `left` names the processes of its group still alive when it ended (killed since).
    """

    status: int | None
    stdout: str
    stderr: str
    left: tuple[str, ...]


def run_in_group(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    merge: bool = False,
    grace: float = 0.0,
) -> Finished:
    """Run `args` in a new session; at the timeout SIGINT it (with `grace` > 0) before SIGKILL.

    SIGINT lets a command's `finally` blocks stop the servers and drop the databases it
    made. Whatever of the group is left at the end is killed.
    """
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        start_new_session=True,
    )
    status: int | None
    out: bytes
    err: bytes | None
    try:
        out, err = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        status = None
        out, err = _stop(process, grace)
    finally:
        left = group_members(process.pid)
        signal_group(process.pid, signal.SIGKILL)
        _wait_gone(process.pid)
    return Finished(
        status,
        out.decode("utf-8", "replace"),
        (err or b"").decode("utf-8", "replace"),
        tuple(left),
    )


def _stop(process: subprocess.Popen[bytes], grace: float) -> tuple[bytes, bytes | None]:
    if grace > 0:
        signal_group(process.pid, signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            return process.communicate(timeout=grace)
    signal_group(process.pid, signal.SIGKILL)
    return process.communicate()


def _wait_gone(group: int, seconds: float = 5.0) -> None:
    """Wait (at most `seconds`) until the killed group's processes are gone: a SIGKILL is
    delivered, not awaited, by `killpg`."""
    deadline = time.monotonic() + seconds
    while group_members(group) and time.monotonic() < deadline:
        time.sleep(0.01)


def group_members(group: int) -> list[str]:
    """The command lines of the live processes of a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                found.append(f"{stat.parent.name}: {cmdline.decode(errors='replace').strip()}")
    return found


def signal_group(pid: int, sig: int) -> None:
    """Send `sig` to the process group `pid`, if any of it is left."""
    with suppress(ProcessLookupError, PermissionError):  # nothing left, or not ours
        os.killpg(pid, sig)


def terminate(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """Stop `process` with SIGTERM, or SIGKILL if it is still there after `grace` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
