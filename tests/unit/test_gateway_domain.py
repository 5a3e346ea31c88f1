"""The gateway's rules without I/O: families, keys, defaults, the order of attempts, events."""

from __future__ import annotations

import random

import pytest

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.gateway import (
    ApiFamily,
    Operation,
    Route,
    Target,
    attempt_order,
    auth_header,
    family_of_connection,
    family_of_provider,
    weight_of,
    with_defaults,
)
from modelplane.domain.llm_types import SamplingParams
from modelplane.faces.gateway.health import Health
from modelplane.faces.gateway.sse import EventScanner

SAMPLING = SamplingParams(max_tokens=64, temperature=0.2, top_k=5, stop_sequences=("END",))


def target(member: str = "m", family: ApiFamily = ApiFamily.OPENAI, weight: float = 1.0) -> Target:
    return Target(
        member=member,
        family=family,
        base_url="http://up.test/v1/",
        model="real-model",
        auth=("Authorization", "Bearer sk-secret"),
        sampling=SAMPLING,
        weight=weight,
    )


@pytest.mark.parametrize(
    ("api_path", "family"),
    [
        ("/chat/completions", ApiFamily.OPENAI),
        ("/messages", ApiFamily.ANTHROPIC),
        ("/v1/messages/", ApiFamily.ANTHROPIC),
        ("/responses", ApiFamily.OPENAI),
    ],
)
def test_a_connection_speaks_anthropic_only_when_its_path_is_messages(
    api_path: str, family: ApiFamily
) -> None:
    assert family_of_connection(api_path) is family


def test_a_provider_speaks_anthropic_when_its_api_says_so() -> None:
    assert family_of_provider("anthropic-messages") is ApiFamily.ANTHROPIC
    assert family_of_provider("Anthropic") is ApiFamily.ANTHROPIC
    assert family_of_provider("openai-completions") is ApiFamily.OPENAI
    assert family_of_provider(None) is ApiFamily.OPENAI


def test_a_key_goes_where_the_family_expects_it_unless_the_connection_says_otherwise() -> None:
    assert auth_header(ApiFamily.OPENAI, "k", None, None) == ("Authorization", "Bearer k")
    assert auth_header(ApiFamily.ANTHROPIC, "k", None, None) == ("x-api-key", "k")
    assert auth_header(ApiFamily.OPENAI, "k", "api-key", "") == ("api-key", "k")
    assert auth_header(ApiFamily.OPENAI, "k", None, "Token ") == ("Authorization", "Token k")


def test_the_upstream_url_is_the_stored_chat_path_or_the_operations_own() -> None:
    chat = Target("m", ApiFamily.OPENAI, "http://up.test/v1/", "x", chat_path="/chat")
    assert chat.url(Operation.CHAT) == "http://up.test/v1/chat"
    assert chat.url(Operation.EMBEDDINGS) == "http://up.test/v1/embeddings"
    assert chat.url(Operation.RESPONSES) == "http://up.test/v1/responses"


def test_a_target_never_shows_its_key() -> None:
    shown = repr(target())
    assert "sk-secret" not in shown and "real-model" in shown


def test_defaults_fill_only_what_the_request_leaves_out() -> None:
    body = {"model": "alias", "messages": [], "temperature": 0.9}
    sent = with_defaults(body, target(), Operation.CHAT)
    assert sent == {
        "model": "real-model",
        "messages": [],
        "temperature": 0.9,
        "max_tokens": 64,
        "stop": ["END"],
    }
    assert body["model"] == "alias"  # the caller's body is not changed
    newer = with_defaults({"model": "a", "max_completion_tokens": 5}, target(), Operation.CHAT)
    assert "max_tokens" not in newer


def test_defaults_take_each_apis_own_names() -> None:
    anthropic = target(family=ApiFamily.ANTHROPIC)
    sent = with_defaults({"model": "a", "messages": []}, anthropic, Operation.MESSAGES)
    assert (sent["top_k"], sent["stop_sequences"], sent["max_tokens"]) == (5, ["END"], 64)
    responses = with_defaults({"model": "a", "input": "x"}, target(), Operation.RESPONSES)
    assert responses["max_output_tokens"] == 64
    assert "stop" not in responses and "max_tokens" not in responses
    embeddings = with_defaults({"model": "a", "input": "x"}, target(), Operation.EMBEDDINGS)
    assert embeddings == {"model": "real-model", "input": "x"}


def test_a_weight_comes_from_the_stored_config_or_is_one() -> None:
    assert weight_of({"weight": 3}) == 3.0
    assert [weight_of(c) for c in (None, {}, {"weight": 0}, {"weight": "2"}, {"weight": True})] == [
        1.0
    ] * 5


def test_resting_members_are_tried_last_and_weights_spread_the_first_pick() -> None:
    a, b, c = target("a", weight=9), target("b", weight=1), target("c")
    assert attempt_order([a, b, c], {"a"}, random.Random(1))[-1] is a
    firsts = [attempt_order([a, b], set(), random.Random(n))[0].member for n in range(400)]
    assert 320 < firsts.count("a") < 395  # about 9 in 10


def test_a_member_rests_per_operation_after_failures_in_a_row() -> None:
    now = [100.0]
    health = Health(failures=2, rest_seconds=30, clock=lambda: now[0])
    health.failed("m", Operation.RESPONSES)
    assert health.resting(["m"], Operation.RESPONSES) == set()
    health.failed("m", Operation.RESPONSES)
    assert health.resting(["m"], Operation.RESPONSES) == {"m"}
    assert health.resting(["m"], Operation.CHAT) == set()  # chat traffic is not touched
    now[0] += 30.1
    assert health.resting(["m"], Operation.RESPONSES) == set()
    health.failed("m", Operation.CHAT)
    health.succeeded("m", Operation.CHAT)
    health.failed("m", Operation.CHAT)
    assert health.resting(["m"], Operation.CHAT) == set()  # not two in a row


def test_a_retry_after_is_remembered_for_the_member() -> None:
    now = [0.0]
    health = Health(failures=5, rest_seconds=30, clock=lambda: now[0])
    health.failed("m", Operation.CHAT, retry_after=2.0)
    now[0] = 0.5
    assert health.wait_for("m", Operation.CHAT) == 1.5
    assert health.wait_for("m", Operation.EMBEDDINGS) == 0


def chat_event(text: str) -> bytes:
    return b'data: {"choices":[{"delta":{"content":"' + text.encode() + b'"}}]}\n\n'


def test_events_are_passed_on_whole_and_the_end_is_seen_across_chunks() -> None:
    scanner = EventScanner(Operation.CHAT)
    stream = (
        chat_event("a")
        + chat_event("b")
        + b'data: {"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
        + b"data: [DONE]\n\n"
    )
    out = b"".join(scanner.feed(stream[i : i + 7]) for i in range(0, len(stream), 7))
    assert out == stream and scanner.ended and scanner.malformed is None
    assert (scanner.usage.input_tokens, scanner.usage.output_tokens) == (3, 2)


def test_a_malformed_event_stops_the_scan_and_is_not_passed_on() -> None:
    scanner = EventScanner(Operation.CHAT)
    assert scanner.feed(chat_event("a") + b"data: {not json\n\n" + chat_event("b")) == chat_event(
        "a"
    )
    assert scanner.malformed is not None and not scanner.ended


def test_comments_and_crlf_events_are_read_too() -> None:
    scanner = EventScanner(Operation.COMPLETIONS)
    stream = b": keep-alive\r\n\r\ndata: {}\r\n\r\ndata: [DONE]\r\n\r\n"
    assert scanner.feed(stream) == stream and scanner.ended


def test_each_api_ends_its_stream_its_own_way() -> None:
    responses = EventScanner(Operation.RESPONSES)
    responses.feed(b"data: [DONE]\n\n")
    assert not responses.ended  # not the Responses API's end
    done = (
        b"event: response.completed\ndata: "
        b'{"type":"response.completed","response":{"usage":{"input_tokens":4,"output_tokens":6}}}'
        b"\n\n"
    )
    responses.feed(done)
    assert responses.ended and responses.usage.output_tokens == 6
    messages = EventScanner(Operation.MESSAGES)
    messages.feed(
        b"event: message_start\ndata: "
        b'{"type":"message_start","message":{"usage":{"input_tokens":9}}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":2}}\n\n'
    )
    assert not messages.ended
    messages.feed(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert messages.ended and (messages.usage.input_tokens, messages.usage.output_tokens) == (9, 2)


def test_a_call_keeps_the_targets_of_its_family_and_is_refused_without_any() -> None:
    anthropic, openai = target("a", ApiFamily.ANTHROPIC), target("o", ApiFamily.OPENAI)
    route = Route("mixed", (anthropic, openai))
    assert route.called_as(ApiFamily.OPENAI).targets == (openai,)
    assert route.called_as(ApiFamily.ANTHROPIC).targets == (anthropic,)
    with pytest.raises(InvalidArgument, match="anthropic API"):
        Route("claude", (anthropic,)).called_as(ApiFamily.OPENAI)
