"""ReadCache serves an entry only while the store's version holds still."""

from __future__ import annotations

from collections.abc import Callable

from modelplane.store.cache import ReadCache


class FakeVersion:
    def __init__(self) -> None:
        self.value: int | None = 1

    def version(self) -> int | None:
        return self.value

    async def start(self, on_change: Callable[[], None]) -> None:
        return None

    def listen_topics(self, on_topic: Callable[[str | None], None]) -> None:
        return None

    async def stop(self) -> None:
        return None


def counting_loader() -> tuple[list[int], Callable[[], object]]:
    calls: list[int] = []

    async def load() -> int:
        calls.append(1)
        return len(calls)

    return calls, load


async def test_a_second_read_is_served_from_the_cache() -> None:
    cache = ReadCache(FakeVersion())
    calls, load = counting_loader()
    assert await cache.get_or_load("k", load) == 1  # type: ignore[arg-type]
    assert await cache.get_or_load("k", load) == 1  # type: ignore[arg-type]
    assert len(calls) == 1


async def test_a_version_change_drops_every_entry() -> None:
    version = FakeVersion()
    cache = ReadCache(version)
    _, load = counting_loader()
    await cache.get_or_load("k", load)  # type: ignore[arg-type]
    version.value = 2
    assert await cache.get_or_load("k", load) == 2  # type: ignore[arg-type]


async def test_nothing_is_cached_while_freshness_is_unknown() -> None:
    version = FakeVersion()
    version.value = None
    cache = ReadCache(version)
    calls, load = counting_loader()
    await cache.get_or_load("k", load)  # type: ignore[arg-type]
    await cache.get_or_load("k", load)  # type: ignore[arg-type]
    assert len(calls) == 2


async def test_a_result_loaded_while_the_store_changed_is_not_kept() -> None:
    version = FakeVersion()
    cache = ReadCache(version)
    calls: list[int] = []

    async def load_during_change() -> int:
        calls.append(1)
        version.value = (version.value or 0) + 1
        return len(calls)

    await cache.get_or_load("k", load_during_change)
    await cache.get_or_load("k", load_during_change)
    assert len(calls) == 2


async def test_a_local_clear_during_a_load_keeps_the_stale_result_out() -> None:
    cache = ReadCache(FakeVersion())
    calls: list[int] = []

    async def load_then_local_commit() -> int:
        calls.append(1)
        cache.clear()
        return len(calls)

    await cache.get_or_load("k", load_then_local_commit)
    await cache.get_or_load("k", load_then_local_commit)
    assert len(calls) == 2


def test_sqlite_probe_is_reused_for_at_most_its_window(tmp_path: object) -> None:
    import sqlalchemy as sa

    from modelplane.store.cache import SqliteDataVersion

    engine = sa.create_engine(f"sqlite:///{tmp_path}/probe.db")
    probe = SqliteDataVersion(engine, reuse=60.0)
    import asyncio

    asyncio.run(probe.start(lambda: None))
    first = probe.version()
    with engine.begin() as conn:  # another connection commits
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert probe.version() == first  # inside the reuse window
    probe._probed_at = -1.0  # the window has passed
    assert probe.version() != first
    asyncio.run(probe.stop())
