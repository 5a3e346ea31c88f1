"""Every column that holds values sealed by the secret box, read and rewritten in place.

Used to re-encrypt secrets at rest under a new master key. A new sealed column in
`tables.py` must be listed in `SEALED_COLUMNS` (a unit test checks that it is).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from modelplane.store.engine import Connection
from modelplane.store.tables import access_keys, llms, provider_templates, runtime_gateway_keys


@dataclass(frozen=True)
class SealedColumn:
    """A sealed column and the primary key column of its rows."""

    table: sa.Table
    row_id: str
    column: str

    @property
    def name(self) -> str:
        """`table.column`, as named in messages."""
        return f"{self.table.name}.{self.column}"


LLM_CREDENTIALS = SealedColumn(llms, "llm_id", "credentials_sealed")
PROVIDER_API_KEYS = SealedColumn(provider_templates, "provider_template_id", "api_key_sealed")
ACCESS_KEY_SECRETS = SealedColumn(access_keys, "access_key_id", "secret_sealed")
RUNTIME_GATEWAY_TOKENS = SealedColumn(runtime_gateway_keys, "api_key_id", "token_sealed")
SEALED_COLUMNS = (LLM_CREDENTIALS, PROVIDER_API_KEYS, ACCESS_KEY_SECRETS, RUNTIME_GATEWAY_TOKENS)


@dataclass(frozen=True)
class SealedValue:
    """One row's sealed value."""

    row_id: str
    sealed: str


class SealedRepository:
    """Reads and rewrites sealed values inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def values(self, column: SealedColumn, *, lock: bool = False) -> list[SealedValue]:
        """Every non-null value of `column`, by row id.

        With `lock`, no other writer can change or delete those rows until this unit of
        work ends (on SQLite every writer already holds the database's write lock).
        """
        row_id, sealed = column.table.c[column.row_id], column.table.c[column.column]
        query = (
            sa.select(row_id.label("row_id"), sealed.label("sealed"))
            .where(sealed.is_not(None))
            .order_by(row_id)
        )
        if lock and self._is_postgres:
            query = query.with_for_update()
        return [SealedValue(row.row_id, row.sealed) for row in await self._conn.execute(query)]

    async def replace(self, column: SealedColumn, row_id: str, *, old: str, new: str) -> bool:
        """Put `new` where the row holds `old`; False when it no longer does."""
        table = column.table
        statement = (
            table.update()
            .where(table.c[column.row_id] == row_id, table.c[column.column] == old)
            .values({column.column: new})
        )
        result = await self._conn.execute(statement)
        return bool(result.rowcount)
