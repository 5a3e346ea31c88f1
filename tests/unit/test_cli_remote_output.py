"""How the remote commands print answers and errors, and read `key=value` input (no I/O)."""

from __future__ import annotations

import json

import pytest
import typer
import yaml

from modelplane.cli import arguments
from modelplane.cli.remote import CommandError, Output, cell, describe, emit, reported_errors
from modelplane.client import (
    FieldViolation,
    InvalidArgument,
    ModelplaneError,
    NotFound,
    TransportError,
    Workspace,
)

WORKSPACE = Workspace(workspace_id="ws-1", name="Docs", owner_id="p-1", created_at=0)


def test_json_and_yaml_use_the_api_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    emit([WORKSPACE], Output.json)
    as_json = json.loads(capsys.readouterr().out)
    emit([WORKSPACE], Output.yaml)
    assert yaml.safe_load(capsys.readouterr().out) == as_json
    assert as_json == [{"workspaceId": "ws-1", "name": "Docs", "ownerId": "p-1", "createdAt": 0}]


def test_a_list_is_a_table_with_one_line_per_item(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"key": "a", "value": "two\nlines", "at": 0}, {"key": "bb", "value": "", "at": None}]
    emit(rows, Output.table, columns=["key", "value", "at"])
    assert capsys.readouterr().out.splitlines() == [
        "key  value       at",
        "a    two\\nlines  1970-01-01T00:00:00Z",
        "bb",
    ]


def test_an_object_is_a_field_value_table(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"id": "x", "caps": {"chat": True}, "modalities": ["TEXT", "IMAGE"]}, Output.table)
    assert capsys.readouterr().out.splitlines() == [
        "field       value",
        "id          x",
        "caps.chat   true",
        "modalities  TEXT, IMAGE",
    ]


def test_cells() -> None:
    assert cell("updatedAt", 1_700_000_000_000) == "2023-11-14T22:13:20Z"
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
