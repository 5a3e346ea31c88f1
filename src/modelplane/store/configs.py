"""The repository of dynamic parameters: namespaces, their parameters and their history.

The history holds one row per parameter changed at each revision (a batch or a revert
changes several at one revision), with the value and format written, so that the state at
any revision is the newest row of each key at or before it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from modelplane.domain.config_formats import ConfigFormat
from modelplane.domain.configs import (
    Candidate,
    CandidateItem,
    Change,
    ChangeKind,
    Config,
    Namespace,
    NamespaceKey,
    WriteOp,
)
from modelplane.store.engine import Connection
from modelplane.store.sql import insert_for
from modelplane.store.tables import (
    config_candidate_items,
    config_candidates,
    config_history,
    config_namespaces,
    configs,
)

N, C, H = config_namespaces.c, configs.c, config_history.c
CA, CI = config_candidates.c, config_candidate_items.c
_CHUNK = 500  # keys per IN (...) list: far below every driver's limit of parameters


def _of(table_c: Any, key: NamespaceKey) -> sa.ColumnElement[bool]:
    return sa.and_(table_c.cluster_id == key.cluster_id, table_c.name == key.name)


def _config(row: Any) -> Config:
    return Config(
        key=row.config_key,
        value=row.value,
        created_at=row.created_at,
        updated_at=row.updated_at,
        revision=row.revision,
        format=ConfigFormat(row.format),
    )


def _change(row: Any) -> Change:
    return Change(
        revision=row.revision,
        key=row.config_key,
        kind=ChangeKind(row.kind),
        value=row.value,
        actor_id=row.actor_id,
        at=row.at,
        format=ConfigFormat(row.format) if row.format is not None else None,
    )


class ConfigRepository:
    """Reads and writes dynamic parameters inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def snapshot(self) -> None:
        """Make every later read of this (read) transaction see one state of the store.

        SQLite does so anyway (a read transaction reads one snapshot); PostgreSQL's
        default, READ COMMITTED, gives each statement its own, so a write that commits
        between two reads would show in the second only. Call before the first read.
        """
        if self._is_postgres:
            await self._conn.execute(
                sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            )

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

    async def namespace_page(
        self, *, owner_id: str | None, search: str | None, offset: int, limit: int
    ) -> tuple[list[Namespace], int]:
        """A page of the namespaces (of `owner_id` when given; whose cluster or name holds
        `search`, case-insensitively) in key order, and how many match."""
        where: list[sa.ColumnElement[bool]] = []
        if owner_id is not None:
            where.append(N.owner_id == owner_id)
        if search:
            escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%")
            pattern = "%" + escaped.replace("_", "\\_") + "%"
            where.append(
                sa.or_(
                    sa.func.lower(N.cluster_id).like(pattern, escape="\\"),
                    sa.func.lower(N.name).like(pattern, escape="\\"),
                )
            )
        total = (
            await self._conn.execute(
                sa.select(sa.func.count()).select_from(config_namespaces).where(*where)
            )
        ).scalar_one()
        order: list[Any] = [N.cluster_id, N.name]
        if self._is_postgres:  # byte order, as SQLite sorts, whatever the database collation
            order = [column.collate("C") for column in order]
        query = (
            sa.select(config_namespaces).where(*where).order_by(*order).limit(limit).offset(offset)
        )
        rows = (await self._conn.execute(query)).all()
        found = [
            Namespace(
                NamespaceKey(row.cluster_id, row.name),
                row.owner_id,
                row.revision,
                row.created_at,
                row.updated_at,
            )
            for row in rows
        ]
        return found, int(total)

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

    async def get_many(self, key: NamespaceKey, config_keys: list[str]) -> dict[str, Config]:
        """The parameters of `config_keys` that exist, by key."""
        found: dict[str, Config] = {}
        for start in range(0, len(config_keys), _CHUNK):
            chunk = config_keys[start : start + _CHUNK]
            query = sa.select(configs).where(_of(C, key), C.config_key.in_(chunk))
            found.update((row.config_key, _config(row)) for row in await self._conn.execute(query))
        return found

    async def put(self, key: NamespaceKey, config: Config, *, new: bool) -> None:
        """Insert (`new`) or overwrite a parameter."""
        await self.put_many(key, [config] if new else [], [] if new else [config])

    async def put_many(
        self, key: NamespaceKey, created: list[Config], updated: list[Config]
    ) -> None:
        """Insert the `created` parameters and overwrite the `updated` ones."""
        if created:
            await self._conn.execute(
                configs.insert(),
                [
                    {
                        "cluster_id": key.cluster_id,
                        "name": key.name,
                        "config_key": c.key,
                        "created_at": c.created_at,
                        "value": c.value,
                        "format": c.format.value,
                        "revision": c.revision,
                        "updated_at": c.updated_at,
                    }
                    for c in created
                ],
            )
        if updated:
            await self._conn.execute(
                configs.update()
                .where(_of(C, key), C.config_key == sa.bindparam("b_key"))
                .values(
                    value=sa.bindparam("b_value"),
                    format=sa.bindparam("b_format"),
                    revision=sa.bindparam("b_revision"),
                    updated_at=sa.bindparam("b_updated_at"),
                ),
                [
                    {
                        "b_key": c.key,
                        "b_value": c.value,
                        "b_format": c.format.value,
                        "b_revision": c.revision,
                        "b_updated_at": c.updated_at,
                    }
                    for c in updated
                ],
            )

    async def delete(self, key: NamespaceKey, config_key: str) -> int:
        """Delete a parameter; how many rows went."""
        result = await self._conn.execute(
            configs.delete().where(_of(C, key), C.config_key == config_key)
        )
        return int(result.rowcount)

    async def delete_many(self, key: NamespaceKey, config_keys: list[str]) -> int:
        """Delete parameters; how many rows went."""
        gone = 0
        for start in range(0, len(config_keys), _CHUNK):
            chunk = config_keys[start : start + _CHUNK]
            result = await self._conn.execute(
                configs.delete().where(_of(C, key), C.config_key.in_(chunk))
            )
            gone += int(result.rowcount)
        return gone

    async def record(self, key: NamespaceKey, change: Change) -> None:
        """Add a history entry."""
        await self.record_many(key, [change])

    async def record_many(self, key: NamespaceKey, changes: list[Change]) -> None:
        """Add history entries."""
        if not changes:
            return
        await self._conn.execute(
            config_history.insert(),
            [
                {
                    "cluster_id": key.cluster_id,
                    "name": key.name,
                    "revision": change.revision,
                    "config_key": change.key,
                    "kind": change.kind.value,
                    "value": change.value,
                    "format": change.format.value if change.format is not None else None,
                    "actor_id": change.actor_id,
                    "at": change.at,
                }
                for change in changes
            ],
        )

    async def state_at(self, key: NamespaceKey, revision: int) -> dict[str, Change]:
        """The newest history entry of each key at or before `revision` that is not a
        delete: the parameters the namespace held at `revision`, by key."""
        h2 = config_history.alias("h2")
        newest = (
            sa.select(sa.func.max(h2.c.revision))
            .where(
                _of(h2.c, key),
                h2.c.config_key == H.config_key,
                h2.c.revision <= revision,
            )
            .scalar_subquery()
        )
        query = sa.select(config_history).where(
            _of(H, key),
            H.revision <= revision,
            H.revision == newest,
            H.kind != ChangeKind.DELETE.value,
        )
        return {row.config_key: _change(row) for row in await self._conn.execute(query)}

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
        query = query.order_by(H.revision.desc(), H.config_key).limit(limit)
        return [_change(row) for row in await self._conn.execute(query)]

    # --- the candidate (gray release) -----------------------------------------------------

    async def candidate_version(self, key: NamespaceKey) -> int:
        """The namespace's candidate counter (0 for a namespace never written)."""
        query = sa.select(N.candidate_version).where(_of(N, key))
        found = (await self._conn.execute(query)).scalar_one_or_none()
        return int(found or 0)

    async def bump_candidate_version(self, key: NamespaceKey) -> int:
        """Add one to the (locked) namespace's candidate counter; the new value."""
        await self._conn.execute(
            config_namespaces.update()
            .where(_of(N, key))
            .values(candidate_version=N.candidate_version + 1)
        )
        return await self.candidate_version(key)

    async def candidate(self, key: NamespaceKey) -> Candidate | None:
        """The namespace's open candidate with its changes in the order given."""
        row = (await self._conn.execute(sa.select(config_candidates).where(_of(CA, key)))).first()
        if row is None:
            return None
        query = sa.select(config_candidate_items).where(_of(CI, key)).order_by(CI.position)
        items = [
            CandidateItem(
                item.config_key,
                WriteOp(item.op),
                item.value,
                ConfigFormat(item.format) if item.format is not None else None,
            )
            for item in await self._conn.execute(query)
        ]
        return Candidate(
            key=key,
            candidate_id=row.candidate_id,
            version=row.version,
            labels=list(row.labels),
            items=items,
            base_revision=row.base_revision,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def put_candidate(self, candidate: Candidate) -> None:
        """Write the namespace's candidate, replacing the one it has."""
        await self.drop_candidate(candidate.key)
        key = candidate.key
        await self._conn.execute(
            config_candidates.insert().values(
                cluster_id=key.cluster_id,
                name=key.name,
                candidate_id=candidate.candidate_id,
                version=candidate.version,
                labels=list(candidate.labels),
                base_revision=candidate.base_revision,
                created_by=candidate.created_by,
                created_at=candidate.created_at,
                updated_at=candidate.updated_at,
            )
        )
        await self._conn.execute(
            config_candidate_items.insert(),
            [
                {
                    "cluster_id": key.cluster_id,
                    "name": key.name,
                    "config_key": item.key,
                    "position": position,
                    "op": item.op.value,
                    "value": item.value,
                    "format": item.format.value if item.format is not None else None,
                }
                for position, item in enumerate(candidate.items)
            ],
        )

    async def drop_candidate(self, key: NamespaceKey) -> int:
        """Delete the namespace's candidate and its changes; how many candidates went."""
        await self._conn.execute(config_candidate_items.delete().where(_of(CI, key)))
        result = await self._conn.execute(config_candidates.delete().where(_of(CA, key)))
        return int(result.rowcount)
