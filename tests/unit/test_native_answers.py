"""Every answer a route sends has exactly the fields of the response model it declares.

For each route of the app with a `response_model`, its handler's answers are built from
sample domain values, each with every optional field set and with none
(tests/support/handler_answers.py), serialised as the face sends them, and checked
against the model declared for them (tests/support/declared_fields.py): no key the model
does not declare, every key it requires, the right types; and every key of every model
is sent by some answer, so a renderer cannot drop an optional field unseen.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import pkgutil
import typing
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from modelplane.app import create_app
from modelplane.faces import native
from modelplane.faces.jsonresponse import json_bytes
from modelplane.faces.metrics import flat_routes
from modelplane.settings import Settings
from tests.support.declared_fields import DeclaredFields
from tests.support.handler_answers import Handler, is_renderer

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = 3  # reaches every sample of every type: optional fields set, unset, None


def declared_routes() -> list[APIRoute]:
    """The app's routes that declare a response model (the app opens nothing before it
    starts)."""
    routes = flat_routes(create_app(Settings()).routes)
    return [r for r in routes if isinstance(r, APIRoute) and r.response_model is not None]


# Routes whose answers this test cannot read from their source (their handler is no face
# handler: it runs the stack's planner), each checked by its own test the same way.
ELSEWHERE = {
    "POST /v1/stack:apply": "tests/integration/test_stack_apply_endpoint.py::"
    "test_every_answer_has_exactly_the_fields_of_its_declared_model",
}


def _label(route: APIRoute) -> str:
    return f"{'|'.join(sorted(route.methods or ()))} {route.path}"


ROUTES = [r for r in declared_routes() if _label(r) not in ELSEWHERE]
ENDPOINTS = {route.endpoint for route in ROUTES}


def answer_model(route: APIRoute, status: ast.expr | None) -> type[BaseModel]:
    """The model declared for an answer: the one for its status if the route names one,
    else the route's response model."""
    if isinstance(status, ast.Constant) and isinstance(status.value, int):
        declared = route.responses.get(status.value) or route.responses.get(str(status.value))
        if declared and "model" in declared:
            return typing.cast(type[BaseModel], declared["model"])
    return typing.cast(type[BaseModel], route.response_model)


def check(route: APIRoute, fields: DeclaredFields) -> tuple[list[str], set[str]]:
    """What is wrong with the answers of `route`, and the renderers that made them."""
    handler = Handler(route.endpoint, ENDPOINTS)
    if not handler.answers:
        return ["the handler sends no `JsonResponse(...)` this test can read"], set()
    problems: list[str] = []
    renderers: set[str] = set()
    for source, node, status in handler.answers:
        model = answer_model(route, status)
        for variant in range(VARIANTS):
            sent = json.loads(json_bytes(source.value(node, variant)))
            where = f"`{ast.unparse(node)}` (sample {variant})"
            problems += [f"{where}: {p}" for p in fields.check(sent, model)]
        renderers |= source.renderers
    return problems, renderers


@functools.cache
def every_route_checked() -> tuple[DeclaredFields, set[str]]:
    """The keys every route sent, by model, and every renderer that made them."""
    fields = DeclaredFields()
    renderers: set[str] = set()
    for route in ROUTES:
        renderers |= check(route, fields)[1]
    return fields, renderers


def test_the_routes_left_to_other_tests_exist_and_their_tests_too() -> None:
    assert ELSEWHERE.keys() <= {_label(r) for r in declared_routes()}
    for test in ELSEWHERE.values():
        path, name = test.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("route", ROUTES, ids=_label)
def test_every_answer_has_exactly_the_fields_of_its_declared_model(route: APIRoute) -> None:
    problems, _ = check(route, DeclaredFields())
    assert not problems, "\n".join(problems)


def test_every_declared_field_is_sent_by_some_answer() -> None:
    fields, _ = every_route_checked()
    assert len(fields.sent) > 30  # the models of every route were met
    assert not fields.never_sent(), "\n".join(fields.never_sent())


def test_every_native_renderer_is_checked_through_a_route() -> None:
    _, used = every_route_checked()
    defined = {
        f"{module.__name__}.{name}"
        for info in pkgutil.iter_modules(native.__path__, native.__name__ + ".")
        for module in [importlib.import_module(info.name)]
        for name, obj in vars(module).items()
        if name.startswith("render_") and is_renderer(obj) and obj.__module__ == module.__name__
    }
    assert len(defined) > 10  # the scan sees the renderers
    assert defined <= used, f"renderers no route's answer reaches: {sorted(defined - used)}"
