"""Commands run in their own process group: statuses, timeouts, and nothing left running."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.processes import group_members, run_in_group

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def test_the_status_and_both_outputs_are_returned(tmp_path: Path) -> None:
    done = run_in_group(
        ["bash", "-c", "echo out; echo err >&2; exit 3"], cwd=tmp_path, env=ENV, timeout=10
    )
    assert (done.status, done.stdout, done.stderr, done.left) == (3, "out\n", "err\n", ())


def test_merged_output_keeps_the_order(tmp_path: Path) -> None:
    done = run_in_group(
        ["bash", "-c", "echo a; echo b >&2; echo c"], cwd=tmp_path, env=ENV, timeout=10, merge=True
    )
    assert (done.stdout, done.stderr) == ("a\nb\nc\n", "")


def test_a_process_left_behind_is_named_and_killed(tmp_path: Path) -> None:
    done = run_in_group(
        # Waits until the child has become `sleep` (just forked, it is still `bash`).
        [
            "bash",
            "-c",
            'sleep 60 > /dev/null 2>&1 & until grep -qx sleep "/proc/$!/comm"; do :; done; echo $!',
        ],
        cwd=tmp_path,
        env=ENV,
        timeout=10,
    )
    assert done.status == 0
    assert any("sleep 60" in line for line in done.left), done.left
    orphan = int(done.stdout)
    group = os.getpgid(orphan) if Path(f"/proc/{orphan}").exists() else None
    assert group is None or not group_members(group)


def test_a_timeout_interrupts_first_when_given_grace(tmp_path: Path) -> None:
    script = (
        f"trap 'echo interrupted > {tmp_path}/mark; exit 1' INT; while true; do sleep 0.1; done"
    )
    done = run_in_group(["bash", "-c", script], cwd=tmp_path, env=ENV, timeout=0.5, grace=5)
    assert done.status is None
    assert (tmp_path / "mark").read_text() == "interrupted\n"


def test_a_timeout_without_grace_kills_at_once(tmp_path: Path) -> None:
    script = f"trap 'echo interrupted > {tmp_path}/mark' INT; sleep 30"
    done = run_in_group(["bash", "-c", script], cwd=tmp_path, env=ENV, timeout=0.5)
    assert done.status is None
    assert not (tmp_path / "mark").exists()
