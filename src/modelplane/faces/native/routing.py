"""The native face's routes: every string checked once where it enters, before a handler.

`CheckedRoute` is the route class of every native router (`router(...)`). Before FastAPI
parses anything it checks the path parameters and the query, then reads a JSON body with
the one parser of `faces/json_input.py`; so a lone surrogate or a NUL anywhere, in a
nested key included, is a 400 naming its field before any service runs, and a body that
is not JSON names its line and column. FastAPI then reads the checked value.

A route whose handler takes only text path parameters and the request, and returns a
`Response`, is called directly with them (`direct_call`): FastAPI's parameter solving
would find nothing to check or convert there, and costs about a sixth of a read.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any
from urllib.parse import unquote, unquote_plus

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.text import UTF8_RULE, check_text, text_rule
from modelplane.faces.json_input import parse_json_body
from modelplane.faces.native.responses import ERRORS

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this type as JSON (`application/json`, `…+json`)."""
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class CheckedJsonRequest(Request):
    """A request whose JSON body was read and checked by `parse_json` (see `load_json`)."""

    _checked: Any = None

    async def load_json(self) -> None:
        """Read and check the body, if any; InvalidArgument names what is wrong."""
        body = await self.body()
        if body:
            self._checked = await parse_json_body(body)

    async def json(self) -> Any:
        """The checked body."""
        return self._checked


def _strict(text: str, field: str, *, plus: bool) -> str:
    """Percent-decode `text` as UTF-8, refusing bytes that are not (Starlette would put
    U+FFFD in their place and go on)."""
    try:
        return (unquote_plus if plus else unquote)(text, errors="strict")
    except UnicodeDecodeError:
        raise InvalidArgument.of(field, UTF8_RULE) from None


def check_parameters(request: Request) -> None:
    """Refuse a path or query parameter (name or value) that is not storable text.

    A path without `%` escapes cannot hold NUL or bytes that are not UTF-8 (HTTP allows
    neither raw), so most requests cost two byte searches.
    """
    scope = request.scope
    raw_path = bytes(scope.get("raw_path") or b"").partition(b"?")[0]
    if b"%" in raw_path:
        _strict(raw_path.decode("latin-1"), "path", plus=False)
        for name, value in request.path_params.items():
            rule = text_rule(str(value))
            if rule is not None:
                raise InvalidArgument.of(_camel(name), rule)
    query = scope.get("query_string", b"")
    if query:
        for pair in query.decode("latin-1").split("&"):
            raw_name, _, raw_value = pair.partition("=")
            name = _strict(raw_name, "query", plus=True)
            check_text(name, "query")
            check_text(_strict(raw_value, name, plus=True), name)


def direct_call(route: APIRoute) -> Handler | None:
    """A handler calling `route`'s endpoint with its path parameters and the request,
    or None when FastAPI must solve its parameters (a query, header, cookie or body
    parameter, a dependency, a parameter that is not text, or a result that may not be
    a `Response`)."""
    found = route.dependant
    endpoint = found.call
    if (
        endpoint is None
        or not inspect.iscoroutinefunction(endpoint)
        or inspect.signature(endpoint).return_annotation not in (Response, "Response")
        or found.query_params
        or found.header_params
        or found.cookie_params
        or found.body_params
        or found.dependencies
        or found.response_param_name
        or found.background_tasks_param_name
        or found.http_connection_param_name
        or found.security_scopes_param_name
        or any(field.field_info.annotation is not str for field in found.path_params)
    ):
        return None
    names = [(field.name, field.alias) for field in found.path_params]
    request_name = found.request_param_name

    async def call(request: Request) -> Response:
        given = request.path_params
        arguments: dict[str, Any] = {name: given[alias] for name, alias in names}
        if request_name is not None:
            arguments[request_name] = request
        response = await endpoint(**arguments)
        if not isinstance(response, Response):
            raise TypeError(f"{route.path} answered {type(response).__name__}, not a Response")
        return response

    return call


class CheckedRoute(APIRoute):
    """An APIRoute that checks parameters and reads JSON bodies with the checked parser."""

    def get_route_handler(self) -> Handler:
        """FastAPI's handler (or `direct_call`'s), after the checks."""
        handler = direct_call(self) or super().get_route_handler()
        takes_body = self.body_field is not None

        async def checked(request: Request) -> Response:
            check_parameters(request)
            if takes_body and _is_json(request.headers.get("content-type")):
                request = CheckedJsonRequest(request.scope, request.receive)
                await request.load_json()
            return await handler(request)

        return checked


def router(prefix: str, tags: list[str]) -> APIRouter:
    """A native router: checked routes, the shared error responses in the OpenAPI document."""
    return APIRouter(prefix=prefix, tags=list(tags), responses=ERRORS, route_class=CheckedRoute)
