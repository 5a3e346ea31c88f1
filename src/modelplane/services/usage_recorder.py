"""Writing usage records off the request path: a call queues its record in memory, and one
background task writes the queue in batches.

A batch is written when `batch_max` records wait, or `flush_seconds` after the last
write, whichever comes first: one transaction inserts its records and adds them to their
daily rollups. A record leaves the queue only once its batch is committed, so a store that
is down keeps them waiting; beyond `queue_max` waiting records, new ones are dropped and
counted (`dropped`), with one warning per outage. `stop()` (the app's shutdown) writes
everything still queued; a process that dies loses what waits, at most the last
`flush_seconds` of calls while the store answers.

The same task deletes records older than `retention_days`, at most `PRUNE_BATCH` rows per
transaction, every `PRUNE_SECONDS` (every tick while there is more to delete).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from modelplane.domain.usage import DAY_MS, UsageRecord, rollup
from modelplane.services.clock import now_ms
from modelplane.store.uow import Store

log = logging.getLogger("modelplane.usage")
PRUNE_BATCH = 10_000
PRUNE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RecorderOptions:
    """How records wait and are written."""

    flush_seconds: float = 1.0
    batch_max: int = 1000
    queue_max: int = 100_000
    retention_days: int = 90  # 0: records are kept for ever


class UsageRecorder:
    """This replica's usage records on their way to the store."""

    def __init__(
        self,
        store: Store,
        options: RecorderOptions | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._options = options or RecorderOptions()
        self._clock = clock
        self._queue: deque[UsageRecord] = deque()
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failing = False  # the last write failed (warned once)
        self._dropping = False  # records are being dropped (warned once)
        self._next_prune = 0.0
        self.written = 0
        self.dropped = 0

    @property
    def waiting(self) -> int:
        """How many records wait to be written."""
        return len(self._queue)

    def record(self, record: UsageRecord) -> None:
        """Queue one call's record (never waits; dropped and counted when the queue is full)."""
        if len(self._queue) >= self._options.queue_max:
            self.dropped += 1
            if not self._dropping:
                self._dropping = True
                log.warning(
                    "usage records are being dropped: %d wait for the store already",
                    len(self._queue),
                )
            return
        self._queue.append(record)
        if len(self._queue) >= self._options.batch_max:
            self._wake.set()

    async def start(self) -> None:
        """Start writing in the background."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="usage-recorder")

    async def stop(self) -> None:
        """Finish the write under way, then write every record still queued."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception as exc:
            log.error("%d usage records were not written at shutdown: %s", self.waiting, exc)

    async def flush(self) -> int:
        """Write every record queued now, in batches; how many were written."""
        written, queued = 0, len(self._queue)
        while written < queued and self._queue:
            written += await self._write_batch()
        return written

    async def _write_batch(self) -> int:
        async with self._writing:  # one batch at a time: each takes the queue's head
            return await self._write_head()

    async def _write_head(self) -> int:
        batch = list(islice(self._queue, self._options.batch_max))
        if not batch:
            return 0
        async with self._store.writer(invalidates=False) as uow:
            await uow.usage.add(batch)
            await uow.usage.add_to_rollups(rollup(batch))
            await uow.commit()
            for _ in batch:  # only once committed: a failed batch stays to be written again
                self._queue.popleft()
        self.written += len(batch)
        if self._failing or self._dropping:
            log.warning("usage records are written again (%d dropped so far)", self.dropped)
            self._failing = self._dropping = False
        return len(batch)

    async def prune(self) -> int:
        """Delete one batch of records past the retention; how many went."""
        if self._options.retention_days <= 0:
            return 0
        before = self._clock() - self._options.retention_days * DAY_MS
        async with self._store.writer(invalidates=False) as uow:
            deleted = await uow.usage.prune(before_ms=before, limit=PRUNE_BATCH)
            await uow.commit()
        return deleted

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._options.flush_seconds):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
                if loop.time() >= self._next_prune:
                    more = await self.prune() == PRUNE_BATCH
                    self._next_prune = loop.time() + (0 if more else PRUNE_SECONDS)
            except Exception as exc:  # the store is down: the records wait for the next tick
                if not self._failing:
                    self._failing = True
                    log.warning("usage records wait: the store refused them: %s", exc)

    def gauges(self) -> list[tuple[str, str, str, float]]:
        """The recorder's numbers for /metrics."""
        return [
            (
                "modelplane_usage_records_written_total",
                "counter",
                "Usage records written to the store.",
                self.written,
            ),
            (
                "modelplane_usage_records_dropped_total",
                "counter",
                "Usage records dropped because too many waited for the store.",
                self.dropped,
            ),
            (
                "modelplane_usage_records_waiting",
                "gauge",
                "Usage records waiting to be written.",
                self.waiting,
            ),
        ]
