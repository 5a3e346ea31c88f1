"""Walking every page of a list: by page number (`totalCount`) or by continuation token.

One loop of each kind, sync and async, for every `iter` of the resource groups. A page
offers `items`, and `total_count` (numbered) or `continuation` (token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T", covariant=True)
Item = TypeVar("Item")


class NumberedPage(Protocol[T]):
    """A page of a list numbered 1, 2, … that tells how many items there are in all."""

    @property
    def items(self) -> Sequence[T]: ...

    @property
    def total_count(self) -> int: ...


class TokenPage(Protocol[T]):
    """A page of a list that names where the next one starts (None on the last)."""

    @property
    def items(self) -> Sequence[T]: ...

    @property
    def continuation(self) -> str | None: ...


def _more(page: NumberedPage[object], seen: int) -> bool:
    """Whether pages remain: this one had items and fewer than `total_count` were seen."""
    return bool(page.items) and seen < page.total_count


def by_number(fetch: Callable[[int], NumberedPage[Item]]) -> Iterator[Item]:
    """Every item of pages 1, 2, … until `total_count` items were seen (or a page is empty)."""
    number, seen = 1, 0
    while True:
        page = fetch(number)
        yield from page.items
        seen += len(page.items)
        if not _more(page, seen):
            return
        number += 1


async def by_number_async(
    fetch: Callable[[int], Awaitable[NumberedPage[Item]]],
) -> AsyncIterator[Item]:
    """`by_number` for an async `fetch`."""
    number, seen = 1, 0
    while True:
        page = await fetch(number)
        for item in page.items:
            yield item
        seen += len(page.items)
        if not _more(page, seen):
            return
        number += 1


def by_token(fetch: Callable[[str | None], TokenPage[Item]]) -> Iterator[Item]:
    """Every item, from the first page (token None) while a page names a next one."""
    token: str | None = None
    while True:
        page = fetch(token)
        yield from page.items
        token = page.continuation
        if not token:
            return


async def by_token_async(
    fetch: Callable[[str | None], Awaitable[TokenPage[Item]]],
) -> AsyncIterator[Item]:
    """`by_token` for an async `fetch`."""
    token: str | None = None
    while True:
        page = await fetch(token)
        for item in page.items:
            yield item
        token = page.continuation
        if not token:
            return
