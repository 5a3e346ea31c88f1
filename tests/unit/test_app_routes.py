"""Every app serves the routers' own routes, built once per process and matched directly.

From FastAPI 0.16x on, `include_router` wraps a router in a layer that is matched on
every request (a sixth of the read path) and builds its routes again for every app
(about 0.1 s each, most of an in-process test). `create_app` adds the routes as they are.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from modelplane.app import NATIVE_ROUTERS, create_app
from modelplane.faces import health
from modelplane.settings import Settings


def new_app() -> FastAPI:
    return create_app(Settings(database_url="sqlite:///never-opened.db"))


def test_the_app_matches_the_routers_own_routes_directly() -> None:
    app = new_app()
    own = {id(route) for router in (*NATIVE_ROUTERS, health.router) for route in router.routes}
    direct = {id(route) for route in app.router.routes}
    assert own <= direct
    wrapped = [r for r in app.router.routes if type(r).__name__ == "_IncludedRouter"]
    assert not wrapped


def test_two_apps_share_every_built_route() -> None:
    first, second = new_app(), new_app()
    api = [r for r in first.router.routes if isinstance(r, APIRoute)]
    assert len(api) > 50, len(api)
    assert {id(r) for r in api} <= {id(r) for r in second.router.routes}
