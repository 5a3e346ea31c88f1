"""`modelplane model-groups runtimes`: external runtimes bound to a model group.

A runtime (`--type`, `Default` when not given, and its id) bound to a group reads that
group's models and default model (`config`). Binding a runtime bound to another group
moves it. Each runtime gets its own result; when any of them failed (bound to a group you
may not change, or not bound to the group being unbound), the command prints the results
and then fails with the exit code of the first failure (5 or 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from modelplane.client import RuntimeBindings

app = typer.Typer(
    help="Runtimes bound to a model group, and the model config a runtime reads.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("runtimeId", "success", "code", "message")
BOUND_COLUMNS = ("runtimeType", "runtimeId", "createdAt")
# The exit code of a runtime's failed result (remote.py's table, by the result's code).
EXIT_BY_CODE = {"NOT_FOUND": 3, "PERMISSION_DENIED": 5}

GroupArgument = Annotated[
    str, typer.Argument(help="The group's id (mt-…)", callback=arguments.non_empty)
]
RuntimeIds = Annotated[list[str], typer.Argument(help="Runtime ids (1..100)", show_default=False)]
RuntimeType = Annotated[
    str | None,
    typer.Option(
        "--type",
        help="The runtimes' type (default: Default)",
        show_default=False,
        callback=arguments.non_empty,
    ),
]


def emit_results(bindings: RuntimeBindings, output: Output) -> None:
    """Print one result per runtime; then fail with the first failure's exit code."""
    emit(
        bindings if output is not Output.table else list(bindings.results), output, columns=COLUMNS
    )
    failed = [r for r in bindings.results if not r.success]
    if failed:
        first = failed[0]
        kind = first.code.lower().replace("_", " ")
        count = f"{len(failed)} of {bindings.total_count} runtimes failed"
        message = f"{kind}: {count}; {first.runtime_id}: {first.message}"
        raise CommandError(message, EXIT_BY_CODE.get(first.code, 1))


@app.command("list")
def list_(
    group_id: GroupArgument,
    page_size: Annotated[
        int, typer.Option(help="Items per request (1..500)", min=1, max=500)
    ] = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List the runtimes bound to a group, by type and then id."""
    with session(url, token) as client:
        found = client.model_groups.iter_runtimes(group_id, page_size=page_size)
        emit(list(found), output, columns=BOUND_COLUMNS)


@app.command("bind")
def bind(
    group_id: GroupArgument,
    runtime_ids: RuntimeIds,
    runtime_type: RuntimeType = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Bind runtimes to a group, moving them from the group they were bound to."""
    with session(url, token) as client:
        result = client.model_groups.bind_runtimes(group_id, runtime_ids, runtime_type=runtime_type)
        emit_results(result, output)


@app.command("unbind")
def unbind(
    group_id: GroupArgument,
    runtime_ids: RuntimeIds,
    runtime_type: RuntimeType = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Unbind runtimes from a group."""
    with session(url, token) as client:
        result = client.model_groups.unbind_runtimes(
            group_id, runtime_ids, runtime_type=runtime_type
        )
        emit_results(result, output)


@app.command("config")
def config(
    runtime_id: Annotated[
        str, typer.Argument(help="The runtime's id", callback=arguments.non_empty)
    ],
    runtime_type: Annotated[
        str, typer.Option("--type", help="The runtime's type", callback=arguments.non_empty)
    ] = "Default",
    gateway: Annotated[
        bool,
        typer.Option(
            "--gateway",
            help="Also show the gateway's URLs and the binding's API key (made on the first ask)",
        ),
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show what a runtime reads: its group, the providers and models, the default model."""
    with session(url, token) as client:
        emit(client.model_groups.runtime_config(runtime_type, runtime_id, gateway=gateway), output)
