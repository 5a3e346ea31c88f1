"""`POST /v1/llms/{id}:test`: a one-token call to an LLM connection, sent the way every
gateway call is sent, to see whether the connection works and how fast it answers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import State
from starlette.types import Message

from modelplane.domain.gateway import ApiFamily, Operation
from modelplane.domain.principals import Principal
from modelplane.faces.gateway.errors import UpstreamError
from modelplane.faces.gateway.relay import Call, Relay
from modelplane.services import gateway as service

ERROR_CHARS = 500  # of an upstream's error answer, shown in the report


@dataclass(frozen=True)
class ProbeReport:
    """What the one-token call found."""

    ok: bool
    status: int
    latency_ms: float
    overhead_ms: float
    target: str | None
    attempts: int
    error: str | None


async def probe(*, state: State, actor: Principal, llm_id: str) -> ProbeReport:
    """Send a one-token call to the connection `llm_id` (NotFound unless `actor` may read it)."""
    route = await service.resolve(
        store=state.store,
        secrets=state.secrets,
        actor=actor,
        name=llm_id,
        environ=state.gateway_environ,
    )
    anthropic = route.family is ApiFamily.ANTHROPIC
    body: dict[str, Any] = {
        "model": llm_id,
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
    }
    call = Call(
        operation=Operation.MESSAGES if anthropic else Operation.CHAT,
        route=route,
        body=body,
        client_headers={},
        started=time.perf_counter(),
    )
    answer = bytearray()

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            call.status = message["status"]
        else:
            answer.extend(message.get("body", b""))

    relay: Relay = state.gateway
    error: str | None = None
    try:
        await relay.answer(call, keep)
    except UpstreamError as exc:
        call.status, error = exc.status, exc.message
    latency = (time.perf_counter() - call.started) * 1000
    ok = 200 <= call.status < 300
    if not ok and error is None:
        error = bytes(answer[:ERROR_CHARS]).decode("utf-8", "replace")
    return ProbeReport(
        ok=ok,
        status=call.status,
        latency_ms=round(latency, 3),
        overhead_ms=round(call.overhead_ms(), 3),
        target=call.member,
        attempts=call.attempts,
        error=error,
    )
