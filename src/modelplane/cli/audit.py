"""`modelplane audit`: the audit log of every change (admins only)."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer

from modelplane.cli.remote import (
    DEFAULT_URL,
    MOMENT_HELP,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    moment_option,
    session,
)

app = typer.Typer(
    help="The audit log: who changed what, when, through which face (admins only).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("at", "actorId", "face", "action", "resourceType", "resourceId", "requestId")
PAGE_SIZE_MAX = 500


@app.command("list")
def list_(
    principal_id: Annotated[
        str | None, typer.Option(help="Only changes made by this principal")
    ] = None,
    resource_type: Annotated[
        str | None,
        typer.Option(help="Only this kind of resource: llm, model_group, workspace, config, …"),
    ] = None,
    resource_id: Annotated[str | None, typer.Option(help="Only changes of this resource")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action: create, update, delete, …")
    ] = None,
    face: Annotated[
        str | None,
        typer.Option(help="Only changes made through this face: native, console, rpc, …"),
    ] = None,
    since: Annotated[
        int | None,
        typer.Option(
            help=f"Only changes at or after this time: {MOMENT_HELP}",
            parser=moment_option,
            metavar="WHEN",
        ),
    ] = None,
    until: Annotated[
        int | None,
        typer.Option(
            help="Only changes before this time (as --since)", parser=moment_option, metavar="WHEN"
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many events", min=1)] = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List audit events, newest first."""
    with session(url, token) as client:
        found = client.audit.iter(
            principal_id=principal_id,
            resource_type=resource_type,
            resource_id=resource_id,
            action=action,
            face=face,
            since=since,
            until=until,
            page_size=min(limit, PAGE_SIZE_MAX),
        )
        emit(list(islice(found, limit)), output, columns=COLUMNS)
