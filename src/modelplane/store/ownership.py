"""The repository of ownership across resources: count, hand over, drop memberships."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from modelplane.domain.errors import AlreadyExists
from modelplane.domain.llms import RESOURCE as LLM
from modelplane.domain.ownership import CONFIG_NAMESPACES, LLMS, MODEL_GROUPS, WORKSPACES
from modelplane.store.engine import Connection
from modelplane.store.tables import (
    config_namespaces,
    llms,
    model_groups,
    provider_templates,
    workspace_members,
    workspaces,
)

# Each kind that is counted, by its key, and its table (every one has an `owner_id`).
_COUNTED = {
    LLMS.key: llms,
    MODEL_GROUPS.key: model_groups,
    WORKSPACES.key: workspaces,
    CONFIG_NAMESPACES.key: config_namespaces,
}
# Provider templates carry their group's owner; they move with it and are not counted.
_MOVED = (*_COUNTED.values(), provider_templates)


class OwnershipRepository:
    """Who owns what, across every table with an owner, inside one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def counts(self, owner_id: str) -> dict[str, int]:
        """How many resources of each counted kind `owner_id` owns (zeros included)."""
        counts = [
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.owner_id == owner_id)
            .scalar_subquery()
            .label(key)
            for key, table in _COUNTED.items()
        ]
        row = (await self._conn.execute(sa.select(*counts))).one()  # one round trip
        return {key: int(row._mapping[key]) for key in _COUNTED}

    async def llm_collisions(self, owner_id: str, new_owner_id: str) -> list[tuple[str, str]]:
        """Pairs (LLM of `owner_id`, LLM of `new_owner_id`) with the same connection."""
        mine, theirs = llms.alias("mine"), llms.alias("theirs")
        query = (
            sa.select(mine.c.llm_id, theirs.c.llm_id.label("other_id"))
            .join(theirs, theirs.c.connection_key == mine.c.connection_key)
            .where(mine.c.owner_id == owner_id, theirs.c.owner_id == new_owner_id)
            .order_by(mine.c.llm_id)
        )
        return [(row.llm_id, row.other_id) for row in await self._conn.execute(query)]

    async def transfer(self, owner_id: str, new_owner_id: str) -> None:
        """Give everything `owner_id` owns to `new_owner_id`.

        A collision that `llm_collisions` could not see yet (a concurrent create) still
        raises AlreadyExists, by the unique index.
        """
        try:
            for table in _MOVED:
                await self._conn.execute(
                    table.update().where(table.c.owner_id == owner_id).values(owner_id=new_owner_id)
                )
        except IntegrityError:
            raise AlreadyExists(
                LLM, f"an LLM of {owner_id} has the same connection as one of {new_owner_id}"
            ) from None

    async def drop_memberships(self, principal_id: str) -> int:
        """Remove the principal from every workspace; how many memberships it had."""
        m = workspace_members.c
        result = await self._conn.execute(
            workspace_members.delete().where(m.principal_id == principal_id)
        )
        return int(result.rowcount)
