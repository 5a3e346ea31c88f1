"""Each route of the app built once per test process instead of once per app.

FastAPI builds the routes of an included router when an app first matches a request
against them: a dependant and a pydantic adapter for every parameter and response, about
0.1 s per app, most of an in-process test; the suite builds thousands of apps from the
same routers. `shared_routes()` keeps what was built for a route under one inclusion and
hands the same object to every later app that includes that route the same way.

What is built is a function of the route and of how it is included, with one exception:
the app's `dependency_overrides`, which no test uses. An app that has overrides when its
routes are built builds its own. Servers run as processes (tests/e2e, tests/compat, the
docs test) build their routes as in production.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import routing

# What FastAPI builds per app, and how; None when the installed FastAPI builds otherwise
# (tests/unit/test_shared_routes.py then fails, pointing here).
_BUILT = getattr(routing, "_EffectiveRouteContext", None)


def _inclusion(context: Any) -> str | None:
    """How a route is included, as a key; None when the app overrides dependencies."""
    overrides = getattr(context.dependency_overrides_provider, "dependency_overrides", None)
    if overrides:
        return None
    # The reprs of routers, dependencies and functions name the objects themselves.
    return repr(
        [
            (field.name, getattr(context, field.name))
            for field in dataclasses.fields(context)
            if field.name != "dependency_overrides_provider"
        ]
    )


@contextmanager
def shared_routes() -> Iterator[None]:
    """While open, apps that include a route the same way share what was built for it."""
    if _BUILT is None or "from_api_route" not in vars(_BUILT):
        yield
        return
    original = vars(_BUILT)["from_api_route"]
    build = original.__func__
    # Each value keeps its route and inclusion alive, so the ids in its key stay theirs.
    built: dict[tuple[int, str], tuple[Any, Any]] = {}

    def from_api_route(cls: type, *, original_route: Any, include_context: Any) -> Any:
        inclusion = _inclusion(include_context)
        if inclusion is None:
            return build(cls, original_route=original_route, include_context=include_context)
        key = (id(original_route), inclusion)
        found = built.get(key)
        if found is None:
            context = build(cls, original_route=original_route, include_context=include_context)
            found = built[key] = (context, include_context)
        return found[0]

    _BUILT.from_api_route = classmethod(from_api_route)
    try:
        yield
    finally:
        _BUILT.from_api_route = original
