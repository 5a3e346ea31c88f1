# Generated from src/modelplane/client/async_all_pages.py by `python scripts/unasync.py`.
# Do not edit: change the async module and run the command again.
"""Walking every page of a list: by page number (`totalCount`) or by continuation token.

One loop of each kind for every `iter` of the resource groups. A page offers `items`,
and `total_count` (numbered) or `continuation` (token).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


class NumberedFetch(Protocol[T]):
    """Reads page `number` (counting from 1) of a list."""

    def __call__(self, number: int, /) -> NumberedPage[T]: ...


class TokenFetch(Protocol[T]):
    """Reads the page of a list that starts at `token` (None: the first page)."""

    def __call__(self, token: str | None, /) -> TokenPage[T]: ...


def by_number(fetch: NumberedFetch[Item]) -> Iterator[Item]:
    """Every item of pages 1, 2, … until `total_count` items were seen (or a page is empty)."""
    number, seen = 1, 0
    while True:
        page = fetch(number)
        yield from page.items
        seen += len(page.items)
        if not page.items or seen >= page.total_count:
            return
        number += 1


def by_token(fetch: TokenFetch[Item]) -> Iterator[Item]:
    """Every item, from the first page (token None) while a page names a next one."""
    token: str | None = None
    while True:
        page = fetch(token)
        yield from page.items
        token = page.continuation
        if not token:
            return
