"""Every `python bench/…` command of BENCHMARKS.md runs, in smoke mode.

The full runs take minutes each; with `MODELPLANE_BENCH_SMOKE=1` (bench/smoke.py) a script
goes through the same code paths with every size and duration capped, in seconds. Each
command runs verbatim, from the repository root, and must exit 0 and say that it was a
smoke run. The ```sh blocks of BENCHMARKS.md hold only those commands and
`apt-get install` lines (install steps, not run here); a block whose script runs `wrk`
must install it. Without `wrk`, such a command fails in CI and is skipped elsewhere; the
same goes for PostgreSQL on 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import doc_snippets
from tests.support.databases import IN_CI, postgres_available
from tests.support.doc_snippets import Kind
from tests.support.processes import run_in_group

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "BENCHMARKS.md"
BIN = Path(sys.executable).parent
TIMEOUT = 180.0  # seconds per command; a smoke run takes 5-20 s
SMOKE_NOTE = "SMOKE RUN of"  # what bench/smoke.py prints

_INSTALL = re.compile(r"^apt-get install(?: -y)?(?P<packages>(?: [\w.+-]+)+)$")
_COMMAND = re.compile(r"^python bench/(?P<script>[\w-]+\.py)(?: .*)?$")
_RUNS_WRK = re.compile(r"\bwrk\(|[\"']wrk[\"']")  # calls wrk (read_llm.wrk) or looks it up
_NEEDS_POSTGRES = re.compile(r"\bpostgres_database\(")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class BenchCommand:
    """A `python bench/…` line of a ```sh block, and the packages its block installs."""

    line: int
    command: str
    script: str
    installs: frozenset[str]

    @property
    def needs_wrk(self) -> bool:
        return _RUNS_WRK.search(_source(self.script)) is not None

    @property
    def needs_postgres(self) -> bool:
        return "postgres" in self.command or bool(_NEEDS_POSTGRES.search(_source(self.script)))


def _source(script: str) -> str:
    return (ROOT / "bench" / script).read_text(encoding="utf-8")


def _shell_lines() -> list[tuple[int, str, int]]:
    """(page line, stripped text, opening line of its block) of each ```sh line."""
    found = []
    for block in doc_snippets.parse_blocks(BENCHMARKS.read_text(encoding="utf-8")):
        if block.kind is not Kind.SHELL:
            continue
        for offset, line in enumerate(block.text.splitlines(), 1):
            text = line.strip()
            if text and not text.startswith("#"):
                found.append((block.line + offset, text, block.line))
    return found


def _commands() -> list[BenchCommand]:
    installs: dict[int, set[str]] = {}
    for _, text, block in _shell_lines():
        if install := _INSTALL.match(text):
            installs.setdefault(block, set()).update(install["packages"].split())
    return [
        BenchCommand(line, text, command["script"], frozenset(installs.get(block, ())))
        for line, text, block in _shell_lines()
        if (command := _COMMAND.match(text))
    ]


def _params() -> list[Any]:
    params = []
    for command in _commands():
        marks = [pytest.mark.postgres] if command.needs_postgres else []
        params.append(pytest.param(command, id=command.script.removesuffix(".py"), marks=marks))
    return params


def test_benchmark_blocks_hold_only_bench_commands_and_installs() -> None:
    """So that no command of the page goes unrun: each line is one or the other."""
    lines = _shell_lines()
    assert any(_COMMAND.match(text) for _, text, _ in lines), "no `python bench/…` command"
    unknown = [
        f"BENCHMARKS.md, line {line}: {text}"
        for line, text, _ in lines
        if not (_COMMAND.match(text) or _INSTALL.match(text))
    ]
    assert not unknown, (
        "a ```sh block of BENCHMARKS.md may hold only `python bench/<script>.py …` and "
        "`apt-get install …` lines:\n" + "\n".join(unknown)
    )


@pytest.mark.parametrize("command", _params())
def test_benchmark_command_runs_in_smoke_mode(command: BenchCommand) -> None:
    where = f"BENCHMARKS.md, line {command.line}: {command.command}"
    assert (ROOT / "bench" / command.script).is_file(), f"{where}: no bench/{command.script}"
    if command.needs_wrk:
        assert "wrk" in command.installs, (
            f"{where}: bench/{command.script} runs wrk; its block must say `apt-get install -y wrk`"
        )
        if shutil.which("wrk") is None:
            message = f"{where}: needs wrk, which is not installed: apt-get install -y wrk"
            (pytest.fail if IN_CI else pytest.skip)(message)
    if command.needs_postgres:
        problem = postgres_available()
        if problem is not None:
            message = f"{where}: PostgreSQL on 127.0.0.1:5432 is unreachable ({problem})"
            (pytest.fail if IN_CI else pytest.skip)(message)

    status, output, left = _run(command.command)
    detail = f"{where}\n{_ended(status)}; output:\n{output}"
    assert status == 0, detail
    assert not left, f"left running after the command (now killed): {left}\n{detail}"
    assert SMOKE_NOTE in output, f"no smoke-run note (bench/smoke.py cap_args):\n{detail}"


def _run(command: str) -> tuple[int | None, str, list[str]]:
    """Run a command line with bash from the repository root, in smoke mode.

    Its status (None on a timeout), its output, and the processes it left running (then
    killed). A command still running at the timeout gets SIGINT first, so that its
    `finally` blocks drop databases and stop servers, then SIGKILL.
    """
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env = {
        **inherited,
        "PATH": f"{BIN}{os.pathsep}{inherited.get('PATH', '')}",
        "PYTHONDONTWRITEBYTECODE": "1",  # no bench/__pycache__ left behind
        "PYTHONUNBUFFERED": "1",
        "MODELPLANE_BENCH_SMOKE": "1",
    }
    finished = run_in_group(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=ROOT,
        env=env,
        timeout=TIMEOUT,
        merge=True,
        grace=30,
    )
    return finished.status, finished.stdout, list(finished.left)


def _ended(status: int | None) -> str:
    return f"timed out after {TIMEOUT:.0f} s" if status is None else f"exit status {status}"
