"""`modelplane usage`: the gateway's usage, summed per group or call by call (members see
their own, admins everyone's)."""

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
    help="The gateway's usage: calls, tokens, cost and latency (members see their own).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

GROUP_COLUMNS = {
    "day": "day",
    "principal": "principalId",
    "key": "apiKeyId",
    "model": "model",
    "member": "member",
}
SUM_COLUMNS = ("calls", "inputTokens", "outputTokens", "cachedTokens", "cost", "latencyMsAvg")
RECORD_COLUMNS = (
    "at",
    "principalId",
    "model",
    "member",
    "status",
    "streamed",
    "inputTokens",
    "outputTokens",
    "cost",
    "latencyMs",
)
PAGE_SIZE_MAX = 1000

PrincipalOption = Annotated[str | None, typer.Option(help="Only this principal's calls")]
KeyOption = Annotated[str | None, typer.Option("--api-key-id", help="Only this key's calls")]
ModelOption = Annotated[str | None, typer.Option(help="Only calls of this model name")]
StatusOption = Annotated[
    str | None, typer.Option(help="Only this status (429) or class of them (5xx)")
]
LimitOption = Annotated[int, typer.Option(help="At most this many rows", min=1)]


@app.command("report")
def report(
    group_by: Annotated[
        str,
        typer.Option(help="Comma-separated: any of day, principal, key, model, member"),
    ] = "",
    from_day: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC)")
    ] = None,
    to_day: Annotated[
        str | None, typer.Option("--to", help="Last day, inclusive (default today)")
    ] = None,
    principal_id: PrincipalOption = None,
    api_key_id: KeyOption = None,
    model: ModelOption = None,
    status: StatusOption = None,
    limit: LimitOption = 1000,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Usage summed per group (the last 30 days by default), groups in order."""
    groups = [part.strip() for part in group_by.split(",") if part.strip()]
    with session(url, token) as client:
        found = client.usage.iter_report(
            group_by=groups,
            from_day=from_day,
            to_day=to_day,
            principal_id=principal_id,
            api_key_id=api_key_id,
            model=model,
            status=status,
            page_size=min(limit, PAGE_SIZE_MAX),
        )
        rows = list(islice(found, limit))
    columns = [GROUP_COLUMNS[g] for g in GROUP_COLUMNS if g in groups] + list(SUM_COLUMNS)
    emit(rows, output, columns=columns)


@app.command("records")
def records(
    since: Annotated[
        int | None,
        typer.Option(
            help=f"Calls that ended at or after: {MOMENT_HELP}",
            parser=moment_option,
            metavar="WHEN",
        ),
    ] = None,
    until: Annotated[
        int | None,
        typer.Option(
            help="Calls that ended before (as --since)", parser=moment_option, metavar="WHEN"
        ),
    ] = None,
    principal_id: PrincipalOption = None,
    api_key_id: KeyOption = None,
    model: ModelOption = None,
    status: StatusOption = None,
    limit: LimitOption = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Gateway calls one by one, newest first (the last day by default, at most 7)."""
    with session(url, token) as client:
        found = client.usage.iter_records(
            since=since,
            until=until,
            principal_id=principal_id,
            api_key_id=api_key_id,
            model=model,
            status=status,
            page_size=min(limit, PAGE_SIZE_MAX),
        )
        emit(list(islice(found, limit)), output, columns=RECORD_COLUMNS)
