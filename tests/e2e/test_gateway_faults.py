"""What a client of the gateway sees when upstreams fail: other members tried, Retry-After
honoured, failing members rested per operation, broken streams never passed off as done,
and a client that leaves cancelling its upstream request (our own scripted upstream)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import TypeVar

import httpx
import openai
import orjson
import pytest
from anthropic.types import MessageParam
from fastapi import FastAPI
from openai.types.chat import ChatCompletionMessageParam

from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.support.gateway_calls import UPSTREAM_KEY, connection, gateway_settings, metric_lines
from tests.support.upstreams import FixtureUpstream

ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
CLAUDE_ASK: list[MessageParam] = [{"role": "user", "content": "Say hello"}]
HELLO = "Hello from the fixture upstream."
T = TypeVar("T")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url, access_log=True)


def once(fault: str) -> str:
    """A behaviour whose first request fails with `fault`, and no other test's."""
    return f"once-{uuid.uuid4().hex[:8]}+{fault}"


async def read_into(stream: AsyncIterator[T], into: list[T]) -> None:
    """Read `stream` to its end (or its error), keeping what came."""
    async for item in stream:
        into.append(item)


async def raw_stream(gateway_url: str, model: str) -> tuple[int, dict[str, str], list[bytes]]:
    """A chat stream read as bytes: the status, the headers and the events."""
    body = {"model": model, "messages": ASK, "stream": True}
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "POST", f"{gateway_url}/openai/v1/chat/completions", json=body, headers=headers
        ) as response,
    ):
        data = b"".join([chunk async for chunk in response.aiter_bytes()])
    events = [event for event in data.split(b"\n\n") if event.strip()]
    return response.status_code, dict(response.headers), events


async def test_a_failing_member_moves_the_call_on_and_then_rests(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    broken = await connection(client, upstream.base("status-503"), "pooled")
    healthy = await connection(client, upstream.base("ok-pooled"), "pooled")
    attempts = []
    for _ in range(8):
        raw = await openai_client.chat.completions.with_raw_response.create(
            model="pooled", messages=ASK
        )
        assert raw.parse().choices[0].message.content == HELLO
        assert raw.headers["x-modelplane-target"] == f"llm/{healthy}"
        attempts.append(int(raw.headers["x-modelplane-attempts"]))
    failures = len(upstream.requests_to("status-503"))
    assert failures == attempts.count(2) <= 2  # rests after 2 failures in a row
    assert set(attempts) <= {1, 2}

    def counted(lines: list[str]) -> bool:
        return any(f'member="llm/{broken}"' in line for line in lines)

    failed = await metric_lines(client, "modelplane_gateway_failed_attempts_total", counted)
    if failures:
        assert any('reason="upstream_503"' in line for line in failed), failed


async def test_a_member_resting_for_one_operation_still_serves_the_others(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    flaky = await connection(client, upstream.base("status-503+only-responses"), "split")
    await connection(client, upstream.base("ok-split"), "split")
    for _ in range(60):  # until the flaky member failed twice in a row: it rests
        answer = await openai_client.responses.create(model="split", input="hi")
        assert answer.output_text == HELLO
        if len(upstream.requests_to("status-503+only-responses")) == 2:
            break
    rested = len(upstream.requests_to("status-503+only-responses"))
    assert rested == 2
    for _ in range(4):
        raw = await openai_client.responses.with_raw_response.create(model="split", input="hi")
        assert raw.headers["x-modelplane-attempts"] == "1"
    assert len(upstream.requests_to("status-503+only-responses")) == rested

    targets = set()
    for _ in range(24):
        chat = await openai_client.chat.completions.with_raw_response.create(
            model="split", messages=ASK
        )
        targets.add(chat.headers["x-modelplane-target"])
    assert f"llm/{flaky}" in targets  # chat never took it out


async def test_retry_after_is_waited_out_before_the_same_member_is_asked_again(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    behaviour = once("status-429+retry-after-1")
    await connection(client, upstream.base(behaviour), "patient")
    started = time.monotonic()
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="patient", messages=ASK
    )
    assert time.monotonic() - started >= 1.0
    assert raw.headers["x-modelplane-attempts"] == "2"
    assert float(raw.headers["x-modelplane-overhead-ms"]) < 500  # the wait is not ours
    assert raw.parse().choices[0].message.content == HELLO


async def test_when_every_attempt_fails_the_client_gets_the_upstreams_answer(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    await connection(client, upstream.base("status-429+retry-after-30"), "limited")
    with pytest.raises(openai.RateLimitError) as limited:
        await openai_client.chat.completions.create(model="limited", messages=ASK)
    assert limited.value.response.headers["retry-after"] == "30"
    assert limited.value.response.headers["x-modelplane-attempts"] == "1"

    await connection(client, "http://127.0.0.1:9/v1", "unreachable")
    with pytest.raises(openai.APIStatusError) as unreachable:
        await openai_client.chat.completions.create(model="unreachable", messages=ASK)
    assert unreachable.value.status_code == 502
    assert unreachable.value.code == "upstream_unreachable"
    assert unreachable.value.response.headers["x-modelplane-attempts"] == "3"
    assert unreachable.value.response.headers["x-modelplane-target"].startswith("llm/")
    assert float(unreachable.value.response.headers["x-modelplane-overhead-ms"]) >= 0
    assert UPSTREAM_KEY not in unreachable.value.response.text


@pytest.mark.parametrize("fault", ["cut-0", "malformed-0", "stall-0", "drop-0", "status-500"])
async def test_a_stream_failing_before_its_first_event_is_retried_unseen(
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    upstream: FixtureUpstream,
    fault: str,
) -> None:
    behaviour = once(fault)
    await connection(client, upstream.base(behaviour), f"retried-{fault}")
    raw = await openai_client.chat.completions.with_raw_response.create(
        model=f"retried-{fault}", messages=ASK, stream=True
    )
    assert raw.headers["x-modelplane-attempts"] == "2"
    chunks = [chunk async for chunk in raw.parse()]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == HELLO
    assert len(upstream.requests_to(behaviour)) == 2


@pytest.mark.parametrize("fault", ["cut-3", "malformed-3", "stall-3", "drop-3"])
async def test_a_stream_broken_after_its_first_event_ends_with_an_error_event(
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    upstream: FixtureUpstream,
    gateway_url: str,
    fault: str,
) -> None:
    await connection(client, upstream.base(fault), f"broken-{fault}")
    stream = await openai_client.chat.completions.create(
        model=f"broken-{fault}", messages=ASK, stream=True
    )
    seen: list[openai.types.chat.ChatCompletionChunk] = []
    with pytest.raises(openai.APIError) as broken:
        await read_into(stream, seen)
    assert "".join(c.choices[0].delta.content or "" for c in seen) == "Hello from"
    assert all(c.choices[0].finish_reason is None for c in seen)  # none made up
    assert "broke" in broken.value.message

    status, headers, events = await raw_stream(gateway_url, f"broken-{fault}")
    assert status == 200 and headers["x-modelplane-attempts"] == "1"
    assert b"[DONE]" not in b"".join(events)
    last = orjson.loads(events[-1].removeprefix(b"data: "))
    assert last["error"]["code"] == "upstream_stream_broken"
    assert all(b'"finish_reason":"stop"' not in e.replace(b" ", b"") for e in events)

    def counted(lines: list[str]) -> bool:
        return any(not line.endswith(" 0") for line in lines)

    assert counted(await metric_lines(client, "modelplane_gateway_broken_streams_total", counted))


async def test_responses_and_messages_streams_broken_midway_raise_in_the_sdks(
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    upstream: FixtureUpstream,
    gateway_url: str,
) -> None:
    import anthropic

    await connection(client, upstream.base("cut-3"), "cut-responses")
    stream = await openai_client.responses.create(model="cut-responses", input="hi", stream=True)
    events: list[openai.types.responses.ResponseStreamEvent] = []
    with pytest.raises(openai.APIError):
        await read_into(stream, events)
    assert "response.completed" not in [event.type for event in events]

    await connection(client, upstream.url + "/cut-4/v1", "cut-messages", apiPath="/messages")
    async with anthropic.AsyncAnthropic(
        base_url=f"{gateway_url}/anthropic", api_key=ADMIN_TOKEN, max_retries=0
    ) as claude:
        with pytest.raises(anthropic.APIError):
            async with claude.messages.stream(
                model="cut-messages", max_tokens=16, messages=CLAUDE_ASK
            ) as messages:
                await messages.get_final_text()


async def test_a_client_that_leaves_cancels_the_upstream_request(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    behaviour = f"trickle-{uuid.uuid4().hex[:8]}"
    await connection(client, upstream.base(behaviour), "endless")
    stream = await openai_client.chat.completions.create(model="endless", messages=ASK, stream=True)
    async for _ in stream:
        break
    await stream.close()
    deadline = time.monotonic() + 3
    while behaviour not in upstream.left:
        assert time.monotonic() < deadline, "the upstream request was not cancelled"
        await asyncio.sleep(0.02)


async def test_an_upstream_silent_past_the_idle_timeout_moves_the_call_on(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, upstream: FixtureUpstream
) -> None:
    silent = once("latency-5000")  # idle timeout: 1 s
    await connection(client, upstream.base(silent), "silent-once")
    started = time.monotonic()
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="silent-once", messages=ASK
    )
    assert 1.0 <= time.monotonic() - started < 4.5
    assert raw.headers["x-modelplane-attempts"] == "2"
    assert raw.parse().choices[0].message.content == HELLO


async def test_a_client_that_leaves_before_the_answer_cancels_the_upstream_request(
    client: httpx.AsyncClient, upstream: FixtureUpstream, gateway_url: str
) -> None:
    behaviour = f"latency-5000+ok-{uuid.uuid4().hex[:8]}"
    await connection(client, upstream.base(behaviour), "slow-to-answer")
    body = {"model": "slow-to-answer", "messages": ASK}
    async with httpx.AsyncClient(timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(
                f"{gateway_url}/openai/v1/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
    deadline = time.monotonic() + 3
    while behaviour not in upstream.left:
        assert time.monotonic() < deadline, "the upstream request was not cancelled"
        await asyncio.sleep(0.02)


async def test_the_access_log_has_one_line_per_call_without_bodies_or_keys(
    app: FastAPI,
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    upstream: FixtureUpstream,
    capfd: pytest.CaptureFixture[str],
) -> None:
    llm_id = await connection(client, upstream.base("ok-logged"), "logged-model")
    capfd.readouterr()
    await openai_client.chat.completions.create(
        model="logged-model", messages=[{"role": "user", "content": "a secret prompt"}]
    )
    written = ""
    deadline = time.monotonic() + 3
    while "/openai/v1/chat/completions" not in written:
        assert time.monotonic() < deadline, f"no access log line in {written!r}"
        await asyncio.sleep(0.02)
        app.state.access_log.flush()
        written += capfd.readouterr().err
    lines = [orjson.loads(line) for line in written.splitlines() if "/openai/" in line]
    assert len(lines) == 1
    fields = lines[0]
    assert fields["model"] == "logged-model" and fields["target"] == f"llm/{llm_id}"
    assert fields["attempts"] == 1 and fields["outputTokens"] == 6 and fields["status"] == 200
    assert fields["face"] == "gateway" and fields["overheadMs"] >= 0
    assert "a secret prompt" not in written and UPSTREAM_KEY not in written
    assert ADMIN_TOKEN not in written
