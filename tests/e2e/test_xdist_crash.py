"""A test worker that dies mid-run is reported, replaced, and the run still finishes.

Runs a small pytest session with `-n 2` and the suite's scheduler
(tests/support/xdist_groups.py) in a process of its own. xdist's scope scheduler, which
it extends, hung forever after a worker died late in a run (a CI run hit its 90-minute
limit that way).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.support.processes import run_in_group

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = """
from tests.support.xdist_groups import SharedServers

def pytest_xdist_make_scheduler(config, log):
    return SharedServers(config, log)
"""

TESTS = """
import os
import pytest

@pytest.mark.parametrize("n", range({before}))
def test_before(n):
    pass

def test_dies():
    os._exit(1)

@pytest.mark.parametrize("n", range({after}))
def test_after(n):
    pass
"""


@pytest.mark.parametrize(("before", "after"), [(10, 10), (20, 0)])
def test_a_worker_that_dies_is_reported_once_and_the_run_finishes(
    tmp_path: Path, before: int, after: int
) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_probe.py").write_text(TESTS.format(before=before, after=after))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = run_in_group(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.status == 1, done.stdout + done.stderr
    summary = re.findall(r"(\d+) (passed|failed)", done.stdout.splitlines()[-1])
    assert dict((kind, int(count)) for count, kind in summary) == {
        "passed": before + after,
        "failed": 1,
    }, done.stdout
    assert "test_probe.py::test_dies" in done.stdout
