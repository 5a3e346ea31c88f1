"""The LLM repository."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from modelplane.domain.errors import AlreadyExists
from modelplane.domain.llms import RESOURCE, Llm, LlmFilter
from modelplane.store.engine import Connection
from modelplane.store.llm_rows import from_row, to_row
from modelplane.store.tables import llms

_DUPLICATE = (
    "an LLM with the same providerType, endpointUrl, apiPath, modelIdentifier and "
    "credentials already exists for this owner"
)
ID_IN_USE = "llmId is taken; choose another"
_COLUMNS = [c for c in llms.c if c.name != "credentials_sealed"]
_BY_ID = sa.select(*_COLUMNS).where(llms.c.llm_id == sa.bindparam("llm_id"))


class LlmRepository:
    """Reads and writes LLM rows inside one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, llm_id: str) -> Llm | None:
        """The LLM with this id, or None."""
        result = await self._conn.execute(_BY_ID, {"llm_id": llm_id})
        row = result.first()
        return from_row(row) if row is not None else None

    async def exists(self, llm_id: str) -> bool:
        """Whether any LLM (of any owner) has this id."""
        query = sa.select(llms.c.llm_id).where(llms.c.llm_id == llm_id)
        return (await self._conn.execute(query)).first() is not None

    async def find_duplicate(self, llm: Llm) -> str | None:
        """The id of another LLM of the same owner with the same connection, if any."""
        query = sa.select(llms.c.llm_id).where(
            llms.c.owner_id == llm.owner_id,
            llms.c.connection_key == llm.connection_key,
            llms.c.llm_id != llm.llm_id,
        )
        row = (await self._conn.execute(query)).first()
        return row.llm_id if row is not None else None

    async def matching(self, flt: LlmFilter, *, visible_to: str | None) -> list[Llm]:
        """LLMs matching `flt`; `visible_to` limits the result to one owner."""
        query = sa.select(*_COLUMNS).order_by(llms.c.created_at, llms.c.llm_id)
        if visible_to is not None:
            query = query.where(llms.c.owner_id == visible_to)
        if flt.owner_id is not None:
            query = query.where(llms.c.owner_id == flt.owner_id)
        if flt.provider_type is not None:
            query = query.where(llms.c.provider_type == flt.provider_type.value)
        for key, value in flt.labels.items():
            query = query.where(llms.c.labels[key].as_string() == value)
        result = await self._conn.execute(query)
        return [from_row(row) for row in result]

    async def page(
        self,
        flt: LlmFilter,
        *,
        visible_to: str | None,
        search: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Llm], int]:
        """One page of the LLMs matching `flt` (newest first) and how many match in all;
        `search` matches the display name or the model id, case-insensitively."""
        conditions: list[sa.ColumnElement[bool]] = []
        if visible_to is not None:
            conditions.append(llms.c.owner_id == visible_to)
        if flt.owner_id is not None:
            conditions.append(llms.c.owner_id == flt.owner_id)
        if flt.provider_type is not None:
            conditions.append(llms.c.provider_type == flt.provider_type.value)
        for key, value in flt.labels.items():
            conditions.append(llms.c.labels[key].as_string() == value)
        if search:
            pattern = (
                "%"
                + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            conditions.append(
                sa.or_(
                    sa.func.lower(llms.c.display_name).like(pattern, escape="\\"),
                    sa.func.lower(llms.c.model_identifier).like(pattern, escape="\\"),
                )
            )
        total_query = sa.select(sa.func.count()).select_from(llms).where(*conditions)
        total = int((await self._conn.execute(total_query)).scalar_one())
        newest_first = (llms.c.created_at.desc(), llms.c.llm_id.desc())
        # The page's ids from the ordering index alone, then only their rows.
        ids = (
            sa.select(llms.c.llm_id)
            .where(*conditions)
            .order_by(*newest_first)
            .offset(offset)
            .limit(limit)
            .scalar_subquery()
        )
        query = sa.select(*_COLUMNS).where(llms.c.llm_id.in_(ids)).order_by(*newest_first)
        return [from_row(row) for row in await self._conn.execute(query)], total

    async def add(self, llm: Llm, *, credentials_sealed: str | None) -> None:
        """Insert; a duplicate id or connection raises AlreadyExists."""
        statement = llms.insert().values(**to_row(llm), credentials_sealed=credentials_sealed)
        await self._execute_unique(statement)

    async def update(self, llm: Llm, *, credentials_sealed: str | None) -> None:
        """Write every column of `llm`; new sealed credentials only when given."""
        values = to_row(llm)
        if credentials_sealed is not None:
            values["credentials_sealed"] = credentials_sealed
        statement = llms.update().where(llms.c.llm_id == llm.llm_id).values(**values)
        await self._execute_unique(statement)

    async def delete(self, llm_id: str) -> bool:
        """Delete the row and its sealed credentials; whether one was deleted."""
        result = await self._conn.execute(llms.delete().where(llms.c.llm_id == llm_id))
        return bool(result.rowcount)

    async def by_key(self, key: str, *, visible_to: str | None) -> list[tuple[Llm, str | None]]:
        """The LLMs whose id or `modelIdentifier` is `key`, with their sealed credentials
        (the gateway's model names), oldest first."""
        c = llms.c
        query = sa.select(*_COLUMNS, c.credentials_sealed).where(
            sa.or_(c.llm_id == key, c.model_identifier == key)
        )
        if visible_to is not None:
            query = query.where(c.owner_id == visible_to)
        query = query.order_by(c.created_at, c.llm_id)
        return [(from_row(row), row.credentials_sealed) for row in await self._conn.execute(query)]

    async def sealed_credentials(self, llm_id: str) -> str | None:
        """The sealed credentials of one LLM."""
        query = sa.select(llms.c.credentials_sealed).where(llms.c.llm_id == llm_id)
        row = (await self._conn.execute(query)).first()
        return row.credentials_sealed if row is not None else None

    async def _execute_unique(self, statement: sa.Executable) -> None:
        try:
            await self._conn.execute(statement)
        except IntegrityError as exc:
            text = str(exc.orig)
            if "pk_llms" in text or "llms.llm_id" in text:
                raise AlreadyExists(RESOURCE, ID_IN_USE) from None
            raise AlreadyExists(RESOURCE, _DUPLICATE) from None
