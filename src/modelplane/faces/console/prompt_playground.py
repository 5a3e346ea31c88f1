"""The Prompts screen's playground: a template rendered with given values and sent through
the gateway's path to a chosen model, the way the Connections screen's "test" is sent
(`faces/gateway/probe.py`): the gateway renders the prompt (`prompt` in the body, as an app
names it), resolves the model as the principal and relays the call; the answer's text comes
back with its status and time. No usage record is written (as for a test)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import State
from starlette.types import Message

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.gateway import ApiFamily, Operation
from modelplane.domain.principals import Principal
from modelplane.faces.gateway.errors import UpstreamError
from modelplane.faces.gateway.relay import Call, Relay
from modelplane.services import gateway as gateway_service
from modelplane.services import gateway_prompts as prompt_service

ANSWER_CHARS = 20_000  # of the model's answer, shown on the page
ERROR_CHARS = 500  # of an upstream's error answer
MAX_TOKENS_MAX = 32_768


@dataclass(frozen=True)
class PlayReport:
    """What the playground's call sent and got back."""

    ok: bool
    status: int
    model: str
    latency_ms: float
    target: str | None
    attempts: int
    sent: list[dict[str, Any]]  # the rendered messages, as sent
    answer: str
    error: str | None
    served: str  # TEMPLATE_ID@VERSION


def max_tokens_of(text: str) -> int:
    """The playground form's `maxTokens`: a whole number 1..MAX_TOKENS_MAX."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_TOKENS_MAX:
        raise InvalidArgument.of("maxTokens", f"must be a whole number 1..{MAX_TOKENS_MAX}")
    return int(text)


def _anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """A chat-completions body as an Anthropic messages body (system messages apart)."""
    messages = body.get("messages", [])
    system = "\n\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
    sent: dict[str, Any] = {
        "model": body["model"],
        "max_tokens": body["max_tokens"],
        "messages": [m for m in messages if m["role"] not in ("system", "developer")],
    }
    if system:
        sent["system"] = system
    for key in ("temperature", "top_p"):
        if key in body:
            sent[key] = body[key]
    return sent


def _answer_text(raw: bytes, family: ApiFamily) -> str:
    """The text of a completion (OpenAI's first choice, or Anthropic's text blocks)."""
    try:
        found = orjson.loads(raw)
        if family is ApiFamily.ANTHROPIC:
            blocks = found.get("content") or []
            return "".join(b.get("text", "") for b in blocks if isinstance(b, dict))
        content = found["choices"][0]["message"].get("content")
        return content if isinstance(content, str) else orjson.dumps(content).decode()
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        return raw[:ANSWER_CHARS].decode("utf-8", "replace")


async def play(
    *,
    state: State,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    version: int,
    variables: dict[str, str],
    model: str,
    max_tokens: int,
) -> PlayReport:
    """Render `template_id` at `version` with `variables` and call `model` (or the model of
    the version's config) through the gateway; errors before the call are domain errors."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "prompt": {
            "id": f"{workspace_id}/{template_id}",
            "variables": variables,
            "version": version,
        },
    }
    sent, template = await prompt_service.prompted_body(
        store=state.store, actor=actor, body=body, operation=Operation.CHAT
    )
    sent = dict(sent)
    name = sent.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidArgument.of("model", "choose a model: this version's config names none")
    route = await gateway_service.resolve(
        store=state.store,
        secrets=state.secrets,
        actor=actor,
        name=name,
        environ=state.gateway_environ,
    )
    family = route.family
    operation = Operation.CHAT
    if family is ApiFamily.ANTHROPIC:
        sent, operation = _anthropic(sent), Operation.MESSAGES
    call = Call(
        operation=operation,
        route=route.called_as(family),
        body=sent,
        client_headers={},
        started=time.perf_counter(),
    )
    answer = bytearray()

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            call.status = message["status"]
        elif len(answer) < 4 * ANSWER_CHARS:
            answer.extend(message.get("body", b""))

    relay: Relay = state.gateway
    error: str | None = None
    try:
        await relay.answer(call, keep)
    except UpstreamError as exc:
        call.status, error = exc.status, exc.message
    ok = 200 <= call.status < 300
    if not ok and error is None:
        error = bytes(answer[:ERROR_CHARS]).decode("utf-8", "replace")
    served = f"{template.prompt_template_id}@{template.version}" if template else ""
    return PlayReport(
        ok=ok,
        status=call.status,
        model=name,
        latency_ms=round((time.perf_counter() - call.started) * 1000, 3),
        target=call.member,
        attempts=call.attempts,
        sent=list(body_messages(sent)),
        answer=_answer_text(bytes(answer), family)[:ANSWER_CHARS] if ok else "",
        error=error,
        served=served,
    )


def body_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages a body sends (an Anthropic body's `system` first)."""
    found = [{"role": "system", "content": body["system"]}] if "system" in body else []
    return found + list(body.get("messages", []))
