"""`bench/load_mixed.py` in brief: two replicas on PostgreSQL, mixed reads and writes, no
errors. The full run (60 s) is recorded in BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import IN_CI, postgres_available

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def test_a_short_mixed_load_on_two_replicas_has_no_errors(tmp_path: Path) -> None:
    problem = postgres_available()
    if problem is not None:
        (pytest.fail if IN_CI else pytest.skip)(f"PostgreSQL is unreachable ({problem})")
    summary = tmp_path / "summary.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load_mixed.py"),
            *("--seconds", "3", "--clients", "4", "--llms", "5", "--prompts", "3"),
            *("--json", str(summary)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(summary.read_text())
    overall = result["operations"]["all"]
    assert overall["requests"] > 0 and overall["errors"] == 0 and overall["errorRate"] == 0
    assert "| **all** |" in run.stdout
    assert {"GET llm", "POST prompt render"} <= set(result["operations"])
