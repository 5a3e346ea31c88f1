"""Logging, one line per record, with floods of one kind of line held to one a second.

Two formats (MODELPLANE_LOG_FORMAT): `json`, one JSON object per line, for programs that
collect logs; `text`, readable lines for a person at a terminal (local time, level,
logger, message, then the fields as `name=value`). `auto`, the default, is text when
standard error is a terminal and JSON otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import IO, Any, Literal

import orjson

CONNECTIONS_LOGGER = "modelplane.connections"
LogFormat = Literal["auto", "text", "json"]


def resolved_format(setting: str, stream: IO[Any] | None = None) -> Literal["text", "json"]:
    """`text` or `json`: `auto` is text when `stream` (default stderr) is a terminal."""
    if setting == "text":
        return "text"
    if setting == "json":
        return "json"
    stream = sys.stderr if stream is None else stream
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):  # no stream, or a closed one
        return "json"


def local_timestamp(seconds: float) -> str:
    """A time as a person reads it at a terminal: `2026-12-06 07:12:03.123`, local time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) + (
        f".{int(seconds * 1000) % 1000:03d}"
    )


def _text_value(value: Any) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in '"=' for c in value):
        return value
    if isinstance(value, bool) or value is None:
        return orjson.dumps(value).decode()
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value, default=str).decode()


def text_line(ts: str, level: str, logger: str, message: str, fields: Mapping[str, Any]) -> str:
    """One readable line: time, level, logger, message, then `name=value` for each field."""
    line = f"{ts} {level.upper():<7} {logger}: {message}"
    if fields:
        line += "  " + " ".join(f"{name}={_text_value(v)}" for name, v in fields.items())
    return line


class JsonFormatter(logging.Formatter):
    """Renders a record as JSON; structured fields come from `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON."""
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            data["error"] = record.exc_info[0].__name__
            data["trace"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


class TextFormatter(logging.Formatter):
    """Renders a record as a readable line (its trace, if any, on the lines after it)."""

    def format(self, record: logging.LogRecord) -> str:
        """One line, or more with a trace."""
        fields = getattr(record, "fields", None)
        line = text_line(
            local_timestamp(record.created),
            record.levelname,
            record.name,
            record.getMessage(),
            fields if isinstance(fields, dict) else {},
        )
        if record.exc_info and record.exc_info[0] is not None:
            line += "\n" + self.formatException(record.exc_info)
        return line


class Throttle(logging.Filter):
    """Lets at most one record of each kind through per `interval` seconds.

    `kind_of` names a record's kind, or None for records that always pass. The record let
    through carries `count` in its fields: how many of its kind came since the previous
    one let through, itself included; the others are dropped.
    """

    def __init__(
        self,
        kind_of: Callable[[logging.LogRecord], str | None],
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._kind_of = kind_of
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to write `record` (a kept one gets its `count`)."""
        kind = self._kind_of(record)
        if kind is None:
            return True
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        self._last[kind] = now
        fields = getattr(record, "fields", None)
        record.fields = {
            **(fields if isinstance(fields, dict) else {}),
            "count": self._held.pop(kind, 0) + 1,
        }
        return True


ACCEPT_FAILED = "socket.accept() out of system resource"
BAD_REQUEST = "Invalid HTTP request received."


def accept_failure(record: logging.LogRecord) -> str | None:
    """The kind of asyncio's line for an `accept()` that failed for want of a file
    descriptor or memory (it writes one per waiting connection, thousands a second)."""
    return ACCEPT_FAILED if record.getMessage().startswith(ACCEPT_FAILED) else None


def every_message(record: logging.LogRecord) -> str:
    """Each message is its own kind."""
    return str(record.msg)


def bad_request(record: logging.LogRecord) -> str | None:
    """The kind of uvicorn's line for each request it could not parse (refused with 400)."""
    return BAD_REQUEST if record.msg == BAD_REQUEST else None


ACCESS_LOGGER = "modelplane.access"
_ACCESS_HEAD = ("method", "path", "status", "durationMs")


class AccessLog:
    """One line per request (JSON, or with `text` a readable one), written in batches.

    Lines are buffered and flushed every `interval` seconds, when `limit` bytes are
    waiting, and at shutdown: a write per request would cost a system call each.
    """

    def __init__(
        self,
        write: Callable[[bytes], Any],
        *,
        interval: float = 0.25,
        limit: int = 64 * 1024,
        text: bool = False,
    ) -> None:
        self._write = write
        self._interval = interval
        self._limit = limit
        self._text = text
        self._buffer = bytearray()
        self._scheduled = False
        self._second = -1
        self._second_text = ""

    def _timestamp(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:  # formatting a date is the dearest part of a line
            self._second = second
            moment = time.localtime(second) if self._text else time.gmtime(second)
            pattern = "%Y-%m-%d %H:%M:%S" if self._text else "%Y-%m-%dT%H:%M:%S"
            self._second_text = time.strftime(pattern, moment)
        return f"{self._second_text}.{int(now * 1000) % 1000:03d}" + ("" if self._text else "Z")

    def _text_line(self, fields: dict[str, Any]) -> bytes:
        """`GET /v1/llms 200 4.21ms` and the other fields as `name=value`."""
        method, path, status, duration = (fields.get(name) for name in _ACCESS_HEAD)
        message = f"{method} {path} {status} {duration}ms"
        rest = {k: v for k, v in fields.items() if k not in _ACCESS_HEAD and v is not None}
        return text_line(self._timestamp(), "info", ACCESS_LOGGER, message, rest).encode()

    def log(self, fields: dict[str, Any]) -> None:
        """Queue one line."""
        if self._text:
            self._buffer += self._text_line(fields)
        else:
            line = {
                "ts": self._timestamp(),
                "level": "info",
                "logger": ACCESS_LOGGER,
                "msg": "request",
                **fields,
            }
            self._buffer += orjson.dumps(line, default=str)
        self._buffer += b"\n"
        if len(self._buffer) >= self._limit:
            self.flush()
        elif not self._scheduled:
            try:
                asyncio.get_running_loop().call_later(self._interval, self.flush)
                self._scheduled = True
            except RuntimeError:  # no loop: write at once
                self.flush()

    def flush(self) -> None:
        """Write what is waiting."""
        self._scheduled = False
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            self._write(data)


def stderr_writer(data: bytes) -> None:
    """Write bytes to stderr and flush."""
    sys.stderr.buffer.write(data)
    sys.stderr.buffer.flush()


def configure(level: str = "info", log_format: str = "json") -> None:
    """Send modelplane's and uvicorn's logs to stderr, as JSON lines or readable ones
    (`log_format`: text, json, or auto: text on a terminal)."""
    handler = logging.StreamHandler(sys.stderr)
    text = resolved_format(log_format, sys.stderr) == "text"
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # Lines a client can make the server write as fast as it likes: one a second of each
    # kind, with a count.
    logging.getLogger("asyncio").filters[:] = [Throttle(accept_failure)]
    logging.getLogger("uvicorn.error").filters[:] = [Throttle(bad_request)]
    logging.getLogger(CONNECTIONS_LOGGER).filters[:] = [Throttle(every_message)]
