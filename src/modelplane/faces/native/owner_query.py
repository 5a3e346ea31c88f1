"""The `ownerId` query parameter of a write into what another principal owns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

NamedOwner = Annotated[
    str | None,
    Query(
        alias="ownerId",
        description="The principal that owns the namespace or workspace written into. A "
        "write into another principal's must name it (admins only; 412 without it, 403 for "
        "a member); a namespace nobody wrote to yet is created owned by it.",
    ),
]
