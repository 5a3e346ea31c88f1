"""`modelplane apply -f stack.yaml` and `modelplane export`: a whole instance as one file.

apply prints the changes as a diff (`+` create, `~` update, `-` delete) and makes them;
`--dry-run` only prints them; `--prune` also deletes what the principal can see that the
file does not declare. A second apply of the same file changes nothing and says so.
export writes the same format, secrets as `env://NAME` references, and names on stderr
the variables that must be set before applying it.

Exit codes are those of `modelplane.cli.remote`; a file that breaks a rule exits 6
(invalid argument) before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelplane.cli.arguments import read_text
from modelplane.cli.remote import (
    DEFAULT_URL,
    CommandError,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    session,
)

if TYPE_CHECKING:
    from modelplane.stack import ApplyError, Change, Plan

INVALID = 6

FileOption = Annotated[
    str, typer.Option("--file", "-f", help="The stack file (YAML); - reads stdin")
]


def _print_json(changes: Plan, *, dry_run: bool) -> None:
    data = {
        "dryRun": dry_run,
        **changes.counts(),
        "changes": [c.as_json() for c in changes.changes],
    }
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _failed(exc: ApplyError, total: int) -> Exception:
    """The cause of a failed change, its message telling how far the apply got."""
    from modelplane.client import ModelplaneError

    change = exc.change
    where = (
        f"applied {exc.done} of {total} changes; {change.action.value} {change.kind} "
        f"{change.name} failed"
    )
    cause = exc.cause
    if isinstance(cause, ModelplaneError):
        return type(cause)(
            f"{where}: {cause.message}",
            code=cause.code,
            status_code=cause.status_code,
            details=cause.details,
            request_id=cause.request_id,
        )
    return CommandError(f"{where}: {cause}", 1)


def apply(
    file: FileOption,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan, change nothing")] = (
        False
    ),
    prune: Annotated[
        bool, typer.Option("--prune", help="Also delete what the file does not declare")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create, update (and with --prune delete) resources to match a stack file."""
    from modelplane import stack

    with session(url, token) as client:
        try:
            declared = stack.load(read_text(file))
            changes = stack.plan(client, declared, prune=prune)
        except stack.StackError as exc:
            raise CommandError(f"{file}: {exc}", INVALID) from None
        table = output is not Output.json
        if not changes.changes:
            if table:
                typer.echo(f"No changes: the instance matches {file}.")
            else:
                _print_json(changes, dry_run=dry_run)
            return
        if dry_run:
            if table:
                typer.echo(changes.describe())
                typer.echo(f"Plan: {changes.summary()}.")
            else:
                _print_json(changes, dry_run=True)
            return

        def show(change: Change) -> None:
            if table:
                typer.echo("\n".join(change.describe()))

        try:
            stack.apply(client, changes, on_change=show)
        except stack.ApplyError as exc:
            raise _failed(exc, len(changes.changes)) from None
        if table:
            typer.echo(f"Applied: {changes.summary()}.")
        else:
            _print_json(changes, dry_run=False)


def export(
    out: Annotated[
        str | None, typer.Option("--file", "-f", help="Write here instead of stdout")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Write every resource you can read as a stack file (secrets as env:// references)."""
    import yaml

    from modelplane import stack

    with session(url, token) as client:
        try:
            exported = stack.export_stack(client)
        except stack.StackError as exc:
            raise CommandError(str(exc), INVALID) from None
        text = yaml.safe_dump(exported.document, sort_keys=False, allow_unicode=True)
        if out is None:
            typer.echo(text, nl=False)
        else:
            Path(out).write_text(text, encoding="utf-8")
        if exported.variables:
            names = ", ".join(exported.variables)
            typer.echo(f"secrets are references; set before applying: {names}", err=True)
