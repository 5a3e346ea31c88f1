"""`modelplane principals`: who may call the API (admins only)."""

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
    help="Principals and their roles (admins only).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("principalId", "name", "role", "createdAt")

PrincipalArgument = Annotated[
    str, typer.Argument(help="The principal's id", callback=arguments.non_empty)
]


class Role(enum.StrEnum):
    """A principal's role."""

    admin = "admin"
    member = "member"


@app.command("list")
def list_(
    url: UrlOption = DEFAULT_URL, token: TokenOption = None, output: OutputOption = Output.table
) -> None:
    """List every principal, oldest first."""
    with session(url, token) as client:
        emit(client.principals.list(), output, columns=COLUMNS)


@app.command("get")
def get(
    principal_id: PrincipalArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one principal."""
    with session(url, token) as client:
        emit(client.principals.get(principal_id), output)


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="A unique name")],
    role: Annotated[Role, typer.Option(help="What it may do")] = Role.member,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a principal (give it a key with `modelplane keys create`)."""
    with session(url, token) as client:
        emit(client.principals.create(name, role=role.value), output)


@app.command("delete")
def delete(
    principal_id: PrincipalArgument,
    transfer_to: Annotated[
        str | None,
        typer.Option(
            help="Give everything it owns to this principal first (without it, a principal "
            "that owns anything is not deleted)",
            callback=arguments.non_empty,
        ),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a principal and its keys (and hand what it owns to --transfer-to)."""
    with session(url, token) as client:
        client.principals.delete(principal_id, transfer_to=transfer_to)
        emit_deleted("principal", principal_id, output)
