"""`modelplane apply -f stack.yaml` and `modelplane export`: a whole instance as one file.

apply sends the file to the server (`POST /v1/stack:apply`), which plans and applies it
in one transaction: all of it or, when any change fails, nothing (every failing change is
named). It prints the changes as a diff (`+` create, `~` update, `-` delete, `-/+`
replace). `--dry-run` runs the same and rolls back: it prints the plan, and exits non-zero
naming every change that would fail; it works without the `env://` secrets set (it names
those missing and plans with placeholders), where apply refuses them, naming each.
Secrets are read here, from this environment, and sent with the file (the server's
environment is not the operator's). `--prune` also deletes what the principal can see
that the file does not declare: it refuses a file without `apiVersion` or with nothing in
it, and asks first on a terminal unless `--yes` (without a terminal, `--yes` is needed).
`--replace-keys` replaces an API key whose scope differs from the file (else a conflict).
The token of each API key it issues is printed under its change (`token` in JSON), this
once. A second apply of the same file changes nothing and says so. export writes the same
format, secrets as `env://NAME` references and no token, and names on stderr the variables
that must be set before applying it and what it left out.

Exit codes are those of `modelplane.cli.remote`; a file that breaks a rule exits 6
(invalid argument) before anything is sent, a conflict 4 (or the code of its error).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelplane.cli.arguments import read_text
from modelplane.cli.remote import (
    DEFAULT_URL,
    USAGE,
    CommandError,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    session,
)

if TYPE_CHECKING:
    from modelplane.client import Client
    from modelplane.client.stack_calls import StackOutcome

INVALID = 6
KEY = "api-key"  # the kind of change that may issue a token

FileOption = Annotated[
    str, typer.Option("--file", "-f", help="The stack file (YAML); - reads stdin")
]


def _interactive() -> bool:
    """Whether a person can be asked (stdin and stdout are a terminal)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _as_json(value: Any) -> Any:
    """A loaded YAML document as JSON can carry it: YAML's timestamps as ISO 8601 text
    (the stack's schema reads both the same)."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _print_json(outcome: StackOutcome) -> None:
    """The server's answer as JSON: counts, changes (an issued key's with its `token`)."""
    data: dict[str, Any] = {
        "dryRun": outcome.dry_run,
        "create": outcome.create,
        "update": outcome.update,
        "delete": outcome.delete,
        "replace": outcome.replace,
        "changes": list(outcome.changes),
    }
    if outcome.missing_secrets:
        data["missingSecrets"] = list(outcome.missing_secrets)
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _print_table(outcome: StackOutcome, *, err: bool = False) -> None:
    """The changes as diff lines, each issued token under its change (shown this once)."""
    from modelplane.stack.changes import describe

    for change in outcome.changes:
        typer.echo("\n".join(describe(change)), err=err)
        if change["kind"] == KEY and change.get("token"):
            typer.echo(f"    token: {change['token']} (shown this once)", err=err)


def _counts(outcome: StackOutcome) -> dict[str, int]:
    return {
        "create": outcome.create,
        "update": outcome.update,
        "delete": outcome.delete,
        "replace": outcome.replace,
    }


def _send(
    client: Client,
    file: str,
    document: Any,
    secrets: dict[str, str],
    *,
    dry_run: bool,
    prune: bool,
    replace_keys: bool,
) -> StackOutcome:
    from modelplane.client import InvalidArgument

    try:
        return client.stacks.apply(
            document, secrets=secrets, dry_run=dry_run, prune=prune, replace_keys=replace_keys
        )
    except InvalidArgument as exc:
        # The file itself breaks a rule the plan found: said as a file's errors are.
        rules = [d.rule for d in exc.details if d.field == "document"]
        if rules and len(rules) == len(exc.details):
            raise CommandError(f"{file}: " + "; ".join(rules), INVALID) from None
        raise


def apply(
    file: FileOption,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Plan and try it, change nothing; exits non-zero naming every conflict",
        ),
    ] = False,
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
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before deleting (--prune)")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create, update (and with --prune delete) resources to match a stack file: all or
    nothing."""
    import yaml

    from modelplane import stack

    with session(url, token) as client:
        text = read_text(file)
        try:
            declared = stack.load(text)
        except stack.StackError as exc:
            raise CommandError(f"{file}: {exc}", INVALID) from None
        document = _as_json(yaml.safe_load(text) or {})
        if prune and (refusal := stack.prune_refusal(document)) is not None:
            raise CommandError(f"{file}: --prune: {refusal}", INVALID)
        unset = stack.unset_secrets(declared, os.environ)
        if unset and not dry_run:
            raise CommandError(f"{file}: " + "; ".join(unset), INVALID)
        secrets = {
            name: os.environ[name] for name in stack.secret_names(declared) if os.environ.get(name)
        }
        table = output is not Output.json
        options = {"prune": prune, "replace_keys": replace_keys}
        if prune and not dry_run and not yes:
            if not _interactive():
                raise CommandError(
                    "--prune deletes what the file does not declare: pass --yes to apply "
                    "without being asked (there is no terminal to ask on)",
                    USAGE,
                )
            preview = _send(client, file, document, secrets, dry_run=True, **options)
            if not preview.changes:
                typer.echo(f"No changes: the instance matches {file}.", err=not table)
                return
            _print_table(preview, err=not table)  # stdout is the answer's, in JSON
            typer.echo(f"Plan: {_summary(preview)}.", err=not table)
            if preview.delete or preview.replace:
                typer.confirm(
                    f"Apply these changes, deleting {preview.delete + preview.replace}?",
                    abort=True,
                    err=True,
                )
        if unset:
            names = ", ".join(n for n in stack.secret_names(declared) if not os.environ.get(n))
            typer.echo(
                f"secrets not set, planned with placeholders (set before applying): {names}",
                err=True,
            )
        outcome = _send(client, file, document, secrets, dry_run=dry_run, **options)
        if not outcome.changes:
            if table:
                typer.echo(f"No changes: the instance matches {file}.")
            else:
                _print_json(outcome)
            return
        if not table:
            _print_json(outcome)
            return
        _print_table(outcome)
        if dry_run:
            typer.echo(f"Plan: {_summary(outcome)}.")
        else:
            typer.echo(f"Applied: {_summary(outcome)}.")


def _summary(outcome: StackOutcome) -> str:
    from modelplane.stack.changes import summary

    return summary(_counts(outcome))


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
