"""The gateway's stream reader: whole events however the bytes are cut, each family's end,
malformed data, usage, and a cap on one event."""

from __future__ import annotations

import random

import pytest

from modelplane.domain.gateway import Operation
from modelplane.faces.gateway import sse
from modelplane.faces.gateway.sse import EventScanner

CHAT = (
    b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n'
    b": keep-alive\n\n"
    b'data: {"choices":[{"delta":{"content":"lo"}}]}\r\n\r\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
    b"data: [DONE]\n\n"
)
MESSAGES = (
    b'event: message_start\ndata: {"type":"message_start",'
    b'"message":{"usage":{"input_tokens":9}}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":4}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
RESPONSES = (
    b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta"}\n\n'
    b'event: response.completed\ndata: {"type":"response.completed",'
    b'"response":{"usage":{"input_tokens":5,"output_tokens":6}}}\n\n'
)


def scan(operation: Operation, stream: bytes, cuts: list[int]) -> tuple[bytes, EventScanner]:
    scanner = EventScanner(operation)
    out = b""
    start = 0
    for end in [*sorted(cuts), len(stream)]:
        out += scanner.feed(stream[start:end])
        start = end
    return out, scanner


@pytest.mark.parametrize(
    ("operation", "stream", "usage"),
    [
        (Operation.CHAT, CHAT, (3, 2)),
        (Operation.MESSAGES, MESSAGES, (9, 4)),
        (Operation.RESPONSES, RESPONSES, (5, 6)),
    ],
)
def test_events_pass_whole_and_unchanged_however_the_bytes_are_cut(
    operation: Operation, stream: bytes, usage: tuple[int, int]
) -> None:
    draw = random.Random(7)
    for _ in range(200):
        cuts = draw.sample(range(1, len(stream)), draw.randint(0, 12))
        out, scanner = scan(operation, stream, cuts)
        assert out == stream
        assert scanner.ended and scanner.malformed is None
        assert (scanner.usage.input_tokens, scanner.usage.output_tokens) == usage


def test_a_stream_without_its_end_event_has_not_ended() -> None:
    _, scanner = scan(Operation.CHAT, CHAT.removesuffix(b"data: [DONE]\n\n"), [])
    assert not scanner.ended
    _, scanner = scan(Operation.MESSAGES, CHAT, [])
    assert not scanner.ended  # [DONE] ends chat and completions, not Anthropic's stream


def test_data_that_is_not_json_stops_the_stream_before_that_event() -> None:
    stream = b'data: {"a":1}\n\ndata: {"broken\n\ndata: {"b":2}\n\n'
    out, scanner = scan(Operation.CHAT, stream, [])
    assert out == b'data: {"a":1}\n\n'
    assert scanner.malformed is not None and not scanner.ended


def test_an_event_that_never_completes_is_held_only_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sse, "MAX_EVENT_BYTES", 64)
    scanner = EventScanner(Operation.CHAT)
    assert scanner.feed(b'data: {"x": "' + b"y" * 40) == b""
    assert scanner.malformed is None
    assert scanner.feed(b"y" * 40) == b""
    assert scanner.malformed is not None and "64 bytes" in scanner.malformed
