"""`GatewayFirst`: which requests skip the control plane's stack, and which do not."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from modelplane.faces.gateway.dispatch import GatewayFirst


class Seen:
    """Records who answered each request."""

    def __init__(self) -> None:
        self.answered: list[str] = []

    def endpoint(self, name: str) -> ASGIApp:
        return Answer(self, name)

    def context(self, inner: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            self.answered.append("context")
            await inner(scope, receive, send)

        return wrapped


class Answer:
    """An ASGI endpoint that notes its name (a class: Starlette calls it as ASGI)."""

    def __init__(self, seen: Seen, name: str) -> None:
        self.seen = seen
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.answered.append(self.name)


def dispatcher(seen: Seen) -> GatewayFirst:
    routes = [
        Route("/openai/v1/chat/completions", seen.endpoint("chat"), methods=["POST"]),
        Route("/openai/v1/models/{model:path}", seen.endpoint("model"), methods=["GET"]),
    ]
    return GatewayFirst(seen.endpoint("application"), routes, seen.context)


async def call(app: ASGIApp, method: str, path: str, kind: str = "http") -> dict[str, Any]:
    scope: dict[str, Any] = {"type": kind, "method": method, "path": path, "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        return None

    await app(scope, receive, send)
    return scope


async def test_a_gateway_call_goes_to_its_route_inside_the_request_context() -> None:
    seen = Seen()
    scope = await call(dispatcher(seen), "POST", "/openai/v1/chat/completions")
    assert seen.answered == ["context", "chat"]
    assert scope["route"].path == "/openai/v1/chat/completions"  # the metrics' label


async def test_path_parameters_reach_the_route() -> None:
    seen = Seen()
    scope = await call(dispatcher(seen), "GET", "/openai/v1/models/group/provider/code")
    assert seen.answered == ["context", "model"]
    assert scope["path_params"] == {"model": "group/provider/code"}


async def test_a_wrong_method_or_an_unknown_gateway_path_goes_through_the_application() -> None:
    seen = Seen()
    app = dispatcher(seen)
    await call(app, "GET", "/openai/v1/chat/completions")
    await call(app, "POST", "/openai/v1/nothing")
    assert seen.answered == ["application", "application"]


async def test_other_paths_and_other_scopes_go_through_the_application() -> None:
    seen = Seen()
    app = dispatcher(seen)
    await call(app, "GET", "/v1/llms")
    await call(app, "POST", "/openai/v1/chat/completions", kind="websocket")
    assert seen.answered == ["application", "application"]
