"""`Relay.serve`: the answer runs in the request's task; a client that leaves before the
answer is whole cancels it, one that closes after it does not."""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.types import Message, Send

from modelplane.domain.gateway import Operation, Route
from modelplane.faces.gateway.health import Health
from modelplane.faces.gateway.metrics import GatewayMetrics
from modelplane.faces.gateway.relay import Call, Limits, Relay

LIMITS = Limits(deadline_seconds=5, connect_seconds=1, idle_seconds=1, max_attempts=1)


class Scripted(Relay):
    """A relay whose answer is scripted: head, body, then some work after the body."""

    def __init__(self, *, whole: bool) -> None:
        super().__init__(LIMITS, Health(failures=3, rest_seconds=1), GatewayMetrics())
        self.whole = whole
        self.finished_after_body = False
        self.ran_in: asyncio.Task[object] | None = None

    async def answer(self, call: Call, send: Send) -> None:
        self.ran_in = asyncio.current_task()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        if self.whole:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        await asyncio.sleep(0.05)  # a drain after the end, or an upstream that takes its time
        self.finished_after_body = True


def _call() -> Call:
    return Call(
        operation=Operation.CHAT,
        route=Route(name="m", targets=()),
        body={},
        client_headers={},
        started=time.perf_counter(),
    )


async def _serve(relay: Relay, *, leave_after: int) -> list[Message]:
    """Serve one call to a client that disconnects once `leave_after` messages were sent."""
    sent: list[Message] = []
    enough = asyncio.Event()

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) >= leave_after:
            enough.set()

    async def receive() -> Message:
        await enough.wait()
        return {"type": "http.disconnect"}

    await relay.serve(_call(), {"type": "http", "state": {}}, receive, send)
    return sent


async def test_the_answer_runs_in_the_requests_own_task() -> None:
    relay = Scripted(whole=True)
    task = asyncio.current_task()
    await _serve(relay, leave_after=99)
    assert relay.ran_in is task


async def test_a_client_that_leaves_mid_answer_cancels_it_and_serve_returns() -> None:
    relay = Scripted(whole=False)
    sent = await asyncio.wait_for(_serve(relay, leave_after=2), timeout=2)
    assert len(sent) == 2
    assert relay.finished_after_body is False
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_client_that_closes_after_the_whole_answer_does_not_cut_what_follows() -> None:
    relay = Scripted(whole=True)
    sent = await _serve(relay, leave_after=3)
    assert [m.get("more_body") for m in sent[1:]] == [True, False]
    assert relay.finished_after_body is True


async def test_a_cancel_from_outside_still_cancels() -> None:
    relay = Scripted(whole=False)
    task = asyncio.ensure_future(_serve(relay, leave_after=99))
    await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert relay.finished_after_body is False
