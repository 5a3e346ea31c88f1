"""`GET /metrics`: this process's counters in the Prometheus text format (version 0.0.4).

Each replica counts only what it served and exposes its own numbers; Prometheus scrapes
every replica and sums. The counters are plain integers updated on the event loop (no
locks, no threads) and rendered here, without the `prometheus-client` library: importing
it costs 50 to 90 ms of start-up on the project's machines, and the hot path needs only an
addition and a bisection per request.

Labels are bounded: the route is the matched route's template (never the raw path),
`unmatched` when no route fits; the method is one of the HTTP methods or `other`.
"""

from __future__ import annotations

import bisect
import hmac
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from modelplane.faces.aliyun.roa.routing import SHAPE_KEY
from modelplane.faces.jsonresponse import JsonResponse

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Request durations, seconds: from a cached read (≈ 1 ms) to a slow batch or a long poll.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

Gauges = Callable[[], Iterable[tuple[str, str, str, float]]]


class Histogram:
    """Durations in BUCKETS, by a tuple of label values (`names` says which labels)."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.counts: dict[tuple[str, ...], list[int]] = {}  # per bucket, +Inf last
        self.sums: dict[tuple[str, ...], float] = {}

    def observe(self, key: tuple[str, ...], seconds: float) -> None:
        """Count one duration under `key`."""
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = [0] * (len(BUCKETS) + 1)
            self.sums[key] = 0.0
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sums[key] += seconds

    def render(self, name: str, text: str) -> list[str]:
        """The exposition lines of metric `name` (help `text`): buckets, sum and count."""
        lines = [f"# HELP {name} {text}", f"# TYPE {name} histogram"]
        for key, counts in sorted(self.counts.items()):
            tags = dict(zip(self.names, key, strict=True))
            total = 0
            for bound, count in zip((*BUCKETS, None), counts, strict=True):
                total += count
                le = "+Inf" if bound is None else repr(bound)
                lines.append(f"{name}_bucket{{{labels(**tags, le=le)}}} {total}")
            lines.append(f"{name}_sum{{{labels(**tags)}}} {number(self.sums[key])}")
            lines.append(f"{name}_count{{{labels(**tags)}}} {total}")
        return lines


class HttpMetrics:
    """Requests by face, method, route and status; durations by face; requests in flight."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes  # the application's (live) route list, for unrouted requests
        self._flat: list[BaseRoute] | None = None
        self.requests: dict[tuple[str, str, str, int], int] = {}
        self.durations = Histogram("face")
        self.in_flight = 0
        self._sources: list[Gauges] = []
        self._families: list[Callable[[], list[str]]] = []

    def set_sources(self, *sources: Gauges) -> None:
        """Also render each `source()`'s samples: (name, type, help, value) each."""
        self._sources = list(sources)

    def add_family(self, render: Callable[[], list[str]]) -> None:
        """Also render the lines of `render()` (metrics with labels of their own)."""
        self._families.append(render)

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Count one finished request."""
        state: dict[str, Any] = scope.get("state", {})
        face: str = state.get("face", "native")
        method: str = scope["method"]
        key = (face, method if method in METHODS else "other", self._route(scope), status)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.durations.observe((face,), seconds)

    def _route(self, scope: Scope) -> str:
        shape = scope.get(SHAPE_KEY)
        if shape is not None:
            return str(shape)
        route = scope.get("route")
        if route is None:  # answered before routing (authentication, body limit)
            route = self._match(scope)
            if SHAPE_KEY in scope:
                return str(scope[SHAPE_KEY])
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else UNMATCHED

    def _match(self, scope: Scope) -> BaseRoute | None:
        if self._flat is None:  # on first use: every route is in place by then
            self._flat = list(flat_routes(self._routes))
        partial = None
        for route in self._flat:
            match, child = route.matches(scope)
            if match is Match.FULL:
                if SHAPE_KEY in child:
                    scope[SHAPE_KEY] = child[SHAPE_KEY]
                return route
            if match is Match.PARTIAL and partial is None:
                partial = route
        return partial

    def render(self) -> str:
        """The exposition text."""
        lines = [
            "# HELP modelplane_http_requests_total HTTP requests answered by this process.",
            "# TYPE modelplane_http_requests_total counter",
        ]
        for (face, method, route, status), count in sorted(self.requests.items()):
            tags = labels(face=face, method=method, route=route, status=str(status))
            lines.append(f"modelplane_http_requests_total{{{tags}}} {count}")
        lines += self.durations.render(
            "modelplane_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
        )
        lines += [
            "# HELP modelplane_http_requests_in_flight HTTP requests being answered now.",
            "# TYPE modelplane_http_requests_in_flight gauge",
            f"modelplane_http_requests_in_flight {self.in_flight}",
        ]
        for source in self._sources:
            for metric, kind, text, value in source():
                lines += [f"# HELP {metric} {text}", f"# TYPE {metric} {kind}"]
                lines.append(f"{metric} {number(value)}")
        for family in self._families:
            lines += family()
        return "\n".join(lines) + "\n"


def flat_routes(routes: Iterable[BaseRoute]) -> Iterable[BaseRoute]:
    """Routes, with those of included routers in their place (FastAPI keeps an included
    router as one entry whose `original_router` holds routes with full paths)."""
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is None:
            yield route
        else:
            yield from flat_routes(inner)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(**values: str) -> str:
    """Prometheus labels `a="1",b="2"`, escaped."""
    return ",".join(f'{name}="{_escape(value)}"' for name, value in values.items())


def number(value: float) -> str:
    """A sample value: an integer without a fraction."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def metrics_route(token: str | None) -> Route:
    """`GET /metrics`; with `token`, only for `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode() if token is not None else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, expected):
                return JsonResponse(
                    {
                        "code": "UNAUTHENTICATED",
                        "message": "GET /metrics needs Authorization: Bearer <metrics token>",
                        "details": [],
                    },
                    status_code=401,
                    headers={"www-authenticate": "Bearer"},
                )
        http: HttpMetrics = request.app.state.metrics
        return Response(http.render(), media_type=CONTENT_TYPE)

    return Route("/metrics", metrics, methods=["GET"], include_in_schema=False)
