"""The model catalog repository: groups, provider templates, LLM templates."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from modelplane.domain.catalog import (
    GROUP,
    GROUP_ID_TAKEN,
    LLM_TEMPLATE,
    PROVIDER,
    GroupFilter,
    GroupSummary,
    LlmTemplate,
    ModelGroup,
    ProviderFilter,
    ProviderKind,
    ProviderTemplate,
    TemplateFilter,
)
from modelplane.domain.errors import AlreadyExists
from modelplane.domain.paging import PageRequest
from modelplane.domain.runtimes import BoundRuntime, RuntimeKey
from modelplane.store.engine import Connection
from modelplane.store.sql import contains, insert_for
from modelplane.store.tables import (
    api_keys,
    llm_templates,
    model_groups,
    provider_templates,
    runtime_bindings,
    runtime_gateway_keys,
)

_PROVIDER_COLUMNS = [c for c in provider_templates.c if c.name != "api_key_sealed"]


def _group(row: Any) -> ModelGroup:
    return ModelGroup(
        model_template_id=row.model_template_id,
        owner_id=row.owner_id,
        name=row.name,
        description=row.description,
        agent_platform=row.agent_platform,
        agent_provider=row.agent_provider,
        biz_type=row.biz_type,
        ref_scope=row.ref_scope,
        config=dict(row.config),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _provider(row: Any) -> ProviderTemplate:
    return ProviderTemplate(
        provider_template_id=row.provider_template_id,
        model_template_id=row.model_template_id,
        owner_id=row.owner_id,
        name=row.name,
        provider_name=row.provider_name,
        provider_type=ProviderKind(row.provider_type),
        description=row.description,
        base_url=row.base_url,
        api=row.api,
        has_api_key=bool(row.has_api_key),
        enable_wuying_proxy=bool(row.enable_wuying_proxy),
        created_at=row.created_at,
        updated_at=row.updated_at,
        api_key_hint=row.api_key_hint,
    )


def _template(row: Any, prefix: str = "") -> LlmTemplate:
    """An LLM template from `row`, whose columns may carry `prefix` (in a join)."""
    m = row._mapping
    return LlmTemplate(
        llm_template_id=m[prefix + "llm_template_id"],
        provider_template_id=m[prefix + "provider_template_id"],
        model_template_id=m[prefix + "model_template_id"],
        llm_code=m[prefix + "llm_code"],
        name=m[prefix + "name"],
        description=m[prefix + "description"],
        config=dict(m[prefix + "config"]),
        is_default_model=bool(m[prefix + "is_default_model"]),
        created_at=m[prefix + "created_at"],
    )


_KEEP: Any = object()  # "leave the sealed API key as it is"


async def _page(
    conn: Connection, query: sa.Select[Any], order: list[Any], page: PageRequest
) -> tuple[list[Any], int]:
    """One page of `query` in `order`, and the number of rows `query` matches."""
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    ).scalar_one()
    rows = await conn.execute(query.order_by(*order).limit(page.size).offset(page.offset))
    return list(rows), int(total)


_PROVIDER_SELECT = sa.select(
    *_PROVIDER_COLUMNS, provider_templates.c.api_key_sealed.is_not(None).label("has_api_key")
)


class CatalogRepository:
    """Reads and writes the catalog inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def add_group(self, group: ModelGroup) -> None:
        """Insert a model group; a taken id raises AlreadyExists."""
        statement = model_groups.insert().values(
            model_template_id=group.model_template_id,
            owner_id=group.owner_id,
            name=group.name,
            description=group.description,
            agent_platform=group.agent_platform,
            agent_provider=group.agent_provider,
            biz_type=group.biz_type,
            ref_scope=group.ref_scope,
            config=group.config,
            created_at=group.created_at,
            updated_at=group.updated_at,
        )
        try:
            await self._conn.execute(statement)
        except IntegrityError:  # a concurrent create took the id
            message = GROUP_ID_TAKEN.format(id=group.model_template_id)
            raise AlreadyExists(GROUP, message) from None

    async def get_group(
        self, group_id: str, *, lock: bool = False, share: bool = False
    ) -> ModelGroup | None:
        """A group; with `lock`, writers of the same group wait until this one commits;
        with `share`, this waits for them and they for it, while other sharers go on.

        On SQLite every writer already holds the database's write lock, and a reader
        sees one snapshot.
        """
        query = sa.select(model_groups).where(model_groups.c.model_template_id == group_id)
        if (lock or share) and self._is_postgres:
            query = query.with_for_update(read=not lock)
        row = (await self._conn.execute(query)).first()
        return _group(row) if row is not None else None

    async def save_group(self, group: ModelGroup) -> None:
        """Write a group's changeable fields."""
        await self._conn.execute(
            model_groups.update()
            .where(model_groups.c.model_template_id == group.model_template_id)
            .values(
                name=group.name,
                description=group.description,
                ref_scope=group.ref_scope,
                config=group.config,
                updated_at=group.updated_at,
            )
        )

    async def set_default(self, provider_id: str, llm_code: str) -> None:
        """Flag one LLM template as its group's default (clear the old one first)."""
        await self._conn.execute(
            llm_templates.update()
            .where(
                llm_templates.c.provider_template_id == provider_id,
                llm_templates.c.llm_code == llm_code,
            )
            .values(is_default_model=True)
        )

    async def add_provider(self, provider: ProviderTemplate, *, api_key_sealed: str | None) -> None:
        """Insert a provider template; a name taken in the group raises AlreadyExists."""
        try:
            await self._conn.execute(
                provider_templates.insert().values(
                    provider_template_id=provider.provider_template_id,
                    model_template_id=provider.model_template_id,
                    owner_id=provider.owner_id,
                    name=provider.name,
                    provider_name=provider.provider_name,
                    provider_type=provider.provider_type.value,
                    description=provider.description,
                    base_url=provider.base_url,
                    api=provider.api,
                    api_key_sealed=api_key_sealed,
                    api_key_hint=provider.api_key_hint,
                    enable_wuying_proxy=provider.enable_wuying_proxy,
                    created_at=provider.created_at,
                    updated_at=provider.updated_at,
                )
            )
        except IntegrityError:
            raise AlreadyExists(
                PROVIDER,
                f"ProviderName {provider.provider_name!r} already exists in model group "
                f"{provider.model_template_id}",
            ) from None

    async def get_provider(self, provider_id: str) -> ProviderTemplate | None:
        """A provider template."""
        query = _PROVIDER_SELECT.where(provider_templates.c.provider_template_id == provider_id)
        row = (await self._conn.execute(query)).first()
        return _provider(row) if row is not None else None

    async def sealed_api_key(self, provider_id: str) -> str | None:
        """The sealed API key of a provider template."""
        query = sa.select(provider_templates.c.api_key_sealed).where(
            provider_templates.c.provider_template_id == provider_id
        )
        row = (await self._conn.execute(query)).first()
        return row.api_key_sealed if row is not None else None

    async def providers_of(self, group_id: str) -> list[ProviderTemplate]:
        """The provider templates of a group, oldest first."""
        query = _PROVIDER_SELECT.where(provider_templates.c.model_template_id == group_id).order_by(
            provider_templates.c.created_at, provider_templates.c.provider_template_id
        )
        return [_provider(row) for row in await self._conn.execute(query)]

    async def codes_of(self, provider_id: str, among: set[str] | None = None) -> set[str]:
        """The LLM codes a provider template already has (only those `among`, if given)."""
        t = llm_templates.c
        query = sa.select(t.llm_code).where(t.provider_template_id == provider_id)
        if among is not None and self._is_postgres:
            # A join on the unnested codes probes the (provider, code) index once per code.
            # `llm_code IN (…)` would be scanned linearly per row once PostgreSQL settles on
            # a generic plan for the prepared statement.
            wanted = (
                sa.func.unnest(sa.bindparam("wanted", sorted(among), type_=ARRAY(sa.String)))
                .table_valued("code")
                .render_derived(name="wanted")
            )
            query = query.join_from(llm_templates, wanted, t.llm_code == wanted.c.code)
        elif among is not None:
            query = query.where(t.llm_code.in_(sorted(among)))
        return {row.llm_code for row in await self._conn.execute(query)}

    async def clear_default(self, group_id: str) -> None:
        """Unflag the group's default model, if any."""
        await self._conn.execute(
            llm_templates.update()
            .where(
                llm_templates.c.model_template_id == group_id,
                # Written as the partial unique index's own predicate, so that it is used.
                llm_templates.c.is_default_model,
            )
            .values(is_default_model=False)
        )

    async def add_templates(self, templates: list[LlmTemplate]) -> None:
        """Insert LLM templates in one statement; a taken code raises AlreadyExists."""
        if not templates:
            return
        rows = [
            {
                "llm_template_id": t.llm_template_id,
                "provider_template_id": t.provider_template_id,
                "model_template_id": t.model_template_id,
                "llm_code": t.llm_code,
                "name": t.name,
                "description": t.description,
                "config": t.config,
                "is_default_model": t.is_default_model,
                "created_at": t.created_at,
            }
            for t in templates
        ]
        try:
            await self._conn.execute(llm_templates.insert(), rows)
        except IntegrityError:
            raise AlreadyExists(
                LLM_TEMPLATE, "an LLM template with one of these codes was created meanwhile"
            ) from None

    async def get_template(self, template_id: str) -> LlmTemplate | None:
        """One LLM template."""
        query = sa.select(llm_templates).where(llm_templates.c.llm_template_id == template_id)
        row = (await self._conn.execute(query)).first()
        return _template(row) if row is not None else None

    async def save_template(self, template: LlmTemplate) -> None:
        """Write an LLM template's name, description and config (its code, provider and
        default flag are not changed here)."""
        await self._conn.execute(
            llm_templates.update()
            .where(llm_templates.c.llm_template_id == template.llm_template_id)
            .values(name=template.name, description=template.description, config=template.config)
        )

    async def delete_template(self, template_id: str) -> None:
        """Delete one LLM template."""
        await self._conn.execute(
            llm_templates.delete().where(llm_templates.c.llm_template_id == template_id)
        )

    async def templates_of_group(self, group_id: str) -> list[LlmTemplate]:
        """Every LLM template of a group, oldest first."""
        query = (
            sa.select(llm_templates)
            .where(llm_templates.c.model_template_id == group_id)
            .order_by(llm_templates.c.created_at, llm_templates.c.llm_template_id)
        )
        return [_template(row) for row in await self._conn.execute(query)]

    async def list_groups(
        self, flt: GroupFilter, page: PageRequest, *, visible_to: str | None
    ) -> tuple[list[GroupSummary], int]:
        """A page of groups matching `flt`, with their model counts; and the total."""
        counts = (
            sa.select(llm_templates.c.model_template_id, sa.func.count().label("n"))
            .group_by(llm_templates.c.model_template_id)
            .subquery()
        )
        model_count = sa.func.coalesce(counts.c.n, 0)
        query = sa.select(model_groups, model_count.label("model_count")).outerjoin(
            counts, counts.c.model_template_id == model_groups.c.model_template_id
        )
        g = model_groups.c
        if visible_to is not None:
            query = query.where(g.owner_id == visible_to)
        if flt.ids:
            query = query.where(g.model_template_id.in_(flt.ids))
        if flt.name:
            query = query.where(contains(g.name, flt.name))
        if flt.ref_scope:
            query = query.where(g.ref_scope == flt.ref_scope)
        if flt.agent_platforms:
            query = query.where(g.agent_platform.in_(flt.agent_platforms))
        if flt.agent_providers:
            query = query.where(g.agent_provider.in_(flt.agent_providers))
        if flt.biz_type is not None:
            query = query.where(g.biz_type == flt.biz_type)
        if flt.has_model is not None:
            query = query.where(model_count > 0 if flt.has_model else model_count == 0)
        rows, total = await _page(self._conn, query, [g.created_at, g.model_template_id], page)
        return [GroupSummary(_group(row), int(row.model_count)) for row in rows], total

    async def delete_group(self, group_id: str) -> None:
        """Delete a group with its bindings, providers and LLM templates."""
        for table in (runtime_bindings, llm_templates, provider_templates, model_groups):
            await self._conn.execute(table.delete().where(table.c.model_template_id == group_id))

    async def list_providers(
        self, flt: ProviderFilter, page: PageRequest, *, visible_to: str | None
    ) -> tuple[list[ProviderTemplate], int]:
        """A page of provider templates matching `flt`; and the total."""
        p = provider_templates.c
        query = _PROVIDER_SELECT
        if visible_to is not None:
            query = query.where(p.owner_id == visible_to)
        if flt.model_template_id:
            query = query.where(p.model_template_id == flt.model_template_id)
        if flt.provider_name:
            query = query.where(p.provider_name == flt.provider_name)
        if flt.ids:
            query = query.where(p.provider_template_id.in_(flt.ids))
        rows, total = await _page(self._conn, query, [p.created_at, p.provider_template_id], page)
        return [_provider(row) for row in rows], total

    async def save_provider(
        self, provider: ProviderTemplate, *, api_key_sealed: Any = _KEEP
    ) -> None:
        """Write a provider's changeable fields; the sealed key only when one is given."""
        values: dict[str, Any] = {
            "name": provider.name,
            "description": provider.description,
            "base_url": provider.base_url,
            "api": provider.api,
            "api_key_hint": provider.api_key_hint,
            "enable_wuying_proxy": provider.enable_wuying_proxy,
            "updated_at": provider.updated_at,
        }
        if api_key_sealed is not _KEEP:
            values["api_key_sealed"] = api_key_sealed
        await self._conn.execute(
            provider_templates.update()
            .where(provider_templates.c.provider_template_id == provider.provider_template_id)
            .values(**values)
        )

    async def delete_provider(self, provider_id: str) -> None:
        """Delete a provider template and its LLM templates."""
        for table in (llm_templates, provider_templates):
            await self._conn.execute(
                table.delete().where(table.c.provider_template_id == provider_id)
            )

    async def list_templates(
        self, flt: TemplateFilter, page: PageRequest, *, visible_to: str | None
    ) -> tuple[list[LlmTemplate], int]:
        """A page of LLM templates matching `flt`; and the total."""
        t = llm_templates.c
        query = sa.select(llm_templates)
        if visible_to is not None:
            owned = sa.select(model_groups.c.model_template_id).where(
                model_groups.c.owner_id == visible_to
            )
            query = query.where(t.model_template_id.in_(owned))
        if flt.model_template_id:
            query = query.where(t.model_template_id == flt.model_template_id)
        if flt.provider_template_id:
            query = query.where(t.provider_template_id == flt.provider_template_id)
        if flt.llm_code:
            query = query.where(t.llm_code == flt.llm_code)
        if flt.ids:
            query = query.where(t.llm_template_id.in_(flt.ids))
        rows, total = await _page(self._conn, query, [t.created_at, t.llm_template_id], page)
        return [_template(row) for row in rows], total

    async def bound_group(
        self, runtime_type: str, runtime_id: str, *, lock: bool = False
    ) -> str | None:
        """The group a runtime is bound to, if any; with `lock`, the binding cannot move or
        go until this unit of work ends (on SQLite every writer holds the write lock)."""
        b = runtime_bindings.c
        query = sa.select(b.model_template_id).where(
            b.runtime_type == runtime_type, b.runtime_id == runtime_id
        )
        if lock and self._is_postgres:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return row.model_template_id if row is not None else None

    async def bindings_of(self, group_id: str, page: PageRequest) -> tuple[list[BoundRuntime], int]:
        """A page of the runtimes bound to a group (by type, then id), and how many are."""
        b = runtime_bindings.c
        query = sa.select(b.runtime_type, b.runtime_id, b.created_at).where(
            b.model_template_id == group_id
        )
        rows, total = await _page(self._conn, query, [b.runtime_type, b.runtime_id], page)
        found = [BoundRuntime(r.runtime_type, r.runtime_id, int(r.created_at)) for r in rows]
        return found, total

    async def bind(self, runtime_type: str, runtime_id: str, group_id: str, *, now_ms: int) -> None:
        """Bind a runtime to a group, moving it if it was bound elsewhere."""
        statement = insert_for(runtime_bindings, is_postgres=self._is_postgres).values(
            runtime_type=runtime_type,
            runtime_id=runtime_id,
            model_template_id=group_id,
            created_at=now_ms,
        )
        await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["runtime_type", "runtime_id"],
                set_={"model_template_id": group_id, "created_at": now_ms},
            )
        )

    async def unbind(self, runtime_type: str, runtime_id: str, group_id: str) -> bool:
        """Unbind a runtime from a group; False when it was not bound to that group."""
        b = runtime_bindings.c
        result = await self._conn.execute(
            runtime_bindings.delete().where(
                b.runtime_type == runtime_type,
                b.runtime_id == runtime_id,
                b.model_template_id == group_id,
            )
        )
        return bool(result.rowcount)

    async def runtime_keys(
        self, *, runtime: tuple[str, str] | None = None, group_id: str | None = None
    ) -> list[RuntimeKey]:
        """The gateway keys bindings keep: a runtime's (at most one), or a group's."""
        k, a = runtime_gateway_keys.c, api_keys.c
        query = sa.select(runtime_gateway_keys, a.principal_id, a.revoked_at, a.expires_at).join(
            api_keys, a.api_key_id == k.api_key_id
        )
        if runtime is not None:
            query = query.where(k.runtime_type == runtime[0], k.runtime_id == runtime[1])
        if group_id is not None:
            query = query.where(k.model_template_id == group_id)
        rows = await self._conn.execute(query.order_by(k.runtime_type, k.runtime_id))
        return [
            RuntimeKey(
                api_key_id=row.api_key_id,
                runtime_type=row.runtime_type,
                runtime_id=row.runtime_id,
                model_template_id=row.model_template_id,
                token_sealed=row.token_sealed,
                principal_id=row.principal_id,
                revoked_at=row.revoked_at,
                expires_at=row.expires_at,
            )
            for row in rows
        ]

    async def keep_runtime_key(
        self,
        *,
        api_key_id: str,
        runtime: tuple[str, str],
        group_id: str,
        token_sealed: str,
        now_ms: int,
    ) -> None:
        """Keep the gateway key of a runtime's binding (it has none)."""
        await self._conn.execute(
            runtime_gateway_keys.insert().values(
                api_key_id=api_key_id,
                runtime_type=runtime[0],
                runtime_id=runtime[1],
                model_template_id=group_id,
                token_sealed=token_sealed,
                created_at=now_ms,
            )
        )

    async def drop_runtime_key(self, api_key_id: str) -> None:
        """Forget a binding's gateway key (the key itself stays, revoked)."""
        await self._conn.execute(
            runtime_gateway_keys.delete().where(runtime_gateway_keys.c.api_key_id == api_key_id)
        )

    async def groups_by_key(self, key: str, *, visible_to: str | None) -> list[ModelGroup]:
        """The groups whose id or name is `key` (the gateway's model names), oldest first."""
        g = model_groups.c
        return await self.all_groups(
            visible_to=visible_to, where=sa.or_(g.model_template_id == key, g.name == key)
        )

    async def all_groups(self, *, visible_to: str | None, where: Any = None) -> list[ModelGroup]:
        """Every group (of one owner, with `visible_to`; matching `where`), oldest first."""
        g = model_groups.c
        query = sa.select(model_groups).order_by(g.created_at, g.model_template_id)
        if where is not None:
            query = query.where(where)
        if visible_to is not None:
            query = query.where(g.owner_id == visible_to)
        return [_group(row) for row in await self._conn.execute(query)]

    async def offers(
        self, group_ids: list[str]
    ) -> list[tuple[ProviderTemplate, LlmTemplate, str | None]]:
        """Every LLM template of these groups with its provider and the provider's sealed
        API key, in provider then template order."""
        if not group_ids:
            return []
        p, t = provider_templates.c, llm_templates.c
        query = (
            sa.select(
                *_PROVIDER_COLUMNS,
                p.api_key_sealed,
                p.api_key_sealed.is_not(None).label("has_api_key"),
                *[c.label(f"t_{c.name}") for c in llm_templates.c],
            )
            .join(llm_templates, t.provider_template_id == p.provider_template_id)
            .where(p.model_template_id.in_(group_ids))
            .order_by(p.created_at, p.provider_template_id, t.created_at, t.llm_template_id)
        )
        return [
            (_provider(row), _template(row, "t_"), row.api_key_sealed)
            for row in await self._conn.execute(query)
        ]
