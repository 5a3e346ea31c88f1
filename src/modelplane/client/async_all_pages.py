"""Walking every page of a list: by page number (`totalCount`) or by continuation token.

One loop of each kind for every `iter` of the resource groups. A page offers `items`,
and `total_count` (numbered) or `continuation` (token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
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


class AsyncNumberedFetch(Protocol[T]):
    """Reads page `number` (counting from 1) of a list."""

    async def __call__(self, number: int, /) -> NumberedPage[T]: ...


class AsyncTokenFetch(Protocol[T]):
    """Reads the page of a list that starts at `token` (None: the first page)."""

    async def __call__(self, token: str | None, /) -> TokenPage[T]: ...


async def by_number(fetch: AsyncNumberedFetch[Item]) -> AsyncIterator[Item]:
    """Every item of pages 1, 2, … until `total_count` items were seen (or a page is empty)."""
    number, seen = 1, 0
    while True:
        page = await fetch(number)
        for item in page.items:
            yield item
        seen += len(page.items)
        if not page.items or seen >= page.total_count:
            return
        number += 1


async def by_token(fetch: AsyncTokenFetch[Item]) -> AsyncIterator[Item]:
    """Every item, from the first page (token None) while a page names a next one."""
    token: str | None = None
    while True:
        page = await fetch(token)
        for item in page.items:
            yield item
        token = page.continuation
        if not token:
            return
