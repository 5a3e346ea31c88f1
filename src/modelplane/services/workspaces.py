"""Workspaces and their members."""

from __future__ import annotations

from dataclasses import dataclass

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.errors import NotFound, PermissionDenied
from modelplane.domain.principals import Action, Principal
from modelplane.domain.workspaces import WORKSPACE, Workspace, new_workspace, renamed
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.services.ownership import hold_owner
from modelplane.services.principals import PRINCIPAL
from modelplane.store.uow import Store, UnitOfWork

RESOURCE = "WORKSPACE"


@dataclass(frozen=True)
class Member:
    """A principal added to a workspace, and when."""

    principal_id: str
    added_at: int


async def workspace_for(
    uow: UnitOfWork, actor: Principal, workspace_id: str, action: Action = Action.READ
) -> Workspace:
    """A workspace the actor may `action`.

    Its owner, admins and (for reading and for its templates) its members reach it;
    everybody else is told it does not exist.
    """
    workspace = await uow.prompts.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound(WORKSPACE, workspace_id)
    if actor.may(action, RESOURCE, workspace.owner_id):
        return workspace
    if not await uow.prompts.is_member(workspace_id, actor.principal_id):
        raise NotFound(WORKSPACE, workspace_id)
    if action is not Action.READ:
        raise PermissionDenied(f"only the owner of workspace {workspace_id} or an admin may")
    return workspace


async def create_workspace(
    *, store: Store, actor: Principal, name: str, workspace_id: str | None = None
) -> Workspace:
    """Create a workspace owned by the actor; the client may choose its id."""
    workspace = new_workspace(
        workspace_id=workspace_id, name=name, owner_id=actor.principal_id, now_ms=now_ms()
    )
    async with store.writer() as uow:
        await hold_owner(uow, actor, workspace.owner_id)
        await uow.prompts.add_workspace(workspace)
        await record(uow, actor, AuditAction.CREATE, ResourceType.WORKSPACE, workspace.workspace_id)
        await uow.commit()
    return workspace


async def get_workspace(*, store: Store, actor: Principal, workspace_id: str) -> Workspace:
    """One workspace the actor may reach."""
    async with store.reader() as uow:
        return await workspace_for(uow, actor, workspace_id)


async def list_workspaces(*, store: Store, actor: Principal) -> list[Workspace]:
    """The workspaces the actor owns or is a member of (admins: all)."""
    visible_to = None if actor.sees_all(RESOURCE) else actor.principal_id
    async with store.reader() as uow:
        return await uow.prompts.list_workspaces(visible_to=visible_to)


async def rename_workspace(
    *, store: Store, actor: Principal, workspace_id: str, name: str
) -> Workspace:
    """Give a workspace a new name (its owner or an admin)."""
    async with store.writer() as uow:
        workspace = renamed(await workspace_for(uow, actor, workspace_id, Action.UPDATE), name)
        await uow.prompts.rename_workspace(workspace)
        await record(
            uow,
            actor,
            AuditAction.UPDATE,
            ResourceType.WORKSPACE,
            workspace_id,
            {"fields": ["name"]},
        )
        await uow.commit()
    return workspace


async def delete_workspace(*, store: Store, actor: Principal, workspace_id: str) -> None:
    """Delete a workspace with its templates and their versions."""
    async with store.writer() as uow:
        await workspace_for(uow, actor, workspace_id, Action.DELETE)
        await uow.prompts.delete_workspace(workspace_id)
        await record(uow, actor, AuditAction.DELETE, ResourceType.WORKSPACE, workspace_id)
        await uow.commit()


async def add_member(
    *, store: Store, actor: Principal, workspace_id: str, principal_id: str
) -> Member:
    """Let a principal reach the workspace's templates (adding twice is harmless)."""
    async with store.writer() as uow:
        await workspace_for(uow, actor, workspace_id, Action.UPDATE)
        if await uow.principals.get(principal_id) is None:
            raise NotFound(PRINCIPAL, principal_id)
        added_at = await uow.prompts.add_member(workspace_id, principal_id, now_ms=now_ms())
        await record(
            uow,
            actor,
            AuditAction.CREATE,
            ResourceType.WORKSPACE_MEMBER,
            f"{workspace_id}/{principal_id}",
            {"workspaceId": workspace_id, "principalId": principal_id},
        )
        await uow.commit()
    return Member(principal_id, added_at)


async def remove_member(
    *, store: Store, actor: Principal, workspace_id: str, principal_id: str
) -> None:
    """Take a principal's access to the workspace away."""
    async with store.writer() as uow:
        await workspace_for(uow, actor, workspace_id, Action.UPDATE)
        if not await uow.prompts.remove_member(workspace_id, principal_id):
            raise NotFound("WorkspaceMember", principal_id)
        await record(
            uow,
            actor,
            AuditAction.DELETE,
            ResourceType.WORKSPACE_MEMBER,
            f"{workspace_id}/{principal_id}",
            {"workspaceId": workspace_id, "principalId": principal_id},
        )
        await uow.commit()


async def list_members(*, store: Store, actor: Principal, workspace_id: str) -> list[Member]:
    """The members of a workspace."""
    async with store.reader() as uow:
        await workspace_for(uow, actor, workspace_id)
        return [Member(p, at) for p, at in await uow.prompts.members_of(workspace_id)]
