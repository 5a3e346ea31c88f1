"""The SDK sends a 429 again after its `Retry-After`, a bounded number of times; nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace

import httpx
import pytest

from modelplane.client import (
    AlreadyExists,
    AsyncClient,
    Client,
    ResourceExhausted,
    Unavailable,
    async_clients,
    clients,
)
from modelplane.client.sending import MAX_RETRY_WAIT

BASE = "http://modelplane.test"
KEY = "mp_unit_test_key"
THROTTLED = {"code": "RESOURCE_EXHAUSTED", "message": "rate limit reached", "details": []}
GROUP = {
    "modelTemplateId": "mt-1",
    "ownerId": "p-1",
    "name": "g",
    "config": {},
    "createdAt": 1,
    "updatedAt": 1,
    "modelCount": 0,
}


class Server:
    """Answers from a script, one per request; records what was sent."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers: Iterator[httpx.Response] = iter(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return next(self.answers)


def throttled(retry_after: str | None = "0") -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return httpx.Response(429, json=THROTTLED, headers=headers)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds each retry waited (without waiting them)."""
    seen: list[float] = []

    async def no_async_wait(seconds: float) -> None:
        seen.append(seconds)

    # Only the SDK's own: a process-wide patch would spin every server loop in the process.
    monkeypatch.setattr(clients, "time", SimpleNamespace(sleep=seen.append))
    monkeypatch.setattr(async_clients, "asyncio", SimpleNamespace(sleep=no_async_wait))
    return seen


def client(server: Callable[[httpx.Request], httpx.Response], **options: int) -> Client:
    return Client(BASE, KEY, transport=httpx.MockTransport(server), **options)


def test_a_429_is_sent_again_after_its_retry_after_and_the_answer_returned(
    waits: list[float],
) -> None:
    server = Server(throttled("1"), throttled("2"), httpx.Response(200, json=GROUP))
    with client(server) as sdk:
        assert sdk.model_groups.get("mt-1").model_template_id == "mt-1"
    assert len(server.requests) == 3
    assert waits == [1.0, 2.0]


def test_a_write_is_sent_again_with_the_same_body(waits: list[float]) -> None:
    server = Server(throttled(), httpx.Response(201, json=GROUP))
    with client(server) as sdk:
        sdk.model_groups.create("g", description="d")
    first, second = server.requests
    assert (first.method, first.url, first.content) == (second.method, second.url, second.content)


def test_after_max_retries_the_429_is_raised_with_its_retry_after(waits: list[float]) -> None:
    server = Server(*(throttled("3") for _ in range(4)))
    with client(server, max_retries=3) as sdk, pytest.raises(ResourceExhausted) as caught:
        sdk.llms.list()
    assert len(server.requests) == 4
    assert waits == [3.0, 3.0, 3.0]
    assert caught.value.retry_after == 3.0


def test_max_retries_zero_raises_the_first_429(waits: list[float]) -> None:
    server = Server(throttled())
    with client(server, max_retries=0) as sdk, pytest.raises(ResourceExhausted):
        sdk.llms.list()
    assert (len(server.requests), waits) == (1, [])


def test_a_429_without_retry_after_backs_off_from_half_a_second(waits: list[float]) -> None:
    server = Server(throttled(None), throttled(None), httpx.Response(200, json=GROUP))
    with client(server) as sdk:
        sdk.model_groups.get("mt-1")
    assert waits == [0.5, 1.0]


def test_a_wait_longer_than_the_cap_is_not_waited_out(waits: list[float]) -> None:
    server = Server(throttled(str(int(MAX_RETRY_WAIT) + 1)))
    with client(server) as sdk, pytest.raises(ResourceExhausted) as caught:
        sdk.llms.list()
    assert (len(server.requests), waits) == (1, [])
    assert caught.value.retry_after == MAX_RETRY_WAIT + 1


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(503, "UNAVAILABLE", Unavailable), (409, "ALREADY_EXISTS", AlreadyExists)],
)
def test_other_errors_are_raised_at_once(
    waits: list[float], status: int, code: str, error: type[Exception]
) -> None:
    answer = httpx.Response(
        status, json={"code": code, "message": "m"}, headers={"Retry-After": "1"}
    )
    server = Server(answer)
    with client(server) as sdk, pytest.raises(error):
        sdk.model_groups.create("g")
    assert (len(server.requests), waits) == (1, [])


async def test_the_async_client_retries_the_same_way(waits: list[float]) -> None:
    server = Server(throttled("1"), httpx.Response(200, json=GROUP))
    transport = httpx.MockTransport(server)
    async with AsyncClient(BASE, KEY, transport=transport) as sdk:
        assert (await sdk.model_groups.get("mt-1")).name == "g"
    assert (len(server.requests), waits) == (2, [1.0])
    server = Server(throttled(), throttled())
    async with AsyncClient(BASE, KEY, max_retries=1, transport=httpx.MockTransport(server)) as sdk:
        with pytest.raises(ResourceExhausted):
            await sdk.llms.list()
    assert len(server.requests) == 2
