"""Schemathesis over the native OpenAPI document, in-process (ASGI).

Every operation gets its explicit examples, schemathesis's coverage cases (boundaries,
wrong types, missing fields) and `MODELPLANE_FUZZ_EXAMPLES` generated cases; then the
state machine built from the document's links (create → get/update/delete …) runs
sequences of calls. Each response must not be a 5xx and must conform to the document.
No partial write: after every refused request (4xx) and every read, the resource tables
hold exactly what they held before; after the single calls and after every scenario, the
stored rows keep the catalog's, prompts' and configs' invariants. At least 2,000 requests
are made, counted here, on each store: SQLite and PostgreSQL get the same single calls;
the state machine runs on SQLite, whose file can be put back before each scenario.

`MODELPLANE_FUZZ_EXAMPLES=200 pytest tests/e2e/test_openapi_fuzz.py` runs a longer fuzz.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from modelplane.app import create_app
from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings
from tests.support.databases import database
from tests.support.store_invariants import broken_invariants
from tests.support.store_snapshot import PostgresRows, SqliteRows

TOKEN = "mp_fuzz_admin_token_0123456789abcdef"
SEED = 20261121
MIN_CASES = 2000
# Generated cases per operation, beyond its examples and coverage cases.
EXAMPLES = int(os.environ.get("MODELPLANE_FUZZ_EXAMPLES", "10"))
# Stateful scenarios (each a few linked calls).
SCENARIOS = int(os.environ.get("MODELPLANE_FUZZ_SCENARIOS", str(max(60, EXAMPLES * 4))))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
READS = {"GET", "HEAD", "OPTIONS"}


def fuzz_settings(database_url: str) -> Settings:
    """An instance on its own database, without rate limits."""
    return Settings(
        database_url=database_url,
        secret_key=new_master_key_text(),
        bootstrap_token=TOKEN,
        access_log=False,
        rate_limit_per_second=0,
    )


@dataclass
class Run:
    """What the fuzzing did and what it found."""

    rows: SqliteRows | PostgresRows
    state: str = ""
    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)
    stateful: bool = False
    # Successful calls of the state machine on one resource (reached through a link).
    linked_successes: int = 0

    def call(self, case: Any) -> Any:
        """Send `case`, check the response and the store; failures are collected."""
        if case.path.endswith(":watch") and isinstance(case.query, dict):
            case.query["timeoutSeconds"] = 0  # a fuzzed watch never waits for a change
        label = f"{case.method.upper()} {case.path}"
        response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
        self.calls[label] += 1
        self.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:
            self.failures.setdefault(f"{label}: {str(exc).splitlines()[0]}", str(exc)[:3000])
        after = self.rows.snapshot()
        refused = 400 <= response.status_code < 500
        if (refused or case.method.upper() in READS) and after != self.state:
            self.failures.setdefault(
                f"{label}: {response.status_code} changed stored resources",
                f"{case.as_curl_command()}\n{response.text[:2000]}",
            )
        self.state = after
        if self.stateful and "{" in case.path and response.status_code < 300:
            self.linked_successes += 1
        return response


def fuzz_operations(schema: Any, run: Run) -> None:
    """Examples, coverage and generated cases for every operation."""
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        verbosity=hypothesis.Verbosity.quiet,
    )
    modes = [HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING]
    for result in schema.get_all_operations():
        operation = result.ok()

        def test(case: Any) -> None:
            run.call(case)

        config = HypothesisTestConfig(
            project=schema.config, modes=modes, settings=settings, apply_ci_profile=False
        )
        create_test(operation=operation, test_func=test, config=config)()


def fuzz_state_machine(schema: Any, run: Run, db: sqlite3.Connection) -> None:
    """Sequences of linked calls (create, then get/update/delete what was created).

    Every scenario starts from the same stored rows: which rules hypothesis can pick
    depends on earlier responses, and a store that kept growing between scenarios made
    the same choices meet different answers (hypothesis rejects that as flaky).
    """

    run.stateful = True
    start = sqlite3.connect(":memory:")
    db.backup(start)

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            start.backup(db)
            run.state = run.rows.snapshot()

        def teardown(self) -> None:
            for broken in broken_invariants(run.rows):
                run.failures.setdefault(f"after a scenario, {broken}", broken)

        def call(self, case: Any, **kwargs: Any) -> Any:
            return run.call(case)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            """Checked (and counted) in `run.call`."""

    Machine.run(
        settings=hypothesis.settings(
            max_examples=SCENARIOS,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            verbosity=hypothesis.Verbosity.quiet,
        )
    )
    start.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_generated_requests_find_no_server_error_no_schema_break_no_partial_write(
    tmp_path: Path, kind: str
) -> None:
    with database(kind, tmp_path) as url:
        app = create_app(fuzz_settings(url))
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the lifespan
        schema.config.seed = SEED
        db = sqlite3.connect(tmp_path / "modelplane.db") if kind == "sqlite" else None
        rows = SqliteRows(db) if db is not None else PostgresRows(url)
        run = Run(rows=rows, state=rows.snapshot())
        try:
            fuzz_operations(schema, run)
            broken = broken_invariants(rows)
            if db is not None:
                fuzz_state_machine(schema, run, db)
        finally:
            rows.close()
            asgi.shutdown_lifespans()
    total = sum(run.calls.values())
    report = "\n\n".join(f"{key}\n{detail}" for key, detail in run.failures.items())
    assert not run.failures, f"{len(run.failures)} failures in {total} calls:\n{report[:20000]}"
    assert not broken, broken
    assert total >= MIN_CASES, (total, run.calls.most_common())
    assert not [status for status in run.statuses if status >= 500], run.statuses
    if db is not None:
        # 20 to 50 here: hypothesis also draws constants from every imported module, so the
        # count moves with the rest of the suite; 10 still shows that links are followed.
        assert run.linked_successes >= 10, "the state machine hardly followed a link"
