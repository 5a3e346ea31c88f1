"""The route index picks the route the router's full scan would, trying far fewer."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from modelplane.app import create_app
from modelplane.faces.route_index import RouteIndex, leading_segments, path_key
from modelplane.settings import Settings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
ODD_PATHS = [
    "/",
    "/v1",
    "/v1/",
    "/v1/llms/",
    "/v1/llms/x/",
    "/v1/nothing",
    "/v1/llms:nothing",
    "/console",
    "/console/",
    "/console/prompts",
    "/docs",
    "/docs/assets/x.js",
    "/metrics",
    "/openai/v1/models/a/b",
    "/anthropic/v1/messages",
    "/nope/x/y",
    "//v1/llms",
    "/healthz",
]


def _app() -> FastAPI:
    return create_app(Settings(database_url="sqlite:///never-opened.db"))


def _example_path(route: Route | Mount) -> str:
    path = route.path
    path = re.sub(r"\{[^}:]+:path\}", "a/b", path)
    return re.sub(r"\{[^}]+\}", "x1", path) + ("/inside" if isinstance(route, Mount) else "")


def _scope(path: str, method: str) -> Scope:
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}


def _first_full(routes: list[BaseRoute] | tuple[BaseRoute, ...], scope: Scope) -> BaseRoute | None:
    for route in routes:
        if route.matches(dict(scope))[0] is Match.FULL:
            return route
    return None


def test_every_route_and_odd_path_is_matched_as_by_the_full_scan() -> None:
    app = _app()
    index = RouteIndex(app.router)
    routes = [r for r in app.router.routes if isinstance(r, Route | Mount)]
    paths = [_example_path(r) for r in routes] + ODD_PATHS
    compared = 0
    for path in paths:
        for method in METHODS:
            scope = _scope(path, method)
            scanned = _first_full(app.router.routes, scope)
            candidates = index.candidates(path)
            indexed = _first_full(list(candidates), scope) if candidates is not None else scanned
            assert indexed is scanned, (method, path)
            compared += scanned is not None
    assert compared > 150  # most routes were found, through the index


def test_a_path_tries_only_the_routes_of_its_leading_segments() -> None:
    app = _app()
    index = RouteIndex(app.router)
    tried = index.candidates("/v1/llms/some-id")
    assert tried is not None
    assert len(tried) < len(app.router.routes) / 5
    assert all(leading_segments(r) in (("v1", "llms"), None) for r in tried)


def test_routes_added_after_the_index_was_built_are_found() -> None:
    app = _app()
    index = RouteIndex(app.router)
    assert (
        _first_full(list(index.candidates("/v1/late/x") or ()), _scope("/v1/late/x", "GET")) is None
    )

    async def late(scope: Scope, receive: object, send: object) -> None: ...

    route = Route("/v1/late/{x}", late)
    app.router.routes.append(route)
    assert (
        _first_full(list(index.candidates("/v1/late/x") or ()), _scope("/v1/late/x", "GET"))
        is route
    )


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/llms", ("v1", "llms")),
        ("/v1/llms/{llm_id}", ("v1", "llms")),
        ("/v1/llm-templates:batchCreate", ("v1", "llm-templates:batchCreate")),
        ("/v1/ll{x}", None),  # the second segment is not all literal
        ("/v1/{x:path}", None),
        ("/healthz", None),
        ("/{name}/llms", None),
    ],
)
def test_a_route_is_indexed_by_its_two_literal_leading_segments(
    path: str, key: tuple[str, str] | None
) -> None:
    async def endpoint(scope: Scope, receive: object, send: object) -> None: ...

    assert leading_segments(Route(path, endpoint)) == key


def test_a_mount_is_indexed_by_its_own_path() -> None:
    assert leading_segments(Mount("/docs/assets", routes=[])) == ("docs", "assets")
    assert leading_segments(Mount("/console", routes=[])) is None


def test_a_request_path_is_keyed_by_its_first_two_segments() -> None:
    assert path_key("/v1/llms/x") == ("v1", "llms")
    assert path_key("/v1/llms") == ("v1", "llms")
    assert path_key("/v1") is None and path_key("/") is None
