"""The server's log: readable lines on a terminal, JSON lines otherwise (MODELPLANE_LOG_FORMAT)."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from modelplane import logs
from modelplane.logs import AccessLog, TextFormatter, resolved_format
from modelplane.settings import Settings

AT = 1_700_000_000.25  # 2023-11-15 06:13:20.250 in Asia/Shanghai


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert resolved_format("auto", Terminal()) == "text"
    assert resolved_format("auto", io.StringIO()) == "json"
    with open(os.devnull, "w") as devnull:
        assert resolved_format("auto", devnull) == "json"
    closed = io.StringIO()
    closed.close()
    assert resolved_format("auto", closed) == "json"
    assert resolved_format("text", io.StringIO()) == "text"
    assert resolved_format("json", Terminal()) == "json"


def test_the_setting_is_auto_by_default_and_refuses_other_formats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().log_format == "auto"
    monkeypatch.setenv("MODELPLANE_LOG_FORMAT", "text")
    assert Settings().log_format == "text"
    monkeypatch.setenv("MODELPLANE_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match=r"log_format\n.*'auto', 'text' or 'json'"):
        Settings()


def record(
    message: str, *, exc: BaseException | None = None, **fields: object
) -> logging.LogRecord:
    made = logging.LogRecord(
        "modelplane.serving",
        logging.WARNING,
        __file__,
        1,
        message,
        None,
        (type(exc), exc, exc.__traceback__) if exc else None,
    )
    made.created, made.msecs = AT, 250.0
    made.fields = fields
    return made


def test_a_text_line_has_local_time_level_logger_message_and_fields(local_zone: None) -> None:
    line = TextFormatter().format(
        record("file limit raised", limit=4096, path="/tmp/a b", ok=True, none=None)
    )
    assert line == (
        "2023-11-15 06:13:20.250 WARNING modelplane.serving: file limit raised  "
        'limit=4096 path="/tmp/a b" ok=true none=null'
    )


def test_a_text_line_carries_the_trace_of_an_error_below_it() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        lines = TextFormatter().format(record("failed", exc=error)).splitlines()
    assert lines[0].endswith("WARNING modelplane.serving: failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: boom"


def test_the_access_log_in_text_is_one_readable_line_per_request(local_zone: None) -> None:
    writes: list[bytes] = []
    log = AccessLog(writes.append, text=True)  # no event loop: written at once
    fields = {"requestId": "r1", "method": "GET", "path": "/v1/llms", "status": 200}
    log.log({**fields, "durationMs": 4.21, "face": "native"})
    (line,) = writes[0].decode().splitlines()
    date, clock, rest = line.split(" ", 2)
    assert time.strptime(f"{date} {clock[:8]}", "%Y-%m-%d %H:%M:%S")
    assert rest == "INFO    modelplane.access: GET /v1/llms 200 4.21ms  requestId=r1 face=native"
    json_writes: list[bytes] = []
    AccessLog(json_writes.append).log({**fields, "durationMs": 4.21})
    assert json.loads(json_writes[0])["path"] == "/v1/llms"


def test_configure_text_writes_readable_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    loggers = [logging.getLogger(n) for n in ("asyncio", "uvicorn.error", logs.CONNECTIONS_LOGGER)]
    filters = [logger.filters[:] for logger in loggers]
    buffer = io.StringIO()
    try:
        logs.configure("info", "text")
        root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
        logging.getLogger("uvicorn.error").info("Application startup complete.")
        logs.configure("info", "auto")  # stderr under pytest is no terminal: JSON
        root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
        logging.getLogger("uvicorn.error").info("Shutting down")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger, kept in zip(loggers, filters, strict=True):
            logger.filters[:] = kept
    text, as_json = buffer.getvalue().splitlines()
    assert text.endswith(" INFO    uvicorn.error: Application startup complete.")
    assert json.loads(as_json)["msg"] == "Shutting down"
