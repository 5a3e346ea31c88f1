"""A finished gateway call's usage: its record, handed to the recorder (`services/usage.py`)
that queues it; nothing here waits for the store."""

from __future__ import annotations

import time

from starlette.types import Scope

from modelplane.domain.usage import UsageRecord, tokens_of, usage_record
from modelplane.faces.gateway.relay import Call
from modelplane.services import usage as service
from modelplane.services.clock import now_ms


def record_call(
    call: Call, scope: Scope, *, principal_id: str, api_key_id: str | None
) -> UsageRecord:
    """Record `call` (ended now) for the caller and key that made it; the record."""
    counted = call.usage
    tokens = tokens_of(
        call.operation.family,
        input_tokens=counted.input_tokens,
        output_tokens=counted.output_tokens,
        cache_read=counted.cache_read_tokens,
        cache_write=counted.cache_write_tokens,
    )
    record = usage_record(
        at=now_ms(),
        principal_id=principal_id,
        api_key_id=api_key_id,
        model=call.route.name,
        member=call.member,
        operation=call.operation.value,
        status=call.status,
        streamed=call.body.get("stream") is True,
        tokens=tokens,
        prices=call.route.prices_of(call.member),
        latency_us=int((time.perf_counter() - call.started) * 1_000_000),
        request_id=scope.get("state", {}).get("request_id"),
        prompt=call.prompt,
    )
    service.record(recorder=scope["app"].state.usage, usage=record)
    return record
