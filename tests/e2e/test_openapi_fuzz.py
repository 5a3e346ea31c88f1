"""Schemathesis over /openapi.json of a live server: no 5xx, no response outside the schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import Server

TOKEN = "mp_fuzz_admin_token_0123456789abcdef"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)
# A watch waits up to `timeoutSeconds` (0..300) for a change that no fuzzed request makes:
# it is fuzzed like every route, but never waits.
CONFIG = """
[[operations]]
include-path-regex = ":watch$"
parameters = { "query.timeoutSeconds" = 0 }
"""


@pytest.mark.slow
def test_generated_requests_find_no_server_error_and_no_schema_break(tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with Server(cwd=tmp_path, env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN}) as server:
        run = subprocess.run(
            [
                str(schemathesis),
                "--config-file",
                str(config),
                "run",
                f"{server.url}/openapi.json",
                "-H",
                f"Authorization: Bearer {TOKEN}",
                "--checks",
                CHECKS,
                "--max-examples",
                "40",
                "--phases",
                "examples,coverage,fuzzing",
                "--seed",
                "20261121",
                "--workers",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert "Traceback" not in server.stderr()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    found = re.search(r"(\d+) generated, (\d+) passed", output)
    assert found, output[-3000:]
    generated, passed = int(found.group(1)), int(found.group(2))
    assert generated >= 500, output[-3000:]
    assert passed == generated
