"""Pieces shared by RPC response bodies: pages, times, JSON text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from modelplane.domain.paging import Page
from modelplane.faces.jsonresponse import json_bytes

T = TypeVar("T")


def compact(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value (Alibaba leaves absent fields out)."""
    return {k: v for k, v in fields.items() if v is not None}


def json_text(value: Any) -> str:
    """A JSON value as text, as `Config` fields travel."""
    return json_bytes(value).decode()


def iso_time(epoch_ms: int) -> str:
    """UTC ISO 8601 with milliseconds, as `PublishedTime`: `2026-03-04T06:25:17.000+00:00`."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds")


def paged(page: Page[T], row: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """`{PageNumber, PageSize, TotalCount, Data}` of a list call."""
    return {
        "PageNumber": page.number,
        "PageSize": page.size,
        "TotalCount": page.total,
        "Data": [row(item) for item in page.items],
    }
