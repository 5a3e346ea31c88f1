"""Logging as one JSON object per line."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson


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


class AccessLog:
    """One JSON line per request, written in batches.

    Lines are buffered and flushed every `interval` seconds, when `limit` bytes are
    waiting, and at shutdown: a write per request would cost a system call each.
    """

    def __init__(
        self, write: Callable[[bytes], Any], *, interval: float = 0.25, limit: int = 64 * 1024
    ) -> None:
        self._write = write
        self._interval = interval
        self._limit = limit
        self._buffer = bytearray()
        self._scheduled = False
        self._second = -1
        self._second_text = ""

    def _timestamp(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:  # formatting a date is the dearest part of a line
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{int(now * 1000) % 1000:03d}Z"

    def log(self, fields: dict[str, Any]) -> None:
        """Queue one line."""
        line = {
            "ts": self._timestamp(),
            "level": "info",
            "logger": "modelplane.access",
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


def configure(level: str = "info") -> None:
    """Send modelplane's and uvicorn's logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
