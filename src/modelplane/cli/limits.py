"""`modelplane limits`: the gateway's limits and budgets of a principal or of one of its
API keys (admins set anyone's; a member reads its own and sets its keys', within its
principal's)."""

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
    session,
)

app = typer.Typer(
    help="Requests and tokens per minute and budgets per day or month, at the gateway.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PrincipalOption = Annotated[
    str,
    typer.Option(
        "--principal", help="The principal's id (`me`: the caller)", callback=arguments.non_empty
    ),
]
KeyOption = Annotated[
    str | None, typer.Option("--key", help="One of its API keys (absent: the principal itself)")
]


class Period(enum.StrEnum):
    """The window of a budget (UTC)."""

    day = "day"
    month = "month"


@app.command("get")
def get(
    principal: PrincipalOption,
    key: KeyOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show the limits and the current windows' use (requests, tokens, spend)."""
    with session(url, token) as client:
        emit(client.limits.get(principal, api_key_id=key), output)


@app.command("set")
def set_(
    principal: PrincipalOption,
    key: KeyOption = None,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute")] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens (input and output) per minute")] = None,
    budget: Annotated[
        float | None, typer.Option(help="Money per period, in the unit of the prices (25.00)")
    ] = None,
    period: Annotated[Period | None, typer.Option(help="The budget's window")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Replace the limits: those not given are then unlimited."""
    with session(url, token) as client:
        emit(
            client.limits.set(
                principal,
                api_key_id=key,
                rpm=rpm,
                tpm=tpm,
                budget=budget,
                period=period.value if period is not None else None,
            ),
            output,
        )


@app.command("clear")
def clear(
    principal: PrincipalOption,
    key: KeyOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Remove the limits."""
    with session(url, token) as client:
        removed = client.limits.clear(principal, api_key_id=key)
    identifier = key or principal
    if output is Output.table:
        typer.echo(f"cleared the limits of {identifier}" if removed else f"{identifier} had none")
    else:
        emit({"deleted": removed, "id": identifier}, output)
