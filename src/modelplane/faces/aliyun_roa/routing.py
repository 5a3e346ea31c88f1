"""Routing ROA requests on the raw path: `/{workspaceId}/promptTemplates/{promptTemplateId}`,
`/api/v2/configs/{ClusterId}/{ConfigType}/{Name}/{ConfigKey}`.

The SDKs percent-encode each path parameter (`/` travels as `%2F`), so a shape is
matched against the segments of the path as sent, and each parameter is decoded only
after its segment was found. Literal segments compare exactly; a parameter matches one
non-empty segment. Every method matches: the face itself answers a method it does not
serve, in its own error format. These routes stay out of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

from modelplane.faces.aliyun_transport import raw_path

SHAPE_KEY = "roa_shape"


@dataclass(frozen=True, slots=True)
class Shape:
    """A path template of literal segments and `{name}` parameters."""

    template: str

    @property
    def segments(self) -> tuple[str, ...]:
        """The template's segments after the leading `/`."""
        return tuple(self.template[1:].split("/"))

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        """The decoded parameters when `segments` (still encoded) fit the shape."""
        mine = self.segments
        if len(segments) != len(mine):
            return None
        params = {}
        for pattern, segment in zip(mine, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not segment:
                    return None
                try:
                    params[pattern[1:-1]] = unquote(segment, errors="strict")
                except UnicodeDecodeError:
                    return None
            elif pattern != segment:
                return None
        return params


class RawPathRoute(BaseRoute):
    """Sends requests whose raw path fits one of `shapes` to `app`.

    The app finds the matched template in `scope["roa_shape"]` and the decoded
    parameters in `scope["path_params"]`.
    """

    def __init__(self, shapes: Sequence[str], app: ASGIApp) -> None:
        self.shapes = tuple(Shape(s) for s in shapes)
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FULL for an HTTP request whose raw path fits a shape, whatever its method."""
        if scope["type"] != "http":
            return Match.NONE, {}
        path = raw_path(scope)
        if not path.startswith("/"):
            return Match.NONE, {}
        segments = path[1:].split("/")
        for shape in self.shapes:
            params = shape.match(segments)
            if params is not None:
                return Match.FULL, {"path_params": params, SHAPE_KEY: shape.template}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """These routes have no names."""
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the face."""
        await self.app(scope, receive, send)
