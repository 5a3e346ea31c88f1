"""Routes that take only text path parameters and the request are called directly."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response

from modelplane.app import NATIVE_ROUTERS
from modelplane.faces.native.routing import CheckedRoute, direct_call


class Body(BaseModel):
    name: str


def _route(path: str, endpoint: object, method: str = "GET") -> APIRoute:
    router = APIRouter(route_class=CheckedRoute)
    router.add_api_route(path, endpoint, methods=[method])  # type: ignore[arg-type]
    route = router.routes[0]
    assert isinstance(route, APIRoute)
    return route


def test_a_path_only_route_is_called_directly_and_others_are_solved_by_fastapi() -> None:
    async def by_id(thing_id: str, request: Request) -> Response:
        raise NotImplementedError

    async def no_request(thing_id: str) -> Response:
        raise NotImplementedError

    async def with_query(thing_id: str, page: int = 1) -> Response:
        raise NotImplementedError

    async def with_body(body: Body) -> Response:
        raise NotImplementedError

    async def typed_path(thing_id: int) -> Response:
        raise NotImplementedError

    async def not_a_response(thing_id: str) -> dict[str, str]:
        raise NotImplementedError

    def not_async(thing_id: str) -> Response:
        raise NotImplementedError

    assert direct_call(_route("/things/{thing_id}", by_id)) is not None
    assert direct_call(_route("/things/{thing_id}", no_request)) is not None
    for endpoint in (with_query, typed_path, not_a_response, not_async):
        assert direct_call(_route("/things/{thing_id}", endpoint)) is None, endpoint
    assert direct_call(_route("/things", with_body, "POST")) is None


async def test_a_direct_call_passes_the_path_parameters_and_the_request() -> None:
    seen: dict[str, object] = {}

    async def pair(left: str, right: str, request: Request) -> Response:
        seen.update(left=left, right=right, request=request)
        return Response(b"ok")

    call = direct_call(_route("/pairs/{left}/{right}", pair))
    assert call is not None
    request = Request({"type": "http", "path_params": {"left": "a", "right": "b"}})
    response = await call(request)
    assert response.body == b"ok" and seen == {"left": "a", "right": "b", "request": request}


async def test_a_direct_call_refuses_a_result_that_is_not_a_response() -> None:
    async def liar(thing_id: str) -> Response:
        return {"thing": thing_id}  # type: ignore[return-value]

    call = direct_call(_route("/things/{thing_id}", liar))
    assert call is not None
    with pytest.raises(TypeError, match="not a Response"):
        await call(Request({"type": "http", "path_params": {"thing_id": "x"}}))


def test_the_native_reads_by_id_are_called_directly() -> None:
    routes = {
        (route.path, method): route
        for router in NATIVE_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    direct = {key for key, route in routes.items() if direct_call(route) is not None}
    assert ("/v1/llms/{llm_id}", "GET") in direct
    assert ("/v1/model-groups/{model_template_id}", "GET") in direct
    assert ("/v1/llms", "GET") not in direct  # it takes a query
    assert len(direct) >= 25
