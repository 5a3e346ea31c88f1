"""Pages of a list: which page was asked for, and what came back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from modelplane.domain.errors import ViolationCollector

T = TypeVar("T")
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 500
PAGE_NUMBER_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Page `number` (1-based) of `size` items."""

    number: int = 1
    size: int = PAGE_SIZE_DEFAULT

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.number - 1) * self.size


def page_request(number: int | None = None, size: int | None = None) -> PageRequest:
    """Validate paging input; page 0 and page 1 both mean the first page."""
    errors = ViolationCollector()
    if number is not None and not 0 <= number <= PAGE_NUMBER_MAX:
        errors.add("pageNumber", f"must be 0..{PAGE_NUMBER_MAX} (0 and 1 both mean the first page)")
    if size is not None and not 1 <= size <= PAGE_SIZE_MAX:
        errors.add("pageSize", f"must be 1..{PAGE_SIZE_MAX}")
    errors.raise_if_any()
    return PageRequest(number=max(1, number or 1), size=size or PAGE_SIZE_DEFAULT)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the total count of matches."""

    items: list[T]
    number: int
    size: int
    total: int
