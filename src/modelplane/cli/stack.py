"""`modelplane apply -f stack.yaml` and `modelplane export`: a whole instance as one file.

apply prints the changes as a diff (`+` create, `~` update, `-` delete, `-/+` replace)
and makes them; `--dry-run` only prints them; `--prune` also deletes what the principal
can see that the file does not declare; `--replace-keys` replaces an API key whose scope
differs from the file (else a conflict). The token of each API key it issues is printed
under its change (`token` in JSON), this once. A second apply of the same file changes
nothing and says so. export writes the same format, secrets as `env://NAME` references and
no token, and names on stderr the variables that must be set before applying it and what
it left out.

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
KEY = "api-key"  # the kind of change that may issue a token

FileOption = Annotated[
    str, typer.Option("--file", "-f", help="The stack file (YAML); - reads stdin")
]


def _print_json(
    changes: Plan, *, dry_run: bool, tokens: dict[str, str] | None = None, done: int | None = None
) -> None:
    """The plan as JSON; an applied key's change with its `token` (`done`: how many of
    the changes ran when apply stopped; the one that stopped it is shown too when it issued
    a key)."""
    listed = []
    for index, change in enumerate(changes.changes):
        token = (tokens or {}).get(change.name) if change.kind == KEY else None
        if done is not None and index >= done and token is None:
            continue
        entry = change.as_json()
        if token is not None:
            entry["token"] = token
        listed.append(entry)
    data = {"dryRun": dry_run, **changes.counts(), "changes": listed}
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
    replace_keys: Annotated[
        bool,
        typer.Option(
            "--replace-keys",
            help="Replace an API key whose scope differs from the file: issue a new one, "
            "revoke the old",
        ),
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
            changes = stack.plan(client, declared, prune=prune, replace_keys=replace_keys)
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

        tokens: dict[str, str] = {}

        def show(change: Change) -> None:
            if table:
                typer.echo("\n".join(change.describe()))
                if change.kind == KEY and change.name in tokens:
                    typer.echo(f"    token: {tokens[change.name]} (shown this once)")

        try:
            stack.apply(client, changes, on_change=show, tokens=tokens)
        except stack.ApplyError as exc:
            # The tokens issued before it, and by it (a replacement whose revoke failed),
            # are never shown again.
            if not table and tokens:
                _print_json(changes, dry_run=False, tokens=tokens, done=exc.done)
            elif exc.change.kind == KEY and exc.change.name in tokens:
                show(exc.change)
            raise _failed(exc, len(changes.changes)) from None
        if table:
            typer.echo(f"Applied: {changes.summary()}.")
        else:
            _print_json(changes, dry_run=False, tokens=tokens)


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
        for note in exported.notes:
            typer.echo(f"left out: {note}", err=True)
