"""The repository of dynamic parameters: namespaces, their parameters and their history."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from modelplane.domain.configs import Change, ChangeKind, Config, Namespace, NamespaceKey
from modelplane.store.engine import Connection
from modelplane.store.sql import insert_for
from modelplane.store.tables import config_history, config_namespaces, configs

N, C, H = config_namespaces.c, configs.c, config_history.c


def _of(table_c: Any, key: NamespaceKey) -> sa.ColumnElement[bool]:
    return sa.and_(table_c.cluster_id == key.cluster_id, table_c.name == key.name)


def _config(row: Any) -> Config:
    return Config(
        key=row.config_key,
        value=row.value,
        created_at=row.created_at,
        updated_at=row.updated_at,
        revision=row.revision,
    )


class ConfigRepository:
    """Reads and writes dynamic parameters inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def namespace(self, key: NamespaceKey, *, lock: bool = False) -> Namespace | None:
        """A namespace; with `lock`, other writers of it wait until this one commits."""
        query = sa.select(config_namespaces).where(_of(N, key))
        if lock and self._is_postgres:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return Namespace(key, row.owner_id, row.revision, row.created_at, row.updated_at)

    async def namespaces(self, *, owner_id: str | None) -> list[Namespace]:
        """Every namespace (of `owner_id` when given) that was ever written, in key order."""
        order: list[Any] = [N.cluster_id, N.name]
        if self._is_postgres:  # byte order, as SQLite sorts, whatever the database collation
            order = [column.collate("C") for column in order]
        query = sa.select(config_namespaces).order_by(*order)
        if owner_id is not None:
            query = query.where(N.owner_id == owner_id)
        rows = (await self._conn.execute(query)).all()
        return [
            Namespace(
                NamespaceKey(row.cluster_id, row.name),
                row.owner_id,
                row.revision,
                row.created_at,
                row.updated_at,
            )
            for row in rows
        ]

    async def claim(self, key: NamespaceKey, *, owner_id: str, now_ms: int) -> Namespace:
        """The namespace, locked; created for `owner_id` if nobody wrote to it before."""
        await self._conn.execute(
            insert_for(config_namespaces, is_postgres=self._is_postgres)
            .values(
                cluster_id=key.cluster_id,
                name=key.name,
                owner_id=owner_id,
                revision=0,
                created_at=now_ms,
                updated_at=now_ms,
            )
            .on_conflict_do_nothing(index_elements=["cluster_id", "name"])
        )
        found = await self.namespace(key, lock=True)
        assert found is not None
        return found

    async def bump(self, key: NamespaceKey, *, revision: int, now_ms: int) -> None:
        """Set the namespace's revision."""
        await self._conn.execute(
            config_namespaces.update()
            .where(_of(N, key))
            .values(revision=revision, updated_at=now_ms)
        )

    async def get(self, key: NamespaceKey, config_key: str) -> Config | None:
        """One parameter."""
        query = sa.select(configs).where(_of(C, key), C.config_key == config_key)
        row = (await self._conn.execute(query)).first()
        return _config(row) if row is not None else None

    async def put(self, key: NamespaceKey, config: Config, *, new: bool) -> None:
        """Insert (`new`) or overwrite a parameter."""
        values = {
            "value": config.value,
            "revision": config.revision,
            "updated_at": config.updated_at,
        }
        if new:
            await self._conn.execute(
                configs.insert().values(
                    cluster_id=key.cluster_id,
                    name=key.name,
                    config_key=config.key,
                    created_at=config.created_at,
                    **values,
                )
            )
        else:
            await self._conn.execute(
                configs.update().where(_of(C, key), C.config_key == config.key).values(**values)
            )

    async def delete(self, key: NamespaceKey, config_key: str) -> int:
        """Delete a parameter; how many rows went."""
        result = await self._conn.execute(
            configs.delete().where(_of(C, key), C.config_key == config_key)
        )
        return int(result.rowcount)

    async def record(self, key: NamespaceKey, change: Change) -> None:
        """Add a history entry."""
        await self._conn.execute(
            config_history.insert().values(
                cluster_id=key.cluster_id,
                name=key.name,
                revision=change.revision,
                config_key=change.key,
                kind=change.kind.value,
                value=change.value,
                actor_id=change.actor_id,
                at=change.at,
            )
        )

    async def page(self, key: NamespaceKey, *, offset: int, limit: int) -> tuple[list[Config], int]:
        """A page of parameters in key order, and how many there are."""
        total = (
            await self._conn.execute(sa.select(sa.func.count()).where(_of(C, key)))
        ).scalar_one()
        query = (
            sa.select(configs).where(_of(C, key)).order_by(C.config_key).limit(limit).offset(offset)
        )
        return [_config(row) for row in await self._conn.execute(query)], int(total)

    async def all(self, key: NamespaceKey) -> list[Config]:
        """Every parameter of a namespace in key order."""
        query = sa.select(configs).where(_of(C, key)).order_by(C.config_key)
        return [_config(row) for row in await self._conn.execute(query)]

    async def set_since(self, key: NamespaceKey, revision: int) -> list[Config]:
        """The parameters created or changed after `revision`, in key order."""
        query = sa.select(configs).where(_of(C, key), C.revision > revision).order_by(C.config_key)
        return [_config(row) for row in await self._conn.execute(query)]

    async def deleted_since(self, key: NamespaceKey, revision: int) -> list[str]:
        """The keys deleted after `revision` that do not exist now, sorted."""
        present = sa.exists().where(_of(C, key), C.config_key == H.config_key)
        query = (
            sa.select(H.config_key)
            .distinct()
            .where(
                _of(H, key),
                H.revision > revision,
                H.kind == ChangeKind.DELETE.value,
                ~present,
            )
        )
        return sorted(row.config_key for row in await self._conn.execute(query))

    async def history(
        self, key: NamespaceKey, *, config_key: str | None, limit: int
    ) -> list[Change]:
        """The newest `limit` changes (of one parameter, if given), newest first."""
        query = sa.select(config_history).where(_of(H, key))
        if config_key is not None:
            query = query.where(H.config_key == config_key)
        query = query.order_by(H.revision.desc()).limit(limit)
        return [
            Change(
                revision=row.revision,
                key=row.config_key,
                kind=ChangeKind(row.kind),
                value=row.value,
                actor_id=row.actor_id,
                at=row.at,
            )
            for row in await self._conn.execute(query)
        ]
