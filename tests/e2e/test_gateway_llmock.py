"""The gateway in front of llmock (PyPI), an upstream nobody here wrote, with its faults
turned on by its own flags: what the official SDKs see through modelplane for each."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import TypeVar

import anthropic
import httpx
import openai
import orjson
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from modelplane.faces.gateway.upstream_clock import HeardHandler
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.support.gateway_calls import LONG_PROMPT, connection, gateway_settings
from tests.support.upstreams import llmocks

ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": LONG_PROMPT}]
CLAUDE_ASK: list[MessageParam] = [{"role": "user", "content": LONG_PROMPT}]
T = TypeVar("T")
# Each llmock process, by the flags it runs with (as its command line takes them).
FLAGS = {
    "plain": [],
    "scripted": [],  # faults queued per test through llmock's /_llmock/scenario
    "errors": ["--error-rate", "503=1.0"],
    "limited": ["--error-rate", "429=1.0"],
    "slow": ["--latency-ms", "300"],
    "truncate": ["--stream-fault", "truncate=1.0"],
    "malformed": ["--stream-fault", "malformed=1.0"],
    "disconnect": ["--stream-fault", "disconnect=1.0"],
    "stall": ["--stream-fault", "stall=1.0", "--stream-stall-seconds", "30"],
}


@pytest.fixture(scope="module")
def mocks() -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        yield stack.enter_context(llmocks(FLAGS))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url, gateway_idle_timeout_seconds=2.0)  # llmock stalls 30 s


async def read_into(stream: AsyncIterator[T], into: list[T]) -> None:
    """Read `stream` to its end (or its error), keeping what came."""
    async for item in stream:
        into.append(item)


async def stream_into(
    client: openai.AsyncOpenAI, model: str, into: list[ChatCompletionChunk]
) -> None:
    """Stream a chat completion of `model` to its end (or its error), keeping what came."""
    stream = await client.chat.completions.create(model=model, messages=ASK, stream=True)
    await read_into(stream, into)


async def test_llmock_answers_both_sdks_through_the_gateway_streamed_and_not(
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    gateway_url: str,
    mocks: dict[str, str],
) -> None:
    await connection(client, mocks["plain"] + "/v1", "gpt-4o")
    answer = await openai_client.chat.completions.create(model="gpt-4o", messages=ASK)
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content
    stream = await openai_client.chat.completions.create(model="gpt-4o", messages=ASK, stream=True)
    chunks: list[ChatCompletionChunk] = []
    await read_into(stream, chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"

    await connection(
        client, mocks["plain"] + "/anthropic/v1", "claude-sonnet-4", apiPath="/messages"
    )
    async with anthropic.AsyncAnthropic(
        base_url=f"{gateway_url}/anthropic", api_key=ADMIN_TOKEN, max_retries=0
    ) as claude:
        message = await claude.messages.create(
            model="claude-sonnet-4", max_tokens=64, messages=CLAUDE_ASK
        )
        assert message.stop_reason == "end_turn"
        async with claude.messages.stream(
            model="claude-sonnet-4", max_tokens=64, messages=CLAUDE_ASK
        ) as streamed:
            assert await streamed.get_final_text()


async def test_a_member_answering_errors_is_passed_over_for_a_healthy_one(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, mocks: dict[str, str]
) -> None:
    await connection(client, mocks["errors"] + "/v1", "gpt-4o-mini")
    healthy = await connection(client, mocks["plain"] + "/v1", "gpt-4o-mini")
    for _ in range(6):
        raw = await openai_client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=ASK
        )
        assert raw.headers["x-modelplane-target"] == f"llm/{healthy}"
        assert raw.parse().choices[0].message.content


async def test_a_lone_rate_limited_member_gives_the_client_its_429_and_retry_after(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, mocks: dict[str, str]
) -> None:
    await connection(client, mocks["limited"] + "/v1", "gpt-4.1")
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as limited:
        await openai_client.chat.completions.create(model="gpt-4.1", messages=ASK)
    headers = limited.value.response.headers
    assert "retry-after" in headers and "retry-after-ms" in headers
    attempts = int(headers["x-modelplane-attempts"])
    assert attempts == 3  # each after the Retry-After llmock asked for (1 s)
    assert time.monotonic() - started >= 2.0


@pytest.mark.parametrize("fault", ["truncate", "malformed", "disconnect", "stall"])
async def test_a_stream_fault_after_the_first_event_ends_in_an_error_the_sdk_raises(
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    gateway_url: str,
    mocks: dict[str, str],
    fault: str,
) -> None:
    """llmock breaks a stream after 1 to 6 chunks (maybe after its finish reason, always
    before its [DONE]). Usually the gateway has passed the first on by then: the client
    gets what came, then an error event. When the bad chunk arrives in the same read as
    the first ones (llmock sends them at once), nothing has reached the client yet, so
    every attempt is made, and the client gets the gateway's error answer instead."""
    await connection(client, mocks[fault] + "/v1", f"gpt-4o-{fault}")
    chunks: list[ChatCompletionChunk] = []
    with pytest.raises(openai.APIError) as broken:
        await stream_into(openai_client, f"gpt-4o-{fault}", chunks)
    if isinstance(broken.value, openai.APIStatusError):
        assert broken.value.status_code in (502, 504) and not chunks
        assert broken.value.response.headers["x-modelplane-attempts"] == "3"
    else:
        assert "broke" in broken.value.message and chunks

    body = {"model": f"gpt-4o-{fault}", "messages": ASK, "stream": True}
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{gateway_url}/openai/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert b"[DONE]" not in answer.content
    if answer.status_code == 200:
        events = [e for e in answer.content.split(b"\n\n") if e.strip()]
        last = orjson.loads(events[-1].removeprefix(b"data: "))
        assert last["error"]["code"] == "upstream_stream_broken"
    else:
        assert answer.status_code in (502, 504), answer.text
        assert answer.json()["error"]["code"].startswith("upstream_stream")


@pytest.mark.parametrize("fault", ["truncate", "malformed", "disconnect", "stall"])
async def test_a_stream_fault_before_the_first_event_is_retried_unseen(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, mocks: dict[str, str], fault: str
) -> None:
    scripted = mocks["scripted"]
    fault_now = {"type": "stream_fault", "kind": fault, "after_chunks": 0, "times": 1}
    async with httpx.AsyncClient() as http:
        queued = await http.post(f"{scripted}/_llmock/scenario", json={"behaviors": [fault_now]})
        assert queued.status_code == 201, queued.text
    await connection(client, scripted + "/v1", f"gpt-4o-first-{fault}")
    raw = await openai_client.chat.completions.with_raw_response.create(
        model=f"gpt-4o-first-{fault}", messages=ASK, stream=True
    )
    chunks: list[ChatCompletionChunk] = []
    await read_into(raw.parse(), chunks)
    assert raw.headers["x-modelplane-attempts"] == "2"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


async def test_upstream_latency_is_not_counted_as_modelplanes_overhead(
    client: httpx.AsyncClient, openai_client: openai.AsyncOpenAI, mocks: dict[str, str]
) -> None:
    await connection(client, mocks["slow"] + "/v1", "gpt-4o-slow")
    started = time.monotonic()
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o-slow", messages=ASK
    )
    assert time.monotonic() - started >= 0.3
    assert float(raw.headers["x-modelplane-overhead-ms"]) < 100


async def test_the_work_after_the_answers_bytes_came_in_is_counted_as_modelplanes(
    client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    mocks: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the wait for the upstream is the upstream's: the client library's work on an
    answer that has come in (made slow here) is modelplane's overhead."""
    await connection(client, mocks["plain"] + "/v1", "gpt-4o-heard")
    received = HeardHandler.data_received

    def slow_to_parse(self: HeardHandler, data: bytes) -> None:
        received(self, data)
        time.sleep(0.2)

    monkeypatch.setattr(HeardHandler, "data_received", slow_to_parse)
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o-heard", messages=ASK
    )
    assert float(raw.headers["x-modelplane-overhead-ms"]) >= 200
