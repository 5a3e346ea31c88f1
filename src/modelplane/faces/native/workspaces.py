"""Routes of /v1/workspaces and their members. Each handler parses, calls one service, renders.

Only a workspace's owner, its members and admins reach it; for everybody else it does not
exist (404). Members read it and its prompt templates; `editor` members also create,
update and delete the templates. Renaming or deleting it and managing its members is for
the owner and admins (403 for members).
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context
from modelplane.faces.native.prompt_schemas import (
    MemberIn,
    MemberListOut,
    MemberOut,
    WorkspaceCreate,
    WorkspaceListOut,
    WorkspaceOut,
    WorkspacePatch,
    render_member,
    render_workspace,
)
from modelplane.faces.native.responses import DeletedOut
from modelplane.faces.native.routing import router as native_router
from modelplane.services import workspaces as service

router = native_router("/v1/workspaces", ["workspaces"])


@router.post("", status_code=201, response_model=WorkspaceOut)
async def create_workspace(body: WorkspaceCreate, request: Request) -> Response:
    """Create a workspace owned by the caller (or `ownerId`: admins); the client may choose
    its id."""
    ctx = context(request)
    workspace = await service.create_workspace(
        store=ctx.store,
        actor=ctx.principal,
        name=body.name,
        workspace_id=body.workspace_id,
        owner_id=body.owner_id,
    )
    return JsonResponse(render_workspace(workspace), status_code=201)


@router.get("", response_model=WorkspaceListOut)
async def list_workspaces(request: Request) -> Response:
    """The workspaces the caller owns or is a member of (admins: all), oldest first."""
    ctx = context(request)
    found = await service.list_workspaces(store=ctx.store, actor=ctx.principal)
    return JsonResponse({"workspaces": [render_workspace(w) for w in found]})


@router.get("/{workspace_id}", response_model=WorkspaceOut)
async def get_workspace(workspace_id: str, request: Request) -> Response:
    """One workspace."""
    ctx = context(request)
    workspace = await service.get_workspace(
        store=ctx.store, actor=ctx.principal, workspace_id=workspace_id
    )
    return JsonResponse(render_workspace(workspace))


@router.patch("/{workspace_id}", response_model=WorkspaceOut)
async def rename_workspace(workspace_id: str, body: WorkspacePatch, request: Request) -> Response:
    """Rename a workspace (its owner or an admin)."""
    ctx = context(request)
    workspace = await service.rename_workspace(
        store=ctx.store, actor=ctx.principal, workspace_id=workspace_id, name=body.name
    )
    return JsonResponse(render_workspace(workspace))


@router.delete("/{workspace_id}", response_model=DeletedOut)
async def delete_workspace(workspace_id: str, request: Request) -> Response:
    """Delete a workspace with its members, prompt templates and their versions."""
    ctx = context(request)
    await service.delete_workspace(store=ctx.store, actor=ctx.principal, workspace_id=workspace_id)
    return JsonResponse({"deleted": True, "id": workspace_id})


@router.get("/{workspace_id}/members", response_model=MemberListOut)
async def list_members(workspace_id: str, request: Request) -> Response:
    """The members of a workspace, in the order they were added."""
    ctx = context(request)
    members = await service.list_members(
        store=ctx.store, actor=ctx.principal, workspace_id=workspace_id
    )
    return JsonResponse({"members": [render_member(m) for m in members]})


@router.put("/{workspace_id}/members/{principal_id}", response_model=MemberOut)
async def add_member(
    workspace_id: str, principal_id: str, request: Request, body: MemberIn | None = None
) -> Response:
    """Make a principal a member with `role` (`reader` when the body or the role is left
    out); for a member already, set its role (the time it was added stays)."""
    ctx = context(request)
    member = await service.add_member(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        principal_id=principal_id,
        role=body.role if body is not None else None,
    )
    return JsonResponse(render_member(member))


@router.delete("/{workspace_id}/members/{principal_id}", response_model=DeletedOut)
async def remove_member(workspace_id: str, principal_id: str, request: Request) -> Response:
    """Take a member's access to the workspace away."""
    ctx = context(request)
    await service.remove_member(
        store=ctx.store, actor=ctx.principal, workspace_id=workspace_id, principal_id=principal_id
    )
    return JsonResponse({"deleted": True, "id": principal_id})
