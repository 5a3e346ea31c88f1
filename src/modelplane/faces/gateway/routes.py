"""The gateway's routes: OpenAI's under `/openai/v1`, Anthropic's Messages under
`/anthropic/v1`, as plain ASGI endpoints.

Per call: authenticate the API key (`Authorization: Bearer` as the `openai` SDK sends it,
or `x-api-key` as the `anthropic` SDK does), check the caller's rate limit, read and parse
the JSON body (every string checked, `faces/json_input.py`), resolve `model` among what
the caller may read (`services/gateway.py`), check it against the key's scope (403 outside
it), keep the targets that speak the route's family, and relay (`relay.py`). Every failure
answers in the family's error shape (`errors.py`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.gateway import ApiFamily, Operation
from modelplane.domain.gateway import Route as ModelRoute
from modelplane.domain.gateway_prompts import names_prompt
from modelplane.domain.principals import KeyCaller
from modelplane.faces.gateway.errors import render
from modelplane.faces.gateway.limits import check_call, settle_call
from modelplane.faces.gateway.relay import Call, Relay
from modelplane.faces.gateway.traces import CallTraces
from modelplane.faces.gateway.usage import record_call
from modelplane.faces.json_input import parse_json_body
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.middleware import read_body
from modelplane.faces.native.deps import presented_token
from modelplane.services import gateway as service
from modelplane.services import gateway_prompts as prompt_service
from modelplane.services import principals as principal_service
from modelplane.services import request_context

FACE = "gateway"
OPENAI = "/openai/v1"
ANTHROPIC = "/anthropic/v1"
# Client headers a relay may pass on, by lower-case name.
PASSED = ("anthropic-version", "anthropic-beta", "openai-beta")
# Client headers a call's span reads (W3C trace context); never sent upstream.
TRACED = ("traceparent", "tracestate")


def _headers(scope: Scope) -> dict[str, str]:
    found = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key in ("authorization", "x-api-key", *PASSED, *TRACED):
            found[key] = value.decode("latin-1")
    return found


async def _caller(scope: Scope, headers: Mapping[str, str]) -> KeyCaller:
    """The principal, key and scope behind the call's API key, within its rate limit."""
    state = scope["app"].state
    token = presented_token(headers.get("authorization"), headers.get("x-api-key"))
    caller = await principal_service.authenticate_key(store=state.store, token=token)
    scope.setdefault("state", {})["principal_id"] = caller.principal.principal_id
    state.rate_limits.check(caller.principal.principal_id)
    return caller


def _model(body: Any) -> str:
    if not isinstance(body, dict):
        raise InvalidArgument.of("body", "must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidArgument.of("model", "required: the name of a model (see GET /models)")
    return model


async def _resolve(scope: Scope, caller: KeyCaller, name: str) -> ModelRoute:
    """What `name` means for the caller; PermissionDenied outside its key's scope."""
    state = scope["app"].state
    route = await service.resolve(
        store=state.store,
        secrets=state.secrets,
        actor=caller.principal,
        name=name,
        environ=state.gateway_environ,
    )
    caller.scope.require_route(route)
    return route


async def _prompted(
    scope: Scope, caller: KeyCaller, body: Any, operation: Operation
) -> tuple[Any, str | None]:
    """The body with the prompt template it names rendered in (`domain/gateway_prompts.py`),
    and `TEMPLATE_ID@VERSION` of the version served; the body as it is when it names none."""
    if not names_prompt(body, operation):
        return body, None
    sent, template = await prompt_service.prompted_body(
        store=scope["app"].state.store, actor=caller.principal, body=body, operation=operation
    )
    if template is None:
        return sent, None
    return sent, f"{template.prompt_template_id}@{template.version}"


class CallEndpoint:
    """`POST` of one operation: render the prompt it names, resolve the model, relay."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.family = operation.family

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        started = state.get("arrived") or time.perf_counter()  # from the request's arrival
        state["face"] = FACE
        request_context.set_face(FACE)
        try:
            headers = _headers(scope)
            caller = await _caller(scope, headers)
            body = await parse_json_body(await read_body(receive))
            body, prompt = await _prompted(scope, caller, body, self.operation)
            route = (await _resolve(scope, caller, _model(body))).called_as(self.family)
            reservation = await check_call(scope, caller, route, body, self.operation)
        except Exception as exc:
            await render(exc, self.family)(scope, receive, send)
            return
        relay: Relay = scope["app"].state.gateway
        call = Call(
            operation=self.operation,
            route=route,
            body=body,
            client_headers=headers,
            started=started,
            prompt=prompt,
        )
        try:
            await relay.serve(call, scope, receive, send)
        except Exception as exc:
            if call.status == 0:  # nothing was answered yet
                answer = render(exc, self.family)
                call.status = answer.status_code
                await answer(scope, receive, send)
            else:
                raise
        finally:  # queued for the store, never awaited: the call's answer is whole already
            principal_id, key_id = caller.principal.principal_id, caller.api_key_id
            record = record_call(call, scope, principal_id=principal_id, api_key_id=key_id)
            traces: CallTraces | None = scope["app"].state.traces
            if traces is not None:
                traces.export(call, record, headers)
            settle_call(call, scope, reservation)  # in the background, like the record


def _model_object(name: str, owner_id: str, created_ms: int) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": created_ms // 1000, "owned_by": owner_id}


async def list_models(request: Request) -> Response:
    """`GET /openai/v1/models`: every name the caller may use (within its key's scope)."""
    return await _answer(request, _listing)


async def _listing(request: Request, caller: KeyCaller) -> dict[str, Any]:
    names = await service.model_names(store=request.app.state.store, actor=caller.principal)
    allows = caller.scope.allows
    return {
        "object": "list",
        "data": [
            _model_object(n.name, n.owner_id, n.created_at)
            for n in names
            if allows(n.name, n.group_id)
        ],
    }


async def get_model(request: Request) -> Response:
    """`GET /openai/v1/models/{model}`: one name, 404 unless it resolves for the caller."""
    return await _answer(request, _one_model)


async def _one_model(request: Request, caller: KeyCaller) -> dict[str, Any]:
    route = await _resolve(request.scope, caller, request.path_params["model"])
    return _model_object(route.name, caller.principal.principal_id, 0)


async def _answer(
    request: Request, make: Callable[[Request, KeyCaller], Awaitable[dict[str, Any]]]
) -> Response:
    request.scope.setdefault("state", {})["face"] = FACE
    request_context.set_face(FACE)
    try:
        caller = await _caller(request.scope, _headers(request.scope))
        return JsonResponse(await make(request, caller))
    except Exception as exc:
        return render(exc, ApiFamily.OPENAI)


def routes() -> list[Route]:
    """Every route of the gateway."""
    calls = [
        (f"{OPENAI}/chat/completions", Operation.CHAT),
        (f"{OPENAI}/completions", Operation.COMPLETIONS),
        (f"{OPENAI}/embeddings", Operation.EMBEDDINGS),
        (f"{OPENAI}/responses", Operation.RESPONSES),
        (f"{ANTHROPIC}/messages", Operation.MESSAGES),
    ]
    found = [
        Route(path, CallEndpoint(operation), methods=["POST"], include_in_schema=False)
        for path, operation in calls
    ]
    found.append(Route(f"{OPENAI}/models", list_models, methods=["GET"], include_in_schema=False))
    found.append(
        Route(OPENAI + "/models/{model:path}", get_model, methods=["GET"], include_in_schema=False)
    )
    return found
