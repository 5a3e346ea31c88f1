"""A fast JSON response shared by every face."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JsonResponse(Response):
    """JSON rendered with orjson (UTF-8, no spaces)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialize `content`."""
        return orjson.dumps(content)
