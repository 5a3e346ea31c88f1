"""Lines a client can make the server write at will are held to one a second, with a count:
asyncio's failed `accept()`, uvicorn's unparsable request, refused or timed-out connections."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from modelplane import logs
from modelplane.logs import ACCEPT_FAILED, JsonFormatter, Throttle, accept_failure


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def record(message: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)
    if fields:
        made.__dict__["fields"] = fields  # as `extra={"fields": …}` sets it
    return made


def test_one_line_a_second_of_a_kind_and_the_next_counts_those_held_back() -> None:
    clock = Clock()
    throttle = Throttle(accept_failure, clock=clock)
    failed = f"{ACCEPT_FAILED}\nsocket: <fd=14>"
    burst = [record(failed) for _ in range(2000)]
    assert [throttle.filter(made) for made in burst] == [True] + [False] * 1999
    assert vars(burst[0])["fields"] == {"count": 1}
    clock.now += 0.999
    assert not throttle.filter(record(failed))
    clock.now += 0.001
    later = record(failed, socket="x")
    assert throttle.filter(later)
    assert vars(later)["fields"] == {"socket": "x", "count": 2001}  # 2000 held back, and itself
    # Other lines of the logger pass untouched, whatever the rate.
    other = record("Task exception was never retrieved")
    assert all(throttle.filter(other) for _ in range(10))
    assert not hasattr(other, "fields")


def test_each_kind_has_its_own_second() -> None:
    clock = Clock()
    throttle = Throttle(logs.every_message, clock=clock)
    assert throttle.filter(record("connection closed: the request head did not arrive in time"))
    assert throttle.filter(record("connection refused: too many open connections"))
    assert not throttle.filter(record("connection refused: too many open connections"))


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    """`logs.configure` writing into a buffer; the logging setup is restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    loggers = [logging.getLogger(n) for n in ("asyncio", "uvicorn.error", logs.CONNECTIONS_LOGGER)]
    filters = [logger.filters[:] for logger in loggers]
    buffer = io.StringIO()
    logs.configure("info")
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger, kept in zip(loggers, filters, strict=True):
            logger.filters[:] = kept


def test_configure_throttles_the_lines_a_client_can_cause(configured: io.StringIO) -> None:
    error = OSError(24, "Too many open files")
    for _ in range(500):  # what asyncio writes for each connection it failed to accept
        logging.getLogger("asyncio").error(f"{ACCEPT_FAILED}\nsocket: <fd>", exc_info=error)
        logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
        logging.getLogger(logs.CONNECTIONS_LOGGER).warning("connection refused: too many")
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    lines = [json.loads(line) for line in configured.getvalue().splitlines()]
    assert [(line["logger"], line.get("count")) for line in lines] == [
        ("asyncio", 1),
        ("uvicorn.error", 1),
        (logs.CONNECTIONS_LOGGER, 1),
        ("uvicorn.error", None),
    ]
    assert lines[0]["error"] == "OSError" and lines[0]["msg"].startswith(ACCEPT_FAILED)
    assert JsonFormatter().format(record("x", count=3)).endswith('"count":3}')
