"""`modelplane prompts`: prompt templates of a workspace, their versions, labels and
rendering.

Every command takes `--workspace` (or `MODELPLANE_WORKSPACE`). A template's text comes
from `--content`, from `--file` (`-` for stdin), or, for `create`, from stdin when neither
is given. `render` prints the filled text alone in table mode, so that it can be piped.
`promote` moves a label (`production`, `staging`, …) to a version; a rollback is a
`promote` back to the earlier version.
"""

from __future__ import annotations

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
    echo_line,
    emit,
    emit_deleted,
    session,
)

app = typer.Typer(
    help="Prompt templates with ${variables}, versions and rendering.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("promptTemplateId", "name", "version", "variables", "updatedAt")
VERSION_COLUMNS = ("version", "labels", "name", "variables", "updatedAt", "updatedBy")
LABEL_COLUMNS = ("label", "version", "updatedAt", "updatedBy")
MOVE_COLUMNS = ("label", "fromVersion", "toVersion", "movedAt", "movedBy")

WorkspaceOption = Annotated[
    str,
    typer.Option(
        "--workspace",
        "-w",
        envvar="MODELPLANE_WORKSPACE",
        help="The workspace's id",
        callback=arguments.non_empty,
    ),
]
TemplateArgument = Annotated[
    str, typer.Argument(help="The template's id or name", callback=arguments.non_empty)
]
Content = Annotated[str | None, typer.Option(help="The template's text")]
MessagesFile = Annotated[
    str | None,
    typer.Option(
        help="A chat template's messages: a JSON or YAML list of {role, content} (- for stdin)"
    ),
]
ConfigFile = Annotated[
    str | None,
    typer.Option(help="The version's config: a JSON or YAML object ({} clears it)"),
]
ContentFile = Annotated[
    str | None, typer.Option("--file", "-f", help="Read the text from a file (- for stdin)")
]
Version = Annotated[int | None, typer.Option(help="A past version (default: the current)")]
Label = Annotated[
    str | None,
    typer.Option(help="The version this label points at (latest: the current); not with --version"),
]
LabelName = Annotated[
    str,
    typer.Option(
        "--label", "-l", help="The label: a-z, 0-9, _ and -", callback=arguments.non_empty
    ),
]


def content_of(content: str | None, file: str | None) -> str | None:
    """The text given by --content or --file, or None."""
    if content is not None and file is not None:
        raise CommandError("give --content or --file, not both")
    return arguments.read_text(file) if file is not None else content


@app.command("list")
def list_(
    workspace: WorkspaceOption,
    name: Annotated[str | None, typer.Option(help="Only names holding this text")] = None,
    type_: Annotated[
        str | None, typer.Option("--type", help="Custom (default) or System (built in)")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a workspace's templates (every page)."""
    with session(url, token) as client:
        found = list(client.prompts.iter(workspace, name=name, type=type_))
        emit(found, output, columns=COLUMNS)


@app.command("get")
def get(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    version: Version = None,
    label: Label = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show a template: current, at --version, or at the version --label points at."""
    with session(url, token) as client:
        emit(client.prompts.get(workspace, template_id, version=version, label=label), output)


@app.command("create")
def create(
    workspace: WorkspaceOption,
    name: Annotated[str, typer.Option(help="The template's name")],
    content: Content = None,
    file: ContentFile = None,
    messages_file: MessagesFile = None,
    config_file: ConfigFile = None,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a text template, or a chat template from --messages-file; its ${name}
    placeholders become its variables."""
    with session(url, token) as client:
        text = content_of(content, file)
        messages = arguments.read_messages(messages_file) if messages_file else None
        if text is None and messages is None:
            text = arguments.read_stdin("--content, --file or --messages-file")
        config = arguments.read_mapping(config_file) if config_file else None
        created = client.prompts.create(
            workspace, name, text, messages=messages, config=config, owner_id=owner_id
        )
        emit(created, output)


@app.command("update")
def update(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    name: Annotated[str | None, typer.Option(help="A new name")] = None,
    content: Content = None,
    file: ContentFile = None,
    messages_file: MessagesFile = None,
    config_file: ConfigFile = None,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Write a new version with the name, text, messages or config given; the old one
    stays readable."""
    with session(url, token) as client:
        text = content_of(content, file)
        messages = arguments.read_messages(messages_file) if messages_file else None
        config = arguments.read_mapping(config_file) if config_file else None
        if name is None and text is None and messages is None and config is None:
            raise CommandError("give --name, --content, --file, --messages-file or --config-file")
        updated = client.prompts.update(
            workspace,
            template_id,
            name=name,
            content=text,
            messages=messages,
            config=config,
            owner_id=owner_id,
        )
        emit(updated, output)


@app.command("delete")
def delete(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a template with all its versions."""
    with session(url, token) as client:
        client.prompts.delete(workspace, template_id, owner_id=owner_id)
        emit_deleted("prompt template", template_id, output)


@app.command("versions")
def versions(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List every version of a template, oldest first."""
    with session(url, token) as client:
        emit(client.prompts.versions(workspace, template_id), output, columns=VERSION_COLUMNS)


@app.command("render")
def render(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    var: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME=VALUE", help="A variable's value (repeatable)"),
    ] = None,
    vars_file: Annotated[
        str | None,
        typer.Option(help="Values from a JSON or YAML object (- for stdin); --var wins"),
    ] = None,
    allow_partial: Annotated[
        bool, typer.Option("--allow-partial", help="Leave missing variables as ${name}")
    ] = False,
    version: Version = None,
    label: Label = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Fill a template's variables (current, --version or --label); table mode prints the
    text alone."""
    with session(url, token) as client:
        values = {}
        if vars_file is not None:
            values = arguments.string_values(arguments.read_mapping(vars_file), vars_file)
        values.update(arguments.pairs(var, "--var"))
        rendered = client.prompts.render(
            workspace,
            template_id,
            values,
            allow_partial=allow_partial,
            version=version,
            label=label,
        )
        if output is Output.table:
            typer.echo(rendered.text, nl=not rendered.text.endswith("\n"))
        else:
            emit(rendered, output)


@app.command("diff")
def diff(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    old: Annotated[
        str,
        typer.Option("--from", help="A version number or a label", callback=arguments.non_empty),
    ],
    new: Annotated[
        str, typer.Option("--to", help="A version number or a label (latest: the current)")
    ] = "latest",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show how a template's text changed from --from to --to, as a unified diff (nothing
    when they are the same)."""
    with session(url, token) as client:
        found = client.prompts.diff(workspace, template_id, old, new)
        if output is Output.table:
            typer.echo(found.diff, nl=False)
        else:
            emit(found, output)


@app.command("promote")
def promote(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    version: Annotated[int, typer.Option(help="The version the label is to point at")],
    label: LabelName,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Point --label at --version: a promotion, or a rollback (moving it back). production
    needs the workspace's owner, an editor, or an admin."""
    with session(url, token) as client:
        moved = client.prompts.set_label(
            workspace, template_id, label, version=version, owner_id=owner_id
        )
        if output is not Output.table:
            emit(moved, output)
        elif not moved.moved:
            typer.echo(f"label {label} already points at version {version}")
        else:
            before = (
                "unset" if moved.previous_version is None else f"version {moved.previous_version}"
            )
            typer.echo(f"label {label}: {before} -> version {version}")


@app.command("unlabel")
def unlabel(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    label: LabelName,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Remove --label from a template (who may: as for promote)."""
    with session(url, token) as client:
        removed = client.prompts.remove_label(workspace, template_id, label, owner_id=owner_id)
        if output is Output.table:
            typer.echo(f"label {label} removed (it pointed at version {removed.version})")
        else:
            emit(removed, output)


@app.command("labels")
def labels(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a template's labels and the versions they point at (latest: the current)."""
    with session(url, token) as client:
        emit(client.prompts.labels(workspace, template_id), output, columns=LABEL_COLUMNS)


@app.command("label-history")
def label_history(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List every move of a template's labels, newest first (every page)."""
    with session(url, token) as client:
        moves = list(client.prompts.iter_label_history(workspace, template_id))
        emit(moves, output, columns=MOVE_COLUMNS)


@app.command("watch")
def watch(
    workspace: WorkspaceOption,
    template_id: TemplateArgument,
    label: Label = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many versions", min=1)] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Print the version --label points at (the current one without it), then each time it
    changes, until Ctrl-C or --count versions (table: one line each; json: the template)."""
    with session(url, token) as client:
        try:
            found = client.prompts.watch(workspace, template_id, label=label)
            for printed, template in enumerate(found, start=1):
                if output is Output.table:
                    echo_line(f"version {template.version}: {template.name}")
                else:
                    emit(template, output)
                if count is not None and printed >= count:
                    return
        except KeyboardInterrupt:
            return
