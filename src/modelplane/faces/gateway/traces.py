"""A span per gateway call, exported over OTLP/HTTP when `MODELPLANE_OTEL_TRACES` is on.

Off by default: then nothing here is imported beyond this module, and a call pays one
test of `None`. On, it needs the `otel` extra (`pip install 'modelplane[otel]'`: the
OpenTelemetry SDK and its OTLP/HTTP exporter); where spans go is said by the standard
`OTEL_EXPORTER_OTLP_*` variables (`http://localhost:4318` by default). Spans are batched
off the request path and flushed when the server stops.

Each span is a client span named `{operation} {model}`, from the request's arrival to the
end of its answer, with the attributes of OpenTelemetry's generative-AI conventions
(`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`, …) and
modelplane's own (`modelplane.member`, `modelplane.attempts`, `modelplane.cost`,
`modelplane.prompt`). A call that carries a W3C `traceparent` header joins that trace.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelplane.domain.gateway import Operation
from modelplane.domain.usage import UsageRecord

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from modelplane.faces.gateway.relay import Call

# The conventions' names of the operations.
OPERATION_NAMES = {
    Operation.CHAT: "chat",
    Operation.COMPLETIONS: "text_completion",
    Operation.EMBEDDINGS: "embeddings",
    Operation.RESPONSES: "chat",
    Operation.MESSAGES: "chat",
}
MISSING_EXTRA = (
    "MODELPLANE_OTEL_TRACES is on but the OpenTelemetry SDK is not installed: "
    "pip install 'modelplane[otel]'"
)


class CallTraces:
    """Makes and exports the spans of gateway calls."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._provider = provider
        self._tracer = provider.get_tracer("modelplane.gateway")
        self._propagator = TraceContextTextMapPropagator()
        self._client = SpanKind.CLIENT
        self._error = Status(StatusCode.ERROR)
        self._status = Status

    @classmethod
    def exporting(cls, *, service_version: str, replica_id: str | None) -> CallTraces:
        """Traces exported over OTLP/HTTP as the `OTEL_EXPORTER_OTLP_*` variables say;
        RuntimeError (naming the extra) when the SDK is not installed."""
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as exc:
            raise RuntimeError(MISSING_EXTRA) from exc
        attributes = {"service.name": "modelplane", "service.version": service_version}
        if replica_id:
            attributes["service.instance.id"] = replica_id
        provider = TracerProvider(resource=Resource.create(attributes))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(provider)

    def export(self, call: Call, record: UsageRecord, client_headers: Mapping[str, str]) -> None:
        """The span of one finished call (queued for export, never awaited)."""
        ended = time.time_ns()
        started = ended - int((time.perf_counter() - call.started) * 1e9)
        operation = OPERATION_NAMES[call.operation]
        parent = self._propagator.extract(client_headers)
        span = self._tracer.start_span(
            f"{operation} {record.model}",
            context=parent,
            kind=self._client,
            start_time=started,
            attributes=_attributes(call, record, operation),
        )
        if call.broken is not None:
            span.set_status(self._status(self._error.status_code, call.broken))
        elif record.status >= 400:
            span.set_status(self._error)
        span.end(end_time=ended)

    def close(self) -> None:
        """Export what is queued and stop."""
        self._provider.shutdown()


def _attributes(call: Call, record: UsageRecord, operation: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.request.model": record.model,
        "gen_ai.usage.input_tokens": record.tokens.input,
        "gen_ai.usage.output_tokens": record.tokens.output,
        "http.response.status_code": record.status,
        "modelplane.attempts": call.attempts,
        "modelplane.streamed": record.streamed,
    }
    if record.member is not None:
        found["modelplane.member"] = record.member
    if record.cost_nanos is not None:
        found["modelplane.cost"] = record.cost_nanos / 1_000_000_000
    if call.prompt is not None:
        found["modelplane.prompt"] = call.prompt
    if record.request_id is not None:
        found["modelplane.request_id"] = record.request_id
    return found
