"""The repository of workspaces, their members, and prompt templates with their versions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from modelplane.domain.chat_prompts import ChatMessage, PromptKind
from modelplane.domain.errors import AlreadyExists
from modelplane.domain.prompts import PROMPT_TEMPLATE, PromptTemplate, TemplateType, name_taken
from modelplane.domain.workspaces import WORKSPACE, MemberRole, Workspace
from modelplane.store.engine import Connection
from modelplane.store.sql import contains, insert_for
from modelplane.store.tables import (
    prompt_template_label_moves,
    prompt_template_labels,
    prompt_template_versions,
    prompt_templates,
    workspace_members,
    workspaces,
)

Cursor = tuple[int, str]  # (created_at, prompt_template_id) of the last row already given
Membership = tuple[MemberRole, int]  # a member's role and when it was added


def _workspace(row: Any) -> Workspace:
    return Workspace(
        workspace_id=row.workspace_id,
        name=row.name,
        owner_id=row.owner_id,
        created_at=row.created_at,
    )


def _messages(stored: Any) -> tuple[ChatMessage, ...]:
    return tuple(ChatMessage(m["role"], m["content"]) for m in stored or ())


def _stored_messages(template: PromptTemplate) -> list[dict[str, str]] | None:
    if template.kind is not PromptKind.CHAT:
        return None
    return [{"role": m.role, "content": m.content} for m in template.messages]


def _body(template: PromptTemplate) -> dict[str, Any]:
    """The columns of a version's text, messages and config."""
    return {
        "content": template.content,
        "variables": list(template.variables),
        "kind": template.kind.value,
        "messages": _stored_messages(template),
        "config": dict(template.config) if template.config is not None else None,
    }


def _template(row: Any, *, version: Any = None) -> PromptTemplate:
    """A template from its row, or as it was at `version` (a versions row)."""
    source = version if version is not None else row
    return PromptTemplate(
        prompt_template_id=row.prompt_template_id,
        workspace_id=row.workspace_id,
        name=source.name,
        content=source.content,
        variables=tuple(source.variables),
        type=TemplateType.CUSTOM,
        version=source.version,
        created_at=row.created_at,
        updated_at=source.created_at if version is not None else row.updated_at,
        created_by=row.created_by,
        updated_by=source.created_by if version is not None else row.updated_by,
        kind=PromptKind(source.kind),
        messages=_messages(source.messages),
        config=source.config,
    )


class PromptRepository:
    """Reads and writes workspaces and prompt templates inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def add_workspace(self, workspace: Workspace) -> None:
        """Insert a workspace; a taken id raises AlreadyExists."""
        try:
            await self._conn.execute(
                workspaces.insert().values(
                    workspace_id=workspace.workspace_id,
                    name=workspace.name,
                    owner_id=workspace.owner_id,
                    created_at=workspace.created_at,
                )
            )
        except IntegrityError:
            raise AlreadyExists(
                WORKSPACE, f"workspaceId {workspace.workspace_id!r} is taken; choose another"
            ) from None

    async def rename_workspace(self, workspace: Workspace) -> None:
        """Store a workspace's new name."""
        await self._conn.execute(
            workspaces.update()
            .where(workspaces.c.workspace_id == workspace.workspace_id)
            .values(name=workspace.name)
        )

    async def get_workspace(self, workspace_id: str) -> Workspace | None:
        """One workspace."""
        query = sa.select(workspaces).where(workspaces.c.workspace_id == workspace_id)
        row = (await self._conn.execute(query)).first()
        return _workspace(row) if row is not None else None

    async def list_workspaces(self, *, visible_to: str | None) -> list[Workspace]:
        """Every workspace, or those `visible_to` owns or is a member of; oldest first."""
        query = sa.select(workspaces).order_by(workspaces.c.created_at, workspaces.c.workspace_id)
        if visible_to is not None:
            member_of = sa.select(workspace_members.c.workspace_id).where(
                workspace_members.c.principal_id == visible_to
            )
            query = query.where(
                sa.or_(
                    workspaces.c.owner_id == visible_to,
                    workspaces.c.workspace_id.in_(member_of),
                )
            )
        return [_workspace(row) for row in await self._conn.execute(query)]

    async def delete_workspace(self, workspace_id: str) -> None:
        """Delete a workspace with its members, templates and versions."""
        owned = sa.select(prompt_templates.c.prompt_template_id).where(
            prompt_templates.c.workspace_id == workspace_id
        )
        for kept in (prompt_template_versions, prompt_template_labels, prompt_template_label_moves):
            await self._conn.execute(kept.delete().where(kept.c.prompt_template_id.in_(owned)))
        for table in (prompt_templates, workspace_members, workspaces):
            await self._conn.execute(table.delete().where(table.c.workspace_id == workspace_id))

    async def membership(
        self, workspace_id: str, principal_id: str, *, lock: bool = False
    ) -> Membership | None:
        """The principal's role in the workspace and when it was added; None: not a member."""
        m = workspace_members.c
        query = sa.select(m.role, m.added_at).where(
            m.workspace_id == workspace_id, m.principal_id == principal_id
        )
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else (MemberRole(row.role), int(row.added_at))

    async def add_member(
        self, workspace_id: str, principal_id: str, role: MemberRole, *, now_ms: int
    ) -> bool:
        """Add a member with `role`; False (and nothing changed) when it already is one."""
        result = await self._conn.execute(
            insert_for(workspace_members, is_postgres=self._is_postgres)
            .values(
                workspace_id=workspace_id,
                principal_id=principal_id,
                role=role.value,
                added_at=now_ms,
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "principal_id"])
        )
        return bool(result.rowcount)

    async def set_role(self, workspace_id: str, principal_id: str, role: MemberRole) -> None:
        """Change a member's role."""
        m = workspace_members.c
        await self._conn.execute(
            workspace_members.update()
            .where(m.workspace_id == workspace_id, m.principal_id == principal_id)
            .values(role=role.value)
        )

    async def remove_member(self, workspace_id: str, principal_id: str) -> bool:
        """Remove a member; False when the principal was not one."""
        m = workspace_members.c
        result = await self._conn.execute(
            workspace_members.delete().where(
                m.workspace_id == workspace_id, m.principal_id == principal_id
            )
        )
        return bool(result.rowcount)

    async def members_of(self, workspace_id: str) -> list[tuple[str, Membership]]:
        """The members of a workspace with their roles, in the order they were added."""
        m = workspace_members.c
        query = (
            sa.select(m.principal_id, m.role, m.added_at)
            .where(m.workspace_id == workspace_id)
            .order_by(m.added_at, m.principal_id)
        )
        return [
            (row.principal_id, (MemberRole(row.role), int(row.added_at)))
            for row in await self._conn.execute(query)
        ]

    async def newest_created_at(self, workspace_id: str) -> int | None:
        """The newest `created_at` of the workspace's templates; holds its list order.

        The workspace row stays locked until the transaction ends (PostgreSQL; SQLite
        writers are serialized anyway), so templates are created one after another.
        """
        lock = (
            sa.select(workspaces.c.workspace_id)
            .where(workspaces.c.workspace_id == workspace_id)
            .with_for_update()
        )
        await self._conn.execute(lock)
        p = prompt_templates.c
        newest = sa.select(sa.func.max(p.created_at)).where(p.workspace_id == workspace_id)
        value = (await self._conn.execute(newest)).scalar_one_or_none()
        return None if value is None else int(value)

    async def template_exists(self, template_id: str) -> bool:
        """Whether any workspace has a template of this id."""
        p = prompt_templates.c
        query = sa.select(p.prompt_template_id).where(p.prompt_template_id == template_id)
        return (await self._conn.execute(query)).first() is not None

    async def add_template(self, template: PromptTemplate) -> None:
        """Insert a template and its first version; a name taken in the workspace raises
        AlreadyExists."""
        async with self._name_unique(template):
            await self._conn.execute(
                prompt_templates.insert().values(
                    prompt_template_id=template.prompt_template_id,
                    workspace_id=template.workspace_id,
                    name=template.name,
                    **_body(template),
                    version=template.version,
                    created_at=template.created_at,
                    updated_at=template.updated_at,
                    created_by=template.created_by,
                    updated_by=template.updated_by,
                )
            )
        await self._add_version(template)

    async def save_template(self, template: PromptTemplate) -> None:
        """Write a template's new current version, keeping the old ones; a name taken in
        the workspace raises AlreadyExists."""
        async with self._name_unique(template):
            await self._conn.execute(
                prompt_templates.update()
                .where(prompt_templates.c.prompt_template_id == template.prompt_template_id)
                .values(
                    name=template.name,
                    **_body(template),
                    version=template.version,
                    updated_at=template.updated_at,
                    updated_by=template.updated_by,
                )
            )
        await self._add_version(template)

    @asynccontextmanager
    async def _name_unique(self, template: PromptTemplate) -> AsyncIterator[None]:
        """Turn the unique index on (workspace, name) into AlreadyExists naming both."""
        try:
            yield
        except IntegrityError:
            raise name_taken(template.name, template.workspace_id) from None

    async def _add_version(self, template: PromptTemplate) -> None:
        try:
            await self._conn.execute(
                prompt_template_versions.insert().values(
                    prompt_template_id=template.prompt_template_id,
                    version=template.version,
                    name=template.name,
                    **_body(template),
                    created_at=template.updated_at,
                    created_by=template.updated_by,
                )
            )
        except IntegrityError:  # two updates raced for the same version number
            raise AlreadyExists(
                PROMPT_TEMPLATE,
                f"version {template.version} of {template.prompt_template_id} was written "
                "meanwhile; retry",
            ) from None

    async def get_template(
        self, workspace_id: str, ref: str, *, version: int | None = None, lock: bool = False
    ) -> PromptTemplate | None:
        """A template of a workspace by id or else by name (`ref`), current or at `version`."""
        p = prompt_templates.c
        query = (
            sa.select(prompt_templates)
            .where(
                p.workspace_id == workspace_id,
                sa.or_(p.prompt_template_id == ref, p.name == ref),
            )
            .order_by((p.prompt_template_id == ref).desc())
            .limit(1)
        )
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None or version is None or version == row.version:
            return _template(row) if row is not None else None
        v = prompt_template_versions.c
        old = (
            await self._conn.execute(
                sa.select(prompt_template_versions).where(
                    v.prompt_template_id == row.prompt_template_id, v.version == version
                )
            )
        ).first()
        return _template(row, version=old) if old is not None else None

    async def versions_of(self, template_id: str) -> list[PromptTemplate]:
        """Every version of a template, oldest first."""
        p, v = prompt_templates.c, prompt_template_versions.c
        row = (
            await self._conn.execute(
                sa.select(prompt_templates).where(p.prompt_template_id == template_id)
            )
        ).first()
        if row is None:
            return []
        query = (
            sa.select(prompt_template_versions)
            .where(v.prompt_template_id == template_id)
            .order_by(v.version)
        )
        return [_template(row, version=old) for old in await self._conn.execute(query)]

    async def list_templates(
        self, workspace_id: str, *, name: str | None, after: Cursor | None, limit: int
    ) -> tuple[list[PromptTemplate], int]:
        """Up to `limit` templates after `after` in list order; and how many match in all."""
        p = prompt_templates.c
        matching = sa.select(p.prompt_template_id).where(p.workspace_id == workspace_id)
        if name:
            matching = matching.where(contains(p.name, name))
        total = (await self._conn.execute(matching.with_only_columns(sa.func.count()))).scalar_one()
        query = matching.with_only_columns(prompt_templates)
        if after is not None:
            query = query.where(sa.tuple_(p.created_at, p.prompt_template_id) > sa.tuple_(*after))
        query = query.order_by(p.created_at, p.prompt_template_id).limit(limit)
        return [_template(row) for row in await self._conn.execute(query)], int(total)

    async def delete_template(self, template_id: str) -> None:
        """Delete a template with all its versions."""
        await self._conn.execute(
            prompt_template_versions.delete().where(
                prompt_template_versions.c.prompt_template_id == template_id
            )
        )
        await self._conn.execute(
            prompt_templates.delete().where(prompt_templates.c.prompt_template_id == template_id)
        )
