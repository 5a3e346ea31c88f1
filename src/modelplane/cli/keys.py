"""`modelplane keys`: a principal's API keys, or (`--kind access`) its access-key pairs.

API keys (`mp_…`) authenticate on the native API; access-key pairs sign requests on the
Alibaba faces. A new token or secret is printed once, by `create`, and never again.
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from modelplane.cli import arguments
from modelplane.cli.remote import (
    DEFAULT_URL,
    CommandError,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    session,
)

app = typer.Typer(
    help="API keys and access-key pairs of a principal (admins only).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Kind(enum.StrEnum):
    """Which kind of key: an API key, or an access-key pair for the Alibaba faces."""

    api = "api"
    access = "access"


PrincipalArgument = Annotated[
    str, typer.Argument(help="The principal's id", callback=arguments.non_empty)
]
KindOption = Annotated[
    Kind, typer.Option(help="api: API keys (mp_…); access: access-key pairs (MPAK…)")
]

API_KEY_COLUMNS = ("apiKeyId", "keyPrefix", "label", "createdAt", "revokedAt")
ACCESS_KEY_COLUMNS = ("accessKeyId", "createdAt", "revokedAt")


@app.command("list")
def list_(
    principal_id: PrincipalArgument,
    kind: KindOption = Kind.api,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a principal's keys, revoked ones included."""
    with session(url, token) as client:
        if kind is Kind.access:
            access_keys = client.principals.list_access_keys(principal_id)
            emit(access_keys, output, columns=ACCESS_KEY_COLUMNS)
        else:
            api_keys = client.principals.list_api_keys(principal_id)
            emit(api_keys, output, columns=API_KEY_COLUMNS)


@app.command("create")
def create(
    principal_id: PrincipalArgument,
    kind: KindOption = Kind.api,
    label: Annotated[str | None, typer.Option(help="A note for people (API keys only)")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Issue a key; its token (or secret) is printed this once only."""
    with session(url, token) as client:
        if kind is Kind.access:
            if label is not None:  # the server keeps no label for access keys
                raise CommandError("--label is for API keys only")
            emit(client.principals.issue_access_key(principal_id), output)
            return
        issued = client.principals.issue_api_key(principal_id, label=label)
        if output is Output.table:  # one field/value table: the key, then its token
            emit({**issued.api_key.model_dump(by_alias=True), "token": issued.token}, output)
        else:
            emit(issued, output)


@app.command("revoke")
def revoke(
    principal_id: PrincipalArgument,
    key_id: Annotated[
        str,
        typer.Argument(help="The key's id (apiKeyId or accessKeyId)", callback=arguments.non_empty),
    ],
    kind: KindOption = Kind.api,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Revoke a key; it stops working at once."""
    with session(url, token) as client:
        if kind is Kind.access:
            emit(client.principals.revoke_access_key(principal_id, key_id), output)
        else:
            emit(client.principals.revoke_api_key(principal_id, key_id), output)
