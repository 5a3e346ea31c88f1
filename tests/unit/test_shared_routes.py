"""In-process apps share what FastAPI built for their routes (tests/support/shared_routes.py).

If FastAPI builds its routes another way, these fail: the suite then builds every route
of every app again (about 0.1 s per in-process test), so adapt shared_routes.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing

from modelplane.app import create_app
from modelplane.settings import Settings


def new_app() -> FastAPI:
    return create_app(Settings(database_url="sqlite:///never-opened.db"))


def built_routes(app: FastAPI) -> list[Any]:
    """What the app built for the routes of its routers (as its first request would)."""
    included = [r for r in app.router.routes if isinstance(r, routing._IncludedRouter)]
    assert included, "create_app includes no router: see tests/support/shared_routes.py"
    return [built for router in included for built in router.effective_candidates()]


def test_apps_that_include_a_route_alike_share_what_was_built_for_it() -> None:
    first, second = built_routes(new_app()), built_routes(new_app())
    assert len(first) > 50, len(first)
    assert [id(built) for built in first] == [id(built) for built in second]


def test_an_app_with_dependency_overrides_builds_its_own_routes() -> None:
    shared = built_routes(new_app())
    app = new_app()
    app.dependency_overrides[new_app] = new_app
    own = built_routes(app)
    assert len(own) == len(shared)
    assert not {id(built) for built in own} & {id(built) for built in shared}
