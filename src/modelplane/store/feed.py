"""Wake-ups for watchers: a topic (such as a config namespace) changed.

A writer announces topics in its unit of work; after the commit every watcher of those
topics in this process wakes at once, and on PostgreSQL a `NOTIFY` on `TOPIC_CHANNEL`
wakes the watchers of every other replica (no polling). A wake-up carries no data: the
watcher reads the state it wants, so a lost or repeated wake-up is harmless.
"""

from __future__ import annotations

import asyncio

TOPIC_CHANNEL = "modelplane_topics"


class ChangeFeed:
    """The watchers of each topic in this process."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._generations: dict[str, int] = {}

    def generation(self, topic: str) -> int:
        """How many times `topic` was published here: a read that starts in generation
        N starts after the change that published N."""
        return self._generations.get(topic, 0)

    def waiter(self, topic: str) -> asyncio.Future[None]:
        """A future that completes at the topic's next change; `discard` it when done."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(topic, set()).add(future)
        return future

    def discard(self, topic: str, future: asyncio.Future[None]) -> None:
        """Stop waiting on `future`."""
        waiting = self._waiters.get(topic)
        if waiting is not None:
            waiting.discard(future)
            if not waiting:
                del self._waiters[topic]

    def publish(self, topic: str) -> None:
        """Wake every watcher of `topic`."""
        self._generations[topic] = self._generations.get(topic, 0) + 1
        for future in self._waiters.pop(topic, ()):
            if not future.done():
                future.set_result(None)

    def publish_all(self) -> None:
        """Wake every watcher (after notifications may have been missed)."""
        for topic in list(self._waiters):
            self.publish(topic)

    def watchers(self) -> int:
        """How many watchers wait now."""
        return sum(len(w) for w in self._waiters.values())
