"""Where JSON enters: one parser for every face's JSON bodies and JSON-text parameters.

orjson parses, and refuses what no store can hold (lone surrogates, invalid UTF-8) and
nesting deeper than `DEPTH_MAX`; NUL is looked for only when the text has a `\\u0000`
escape (a raw NUL is not JSON). When orjson refuses, the standard parser reads the text
again to say precisely why: the dotted path of the bad string, or line and column of the
syntax error. Numbers read as the standard parser reads them: a value that the rules of
a field judge (an integer beyond 64 bits, `NaN`) is handed on to those rules, which name
the field. (orjson would read an integer beyond 64 bits as a float, so text with such a
long run of digits is read by the standard parser.)
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import orjson

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.text import check_json_text

DEPTH_MAX = 1024  # orjson's own limit of nested arrays and objects
_NUL_ESCAPE = b"\\u0000"
_LONG_DIGITS = re.compile(rb"[0-9]{20}")  # 2**64 has 20 digits
# A body larger than this is parsed on a worker thread: a megabyte of small strings takes
# tens of milliseconds to parse and check, and the event loop takes the GIL back every
# 5 ms (sys.getswitchinterval), so it keeps answering meanwhile.
INLINE_BYTES = 64 * 1024


def _standard(raw: bytes, field: str, first_index: int) -> Any:
    """The standard parser's reading of `raw`, every string checked; else an error naming
    what is wrong (a bad string by its path, a syntax error by line and column)."""
    text = raw.decode("utf-8", "surrogateescape")  # bytes that are not UTF-8 become surrogates
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:  # its message never quotes the input
        raise InvalidArgument.of(
            field, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError:
        raise InvalidArgument.of(field, "holds a number too long to read") from None
    except RecursionError:
        raise InvalidArgument.of(field, f"must nest at most {DEPTH_MAX} levels deep") from None
    check_json_text(value, _root(field), first_index=first_index)
    return value


def _root(field: str) -> str:
    """Paths inside a request body start at its members (`labels.k`, not `body.labels.k`)."""
    return "" if field == "body" else field


def parse_json(raw: bytes | str, field: str = "body", *, first_index: int = 0) -> Any:
    """The JSON value of `raw`, every string in it checked; else InvalidArgument naming
    `field` (or the path of the bad string below it, list items from `first_index`)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if _LONG_DIGITS.search(data):
        return _standard(data, field, first_index)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise InvalidArgument.of(field, f"must nest at most {DEPTH_MAX} levels deep") from None
        return _standard(data, field, first_index)
    if _NUL_ESCAPE in data:
        check_json_text(value, _root(field), first_index=first_index)
    return value


async def parse_json_body(raw: bytes, field: str = "body") -> Any:
    """`parse_json` of a request body, off the event loop when the body is large."""
    if len(raw) <= INLINE_BYTES:
        return parse_json(raw, field)
    return await asyncio.to_thread(parse_json, raw, field)
