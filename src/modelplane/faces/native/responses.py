"""Response shapes shared by every native route (errors, deletions)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldViolationOut(BaseModel):
    """One broken rule on one field."""

    field: str
    rule: str


class ErrorOut(BaseModel):
    """Every native error: `{code, message, details}`."""

    code: str
    message: str
    details: list[FieldViolationOut]


class DeletedOut(BaseModel):
    """Answer of a successful delete."""

    deleted: bool
    id: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "Invalid input; `details` names each field and rule",
        401: "Missing or invalid API key",
        403: "The caller lacks the permission",
        404: "Not found, or not visible to the caller",
        409: "Already exists",
        412: "Failed precondition",
        413: "Body over the size limit",
        503: "The store is unavailable",
    }.items()
}
