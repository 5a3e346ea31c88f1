"""`modelplane workspaces`: workspaces, the scope of prompt templates."""

from __future__ import annotations

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

WorkspaceArgument = Annotated[
    str, typer.Argument(help="The workspace's id", callback=arguments.non_empty)
]
NameOption = Annotated[str, typer.Option(help="The workspace's name")]


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
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a workspace owned by you."""
    with session(url, token) as client:
        emit(client.workspaces.create(name, workspace_id=workspace_id), output)


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
