"""How the remote commands print answers and errors, and read `key=value` input (no I/O)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import typer
import yaml
from typer.testing import CliRunner

from modelplane.cli import arguments
from modelplane.cli.main import app
from modelplane.cli.remote import (
    CommandError,
    Output,
    cell,
    describe,
    emit,
    moment_ms,
    reported_errors,
)
from modelplane.client import (
    FieldViolation,
    InvalidArgument,
    ModelplaneError,
    NotFound,
    TransportError,
    Workspace,
)

WORKSPACE = Workspace(workspace_id="ws-1", name="Docs", owner_id="p-1", created_at=0)
NOW_MS = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local time zone is UTC+8 (no summer time) for the test, and as it was afterwards."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_json_and_yaml_use_the_api_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    emit([WORKSPACE], Output.json)
    as_json = json.loads(capsys.readouterr().out)
    emit([WORKSPACE], Output.yaml)
    assert yaml.safe_load(capsys.readouterr().out) == as_json
    assert as_json == [{"workspaceId": "ws-1", "name": "Docs", "ownerId": "p-1", "createdAt": 0}]


def test_a_list_is_a_table_with_one_line_per_item(
    capsys: pytest.CaptureFixture[str], local_zone: None
) -> None:
    rows = [{"key": "a", "value": "two\nlines", "at": 0}, {"key": "bb", "value": "", "at": None}]
    emit(rows, Output.table, columns=["key", "value", "at"])
    assert capsys.readouterr().out.splitlines() == [
        "key  value       at",
        "a    two\\nlines  1970-01-01 08:00:00",
        "bb",
    ]


def test_json_and_yaml_keep_times_as_the_api_sends_them(
    capsys: pytest.CaptureFixture[str], local_zone: None
) -> None:
    emit({"createdAt": NOW_MS, "at": NOW_MS}, Output.json)
    assert json.loads(capsys.readouterr().out) == {"createdAt": NOW_MS, "at": NOW_MS}
    emit([{"since": NOW_MS}], Output.yaml)
    assert yaml.safe_load(capsys.readouterr().out) == [{"since": NOW_MS}]


def test_an_object_is_a_field_value_table(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"id": "x", "caps": {"chat": True}, "modalities": ["TEXT", "IMAGE"]}, Output.table)
    assert capsys.readouterr().out.splitlines() == [
        "field       value",
        "id          x",
        "caps.chat   true",
        "modalities  TEXT, IMAGE",
    ]


def test_cells(local_zone: None) -> None:
    assert cell("updatedAt", NOW_MS) == "2023-11-15 06:13:20"  # the local date and time
    assert cell("apiKey.expiresAt", NOW_MS) == "2023-11-15 06:13:20"
    assert cell("at", NOW_MS) == cell("since", NOW_MS) == "2023-11-15 06:13:20"
    assert cell("format", 3) == cell("latencyMs", 3) == "3"  # not times
    assert cell("revision", 3) == "3"
    assert cell("labels", {}) == "{}"
    assert cell("hasCredentials", False) == "false"


def test_errors_read_as_one_line() -> None:
    invalid = InvalidArgument(
        "request body is invalid",
        code="INVALID_ARGUMENT",
        details=(FieldViolation("displayName", "length must be 1..255"),),
    )
    assert describe(invalid, "u") == (
        "invalid argument: request body is invalid; displayName: length must be 1..255"
    )
    named = InvalidArgument(
        "variables: missing values for b",
        code="INVALID_ARGUMENT",
        details=(FieldViolation("variables.b", "missing"),),
    )
    assert describe(named, "u") == "invalid argument: variables: missing values for b"
    assert describe(NotFound("LLM 'x' not found", code="NOT_FOUND"), "u") == (
        "not found: LLM 'x' not found"
    )
    assert describe(TransportError("ConnectError: refused"), "http://h") == (
        "cannot reach http://h: ConnectError: refused"
    )
    other = ModelplaneError("too big", code="PAYLOAD_TOO_LARGE", status_code=413)
    assert describe(other, "u") == "server error 413 PAYLOAD_TOO_LARGE: too big"


def test_a_not_found_under_a_url_ending_in_v1_hints_at_the_base_url() -> None:
    missing = NotFound("no route for GET /v1/v1/llms", code="NOT_FOUND")
    assert describe(missing, "http://host:8080/v1/") == (
        "not found: no route for GET /v1/v1/llms (hint: --url is the server's base URL, "
        "without /v1: http://host:8080)"
    )
    assert describe(missing, "http://host:8080") == "not found: no route for GET /v1/v1/llms"


@pytest.mark.parametrize(
    ("raised", "exit_code"),
    [
        (NotFound("gone", code="NOT_FOUND"), 3),
        (ModelplaneError("x", code="ALREADY_EXISTS"), 4),
        (ModelplaneError("x", code="FAILED_PRECONDITION"), 4),
        (ModelplaneError("x", code="UNAUTHENTICATED"), 5),
        (ModelplaneError("x", code="PERMISSION_DENIED"), 5),
        (InvalidArgument("x", code="INVALID_ARGUMENT"), 6),
        (TransportError("x"), 7),
        (ModelplaneError("x", code="UNAVAILABLE"), 7),
        (ModelplaneError("x", code="RESOURCE_EXHAUSTED"), 8),
        (CommandError("bad"), 2),
        (OSError("disk"), 1),
        (KeyError("surprise"), 1),
    ],
)
def test_failures_become_exit_codes(
    raised: Exception, exit_code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exited, reported_errors():
        raise raised
    assert exited.value.exit_code == exit_code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_pairs() -> None:
    assert arguments.pairs(["a=1", "b=x=y", "c="], "--label") == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(CommandError, match="--var takes KEY=VALUE, got '=1'"):
        arguments.pairs(["=1"], "--var")


def test_string_values() -> None:
    found = arguments.string_values({"n": 3, "ok": True, "s": "t"}, "vars.yaml")
    assert found == {"n": "3", "ok": "true", "s": "t"}
    with pytest.raises(CommandError, match=r"vars\.yaml: x must be text or a number"):
        arguments.string_values({"x": [1]}, "vars.yaml")


def test_a_moment_is_an_iso_time_a_duration_back_from_now_or_epoch_ms(local_zone: None) -> None:
    assert moment_ms("2023-11-14T22:13:20Z") == NOW_MS
    assert moment_ms("2023-11-15T06:13:20+08:00") == NOW_MS
    assert moment_ms("2023-11-15T06:13:20") == NOW_MS  # no offset: local time, as tables show
    assert moment_ms("2023-11-15 06:13:20") == NOW_MS  # as a table cell reads
    assert moment_ms("2023-11-15") == NOW_MS - (6 * 3600 + 13 * 60 + 20) * 1000  # local midnight
    assert moment_ms(str(NOW_MS)) == NOW_MS  # as -o json writes it
    for text, seconds in (
        ("90s", 90),
        ("30m", 1800),
        ("1h", 3600),
        ("7d", 604_800),
        ("2w", 1_209_600),
    ):
        assert moment_ms(text, now_ms=NOW_MS) == NOW_MS - seconds * 1000
    for wrong in ("yesterday", "1 h", "1y", "-1h", "1.5h", "", "2023-13-01", "12"):
        with pytest.raises(ValueError, match=r"ISO 8601.*duration back from now"):
            moment_ms(wrong)


@pytest.mark.parametrize(
    "command", [["audit", "list"], ["usage", "records"]], ids=lambda c: " ".join(c)
)
@pytest.mark.parametrize("option", ["--since", "--until"])
def test_a_time_option_that_is_no_time_is_a_usage_error_naming_it(
    command: list[str], option: str
) -> None:
    result = CliRunner().invoke(app, [*command, option, "yesterday", "--token", "mp_x"])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
    assert "duration back from now (30m, 1h, 7d" in result.output
