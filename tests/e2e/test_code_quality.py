"""The repository's own rules: ruff clean, formatted, mypy --strict clean, layers kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "src", "tests", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_ruff_formatted() -> None:
    result = run("ruff", "format", "--check", "src", "tests", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_import_only_what_their_contracts_allow() -> None:
    # The contracts are [tool.importlinter] in pyproject.toml; the sources checked are the
    # tree's (src/), whether or not the package is installed from it.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = run("lint-imports", "--no-cache", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
