"""With MODELPLANE_OTEL_TRACES on, each gateway call is a span exported over OTLP/HTTP to a
local receiver (both stores): the model, the member, the tokens, the cost, the status, and
the caller's trace when it sends a `traceparent`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import openai
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from modelplane.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.support.gateway_calls import connection, gateway_settings
from tests.support.in_process import served
from tests.support.upstreams import FixtureUpstream

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
PRICES = {"cost": {"input": 2.0, "output": 8.0}}  # per million tokens


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver: keeps every export request it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.exports: list[ExportTraceServiceRequest] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list[Any]:
        return [
            span
            for export in self.exports
            for resource in export.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.path == "/v1/traces"
        self.server.exports.append(ExportTraceServiceRequest.FromString(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.url)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def value(attribute: AnyValue) -> Any:
    return getattr(attribute, attribute.WhichOneof("value") or "string_value")


async def test_each_call_is_a_span_with_its_model_member_tokens_and_cost(
    database_url: str, receiver: Receiver, upstream: FixtureUpstream
) -> None:
    app = create_app(gateway_settings(database_url, otel_traces=True))
    async with app.router.lifespan_context(app), served(app) as url:
        async with httpx.AsyncClient(base_url=url, headers={"x-api-key": ADMIN_TOKEN}) as admin:
            llm_id = await connection(
                admin, upstream.base("ok"), "real-model-3", clientConfig=PRICES
            )
        async with openai.AsyncOpenAI(
            base_url=f"{url}/openai/v1", api_key=ADMIN_TOKEN, max_retries=0
        ) as client:
            await client.chat.completions.create(
                model=llm_id,
                messages=[{"role": "user", "content": "Say hello"}],
                extra_headers={"traceparent": PARENT},
            )
            with pytest.raises(openai.NotFoundError):
                await client.chat.completions.create(model="no-such-model", messages=[])
    (span,) = receiver.spans()  # flushed at shutdown; a call refused before any upstream has none
    attributes = {a.key: value(a.value) for a in span.attributes}
    assert span.name == f"chat {llm_id}"
    assert span.trace_id.hex() == TRACE_ID
    assert span.parent_span_id.hex() == "b7ad6b7169203331"
    assert span.end_time_unix_nano > span.start_time_unix_nano
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == llm_id
    assert attributes["modelplane.member"] == f"llm/{llm_id}"
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] > 0
    expected = (
        attributes["gen_ai.usage.input_tokens"] * 2 + attributes["gen_ai.usage.output_tokens"] * 8
    ) / 1e6
    assert attributes["modelplane.cost"] == pytest.approx(expected)
    assert attributes["http.response.status_code"] == 200
    resource = {
        a.key: value(a.value) for a in receiver.exports[0].resource_spans[0].resource.attributes
    }
    assert resource["service.name"] == "modelplane"
