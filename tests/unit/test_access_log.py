"""The access log: JSON lines, written in batches, nothing lost at flush."""

from __future__ import annotations

import asyncio
import json

from modelplane.logs import AccessLog


async def test_lines_are_batched_until_the_interval_passes() -> None:
    writes: list[bytes] = []
    log = AccessLog(writes.append, interval=0.05)
    log.log({"requestId": "a", "status": 200})
    log.log({"requestId": "b", "status": 404})
    assert writes == []
    await asyncio.sleep(0.1)
    assert len(writes) == 1
    lines = [json.loads(line) for line in writes[0].splitlines()]
    assert [line["requestId"] for line in lines] == ["a", "b"]
    assert lines[0]["msg"] == "request" and lines[0]["ts"].endswith("Z")


async def test_a_full_buffer_is_written_at_once() -> None:
    writes: list[bytes] = []
    log = AccessLog(writes.append, interval=60, limit=200)
    for n in range(10):
        log.log({"requestId": str(n), "path": "/v1/llms"})
    assert writes, "the limit should have forced a write"


def test_without_an_event_loop_each_line_is_written() -> None:
    writes: list[bytes] = []
    AccessLog(writes.append).log({"requestId": "x"})
    assert len(writes) == 1


async def test_flush_writes_everything_waiting() -> None:
    writes: list[bytes] = []
    log = AccessLog(writes.append, interval=60)
    log.log({"requestId": "x"})
    log.flush()
    assert b'"requestId":"x"' in writes[0]
