"""SQL pieces the repositories share: a literal substring match and a portable upsert."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

LIKE_ESCAPE = "\\"


def contains(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """`column` holds `text` anywhere, in any case; `%` and `_` in `text` are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape=LIKE_ESCAPE)


def insert_for(table: sa.Table, *, is_postgres: bool) -> Any:
    """An INSERT of the store's dialect, which offers `on_conflict_do_…`."""
    if is_postgres:
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table)
