"""Workspaces, their members and their roles, and who may write into a workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.errors import AlreadyExists, NotFound, PermissionDenied
from modelplane.domain.ownership import check_named_owner, check_owner_id, check_write_into
from modelplane.domain.principals import Action, Principal
from modelplane.domain.workspaces import (
    MEMBER,
    WORKSPACE,
    MemberRole,
    Workspace,
    member_role,
    new_workspace,
    renamed,
)
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.services.ownership import hold_owner
from modelplane.services.principals import PRINCIPAL
from modelplane.store.uow import Store, UnitOfWork

RESOURCE = "WORKSPACE"


@dataclass(frozen=True)
class Member:
    """A principal added to a workspace, its role, and when it was added."""

    principal_id: str
    role: MemberRole
    added_at: int


async def workspace_for(
    uow: UnitOfWork, actor: Principal, workspace_id: str, action: Action = Action.READ
) -> Workspace:
    """A workspace the actor may `action`.

    Its owner and admins reach it for every action, its members only to read it (and its
    templates); everybody else is told it does not exist.
    """
    workspace = await uow.prompts.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound(WORKSPACE, workspace_id)
    if actor.may(action, RESOURCE, workspace.owner_id):
        return workspace
    if await uow.prompts.membership(workspace_id, actor.principal_id) is None:
        raise NotFound(WORKSPACE, workspace_id)
    if action is not Action.READ:
        raise PermissionDenied(f"only the owner of workspace {workspace_id} or an admin may")
    return workspace


async def workspace_to_write(
    uow: UnitOfWork,
    actor: Principal,
    workspace_id: str,
    *,
    owner_id: str | None,
    needs: MemberRole = MemberRole.EDITOR,
    doing: str = "creating, changing and deleting its templates",
) -> Workspace:
    """A workspace in which the actor may do what the member role `needs` may (`doing`
    says what, for the refusal).

    Its owner may, and members whose role allows it; an admin only when naming its owner
    (`owner_id`); a member with a lesser role is refused (PermissionDenied); for everybody
    else it does not exist.
    """
    check_named_owner(actor, RESOURCE, owner_id)
    workspace = await uow.prompts.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound(WORKSPACE, workspace_id)
    named = owner_id
    if workspace.owner_id != actor.principal_id:
        found = await uow.prompts.membership(workspace_id, actor.principal_id)
        role = found[0] if found is not None else None
        if role is not None and role.allows(needs):
            named = owner_id or workspace.owner_id  # granted by the owner: no need to name it
        elif not actor.may(Action.UPDATE, RESOURCE, workspace.owner_id):
            if role is None:
                raise NotFound(WORKSPACE, workspace_id)
            raise PermissionDenied(
                f"principal {actor.principal_id} is a{'n' if role.value[0] in 'aeiou' else ''} "
                f"{role.value} of workspace {workspace_id}: {doing} needs the {needs.value} role"
            )
    check_write_into(
        "workspace", repr(workspace_id), workspace.owner_id, actor=actor, named_owner=named
    )
    return workspace


async def create_workspace(
    *,
    store: Store,
    actor: Principal,
    name: str,
    workspace_id: str | None = None,
    owner_id: str | None = None,
) -> Workspace:
    """Create a workspace owned by the actor (or by `owner_id`: admins); the client may
    choose its id, and a taken one is AlreadyExists."""
    if owner_id is not None:
        check_owner_id(owner_id)
    owner = owner_id or actor.principal_id
    if not actor.may(Action.CREATE, RESOURCE, owner):
        raise PermissionDenied("setting another ownerId requires CREATE_WORKSPACE_ANY")
    workspace = new_workspace(workspace_id=workspace_id, name=name, owner_id=owner, now_ms=now_ms())
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
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    principal_id: str,
    role: str | None = None,
) -> Member:
    """Make a principal a member with `role` (`reader` when not given); for a member
    already, set its role. Only a change is recorded."""
    wanted = member_role(role)
    async with store.writer() as uow:
        await workspace_for(uow, actor, workspace_id, Action.UPDATE)
        if await uow.principals.get(principal_id) is None:
            raise NotFound(PRINCIPAL, principal_id)
        now = now_ms()
        details: dict[str, Any] = {
            "workspaceId": workspace_id,
            "principalId": principal_id,
            "role": wanted.value,
        }
        if await uow.prompts.add_member(workspace_id, principal_id, wanted, now_ms=now):
            action, added_at = AuditAction.CREATE, now
        else:
            found = await uow.prompts.membership(workspace_id, principal_id, lock=True)
            if found is None:  # removed between the two statements
                raise AlreadyExists(MEMBER, f"{principal_id} was removed meanwhile; retry")
            before, added_at = found
            if before is wanted:
                return Member(principal_id, wanted, added_at)
            await uow.prompts.set_role(workspace_id, principal_id, wanted)
            action, details = AuditAction.UPDATE, {**details, "fields": ["role"]}
        resource = f"{workspace_id}/{principal_id}"
        await record(uow, actor, action, ResourceType.WORKSPACE_MEMBER, resource, details)
        await uow.commit()
    return Member(principal_id, wanted, added_at)


async def remove_member(
    *, store: Store, actor: Principal, workspace_id: str, principal_id: str
) -> None:
    """Take a principal's access to the workspace away."""
    async with store.writer() as uow:
        await workspace_for(uow, actor, workspace_id, Action.UPDATE)
        if not await uow.prompts.remove_member(workspace_id, principal_id):
            raise NotFound(MEMBER, principal_id)
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
        return [Member(p, role, at) for p, (role, at) in await uow.prompts.members_of(workspace_id)]
