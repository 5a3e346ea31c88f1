"""Routing ROA requests on the raw path: `/{workspaceId}/promptTemplates/{promptTemplateId}`,
`/api/v2/configs/{ClusterId}/{ConfigType}/{Name}/{ConfigKey}`.

The SDKs percent-encode each path parameter (`/` travels as `%2F`), so a shape is
matched against the segments of the path as sent, and each parameter is decoded only
after its segment was found. Literal segments compare exactly; a parameter matches one
segment. Every method matches: the face itself answers a method it does not
serve, in its own error format. A parameter whose segment is empty, does not decode to
UTF-8 or holds NUL still matches (its name in `scope["roa_malformed"]`), so that the
face refuses it in its own format too. These routes stay out of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

from modelplane.faces.aliyun.transport import raw_path

SHAPE_KEY = "roa_shape"
MALFORMED_KEY = "roa_malformed"


@dataclass(frozen=True, slots=True)
class Shape:
    """A path template of literal segments and `{name}` parameters."""

    template: str

    @property
    def segments(self) -> tuple[str, ...]:
        """The template's segments after the leading `/`."""
        return tuple(self.template[1:].split("/"))

    def match(self, segments: Sequence[str]) -> tuple[dict[str, str], list[str]] | None:
        """When `segments` (still encoded) fit the shape: the decoded parameters, and the
        names of those whose segment is empty, not UTF-8 (kept as sent) or holds NUL."""
        mine = self.segments
        if len(segments) != len(mine):
            return None
        params, malformed = {}, []
        for pattern, segment in zip(mine, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                name = pattern[1:-1]
                try:
                    params[name] = unquote(segment, errors="strict")
                except UnicodeDecodeError:
                    params[name] = segment
                    malformed.append(name)
                if not segment or "\x00" in params[name]:
                    malformed.append(name)
            elif pattern != segment:
                return None
        return params, malformed


class RawPathRoute(BaseRoute):
    """Sends requests whose raw path fits one of `shapes` to `app`.

    The app finds the matched template in `scope["roa_shape"]`, the decoded parameters
    in `scope["path_params"]` and the names of those empty or not UTF-8 in
    `scope["roa_malformed"]`.
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
            matched = shape.match(segments)
            if matched is not None:
                params, malformed = matched
                child = {"path_params": params, SHAPE_KEY: shape.template}
                return Match.FULL, child | {MALFORMED_KEY: malformed}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """These routes have no names."""
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the face."""
        await self.app(scope, receive, send)
