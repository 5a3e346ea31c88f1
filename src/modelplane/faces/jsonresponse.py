"""A fast JSON response shared by every face, that cannot fail on stored text."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def _escaped(value: Any) -> Any:
    """`value` with every lone surrogate written as the six characters `\\udXXX`."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


def json_bytes(content: Any) -> bytes:
    """`content` as UTF-8 JSON (orjson, no spaces).

    Input is checked where it enters, so stored text is valid Unicode; but rows written by
    older versions may hold lone surrogates, which UTF-8 cannot encode. Those are served
    escaped rather than failing the response (and with it every list that holds them).
    """
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return orjson.dumps(_escaped(content))


class JsonResponse(Response):
    """JSON rendered with `json_bytes`."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialize `content`."""
        return json_bytes(content)
