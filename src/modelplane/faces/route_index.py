"""Routing by an index of the routes' leading path segments, ahead of the full scan.

Starlette's router tries every route in order until one matches: with about two hundred
routes, a request to one of the last pays for a regular-expression match of each route
before it. `RouteIndex` keeps, for each pair of leading path segments a route starts
with (`/v1/llms/{llm_id}` starts with `v1`, `llms`), the routes that can match a path
beginning with them, in the router's order, plus every route that does not name two such
segments (a mount at `/console`, a path like `/{name}`). A request is tried against its
pair's routes only; the first that matches fully is the one the full scan would take,
since every other route cannot match. Anything else (a wrong method, a path no route
has, a trailing slash, a server's `root_path`) goes through the router as before, so
every other answer stays what it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send

Key = tuple[str, str]


def leading_segments(route: BaseRoute) -> Key | None:
    """The two path segments every path `route` matches starts with, if it has them."""
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    literal, brace, _ = path.partition("{")
    parts = literal.split("/")[1:]
    if brace:
        parts = parts[:-1]  # the piece before `{` may be part of a longer segment
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def path_key(path: str) -> Key | None:
    """The first two segments of a request's path, if it has two."""
    parts = path.split("/", 3)
    if len(parts) < 3 or parts[0]:
        return None
    return parts[1], parts[2]


class RouteIndex:
    """An ASGI app dispatching to `router`'s routes through the index of their segments."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._indexed: Sequence[BaseRoute] = ()
        self._buckets: dict[Key, list[BaseRoute]] = {}
        self._anywhere: list[BaseRoute] = []

    def _build(self) -> None:
        routes = list(self.router.routes)
        keys = [leading_segments(route) for route in routes]
        buckets: dict[Key, list[BaseRoute]] = {key: [] for key in keys if key is not None}
        anywhere = []
        for route, key in zip(routes, keys, strict=True):
            if key is None:
                anywhere.append(route)
            for bucket_key, bucket in buckets.items():
                if key is None or key == bucket_key:
                    bucket.append(route)
        self._buckets, self._anywhere, self._indexed = buckets, anywhere, routes

    def candidates(self, path: str) -> Sequence[BaseRoute] | None:
        """The routes that can match `path`, in order; None when the router must scan."""
        if len(self._indexed) != len(self.router.routes):  # routes added since: rebuild
            self._build()
        key = path_key(path)
        if key is None:
            return None
        return self._buckets.get(key, self._anywhere)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            candidates = self.candidates(scope["path"])
            for route in candidates or ():
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self.router)
                    scope.update(child)
                    await route.handle(scope, receive, send)
                    return
        await self.router.app(scope, receive, send)


def install(router: Router) -> None:
    """Route `router`'s requests through a `RouteIndex` (its own middleware stays none)."""
    if router.middleware_stack != router.app:
        raise RuntimeError("the router has middleware of its own; index it before adding it")
    router.middleware_stack = RouteIndex(router)
