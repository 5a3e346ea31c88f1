"""`modelplane workspaces`: workspaces, the scope of prompt templates, and their members.

A member is a `reader` (reads, lists and renders the templates), an `author` (also
creates and updates them, and moves their labels but `production`) or an `editor` (also
deletes them and moves `production`); `members add` sets the role of a member already there.
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from modelplane.cli import arguments
from modelplane.cli.remote import (
    DEFAULT_URL,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    emit_deleted,
    session,
)

app = typer.Typer(
    help="Workspaces: each holds prompt templates.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("workspaceId", "name", "ownerId", "createdAt")
MEMBER_COLUMNS = ("principalId", "role", "addedAt")

WorkspaceArgument = Annotated[
    str, typer.Argument(help="The workspace's id", callback=arguments.non_empty)
]
NameOption = Annotated[str, typer.Option(help="The workspace's name")]
PrincipalArgument = Annotated[
    str, typer.Argument(help="The member's principal id", callback=arguments.non_empty)
]

members_app = typer.Typer(
    help="Who else reaches a workspace: readers, authors and editors.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(members_app, name="members")


class MemberRole(enum.StrEnum):
    """A member's role in a workspace."""

    reader = "reader"
    author = "author"
    editor = "editor"


@app.command("list")
def list_(
    url: UrlOption = DEFAULT_URL, token: TokenOption = None, output: OutputOption = Output.table
) -> None:
    """List the workspaces you own or are a member of (admins: all)."""
    with session(url, token) as client:
        emit(client.workspaces.list(), output, columns=COLUMNS)


@app.command("get")
def get(
    workspace_id: WorkspaceArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one workspace."""
    with session(url, token) as client:
        emit(client.workspaces.get(workspace_id), output)


@app.command("create")
def create(
    name: NameOption,
    workspace_id: Annotated[
        str | None, typer.Option("--id", help="Choose the id (default: the server's)")
    ] = None,
    owner_id: Annotated[
        str | None, typer.Option(help="Owner (default: you; another: admins only)")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a workspace owned by you (or by --owner-id)."""
    with session(url, token) as client:
        created = client.workspaces.create(name, workspace_id=workspace_id, owner_id=owner_id)
        emit(created, output)


@app.command("rename")
def rename(
    workspace_id: WorkspaceArgument,
    name: NameOption,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Give a workspace a new name."""
    with session(url, token) as client:
        emit(client.workspaces.rename(workspace_id, name), output)


@app.command("delete")
def delete(
    workspace_id: WorkspaceArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a workspace with its prompt templates."""
    with session(url, token) as client:
        client.workspaces.delete(workspace_id)
        emit_deleted("workspace", workspace_id, output)


@members_app.command("list")
def members_list(
    workspace_id: WorkspaceArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a workspace's members and their roles, in the order they were added."""
    with session(url, token) as client:
        emit(client.workspaces.members(workspace_id), output, columns=MEMBER_COLUMNS)


@members_app.command("add")
def members_add(
    workspace_id: WorkspaceArgument,
    principal_id: PrincipalArgument,
    role: Annotated[
        MemberRole,
        typer.Option(
            help="reader: read, list, render; author: also create, update and move labels "
            "but production; editor: also delete and move production"
        ),
    ] = MemberRole.reader,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Make a principal a member with --role, or set the role of a member."""
    with session(url, token) as client:
        emit(client.workspaces.add_member(workspace_id, principal_id, role=role.value), output)


@members_app.command("remove")
def members_remove(
    workspace_id: WorkspaceArgument,
    principal_id: PrincipalArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Take a member out of a workspace."""
    with session(url, token) as client:
        client.workspaces.remove_member(workspace_id, principal_id)
        emit_deleted("member", principal_id, output)
