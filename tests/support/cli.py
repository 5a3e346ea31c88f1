"""Run the `modelplane` command against a live server, and check how it fails.

`Cli` runs it as a child process (`python -m modelplane`), as a user does, or, with
`in_process=True`, through typer's CliRunner in this process: the same code against the
same server, without the interpreter's start-up (about half a second per command).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any MODELPLANE_ variable, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    return {**base, **extra}


@dataclass
class Cli:
    """`modelplane …` with MODELPLANE_URL and MODELPLANE_TOKEN set for one server."""

    url: str
    token: str
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    in_process: bool = False

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        variables = {
            "MODELPLANE_URL": self.url,
            "MODELPLANE_TOKEN": self.token,
            **self.env,
            **(env or {}),
        }
        if self.in_process:
            return _in_process(list(args), variables, input or "")
        return subprocess.run(
            [sys.executable, "-m", "modelplane", *args],
            cwd=self.cwd,
            env=clean_env(**variables),
            input=input or "",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str, input: str | None = None) -> str:
        """Stdout of a command that must succeed."""
        result = self(*args, input=input)
        assert result.returncode == 0, f"{args}: {result.returncode} {result.stderr}"
        assert result.stderr == "", result.stderr
        return result.stdout

    def json(self, *args: str, input: str | None = None) -> Any:
        """The parsed stdout of a command run with `--output json`."""
        return json.loads(self.ok(*args, "--output", "json", input=input))


def _in_process(
    args: list[str], variables: dict[str, str], input: str
) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from modelplane.cli.main import app

    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MODELPLANE_")}
    result = CliRunner().invoke(app, args, input=input, env={**unset, **variables})
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += f"Traceback (in process): {result.exception!r}\n"
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)


def assert_error(result: subprocess.CompletedProcess[str], exit_code: int, *fragments: str) -> None:
    """The command failed with `exit_code` and one `error: …` line naming `fragments`."""
    assert result.returncode == exit_code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
