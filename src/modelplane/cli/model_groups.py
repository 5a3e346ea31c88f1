"""`modelplane model-groups`: model groups of the catalog (`mt-…`), and what is in them.

A group's providers (provider templates, `mpt-…`) are managed by `model-groups providers`
(`cli/provider_templates.py`), their models (LLM templates, `llmt-…`) by `model-groups
models` (`cli/llm_templates.py`), the runtimes bound to it by `model-groups runtimes`
(`cli/runtimes.py`); `modelplane apply` creates all of them from a file.
"""

from __future__ import annotations

from typing import Annotated

import typer

from modelplane.cli import arguments, llm_templates, provider_templates, runtimes
from modelplane.cli.remote import (
    DEFAULT_URL,
    CommandError,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    emit_deleted,
    session,
)

app = typer.Typer(
    help="Model groups (mt-…) of the catalog, and what is in them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(provider_templates.app, name="providers")
app.add_typer(llm_templates.app, name="models")
app.add_typer(runtimes.app, name="runtimes")

COLUMNS = ("modelTemplateId", "name", "modelCount", "defaultModel", "updatedAt")

GroupArgument = Annotated[
    str, typer.Argument(help="The group's id (mt-…)", callback=arguments.non_empty)
]
Description = Annotated[str | None, typer.Option(help="A description")]
RefScope = Annotated[
    str | None, typer.Option(help="ALL_USER, USER_MIXED or RESOURCE_MIXED", show_default=False)
]
ConfigFile = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Replace the group's whole config with this JSON or YAML object (- for stdin); "
        "its defaults.model.primary moves the default model",
    ),
]
PageSize = Annotated[int, typer.Option(help="Items per request (1..500)", min=1, max=500)]


@app.command("list")
def list_(
    name: Annotated[str | None, typer.Option(help="Only names holding this text")] = None,
    page: Annotated[
        int | None, typer.Option(help="Only this page (from 1); default: every page", min=1)
    ] = None,
    page_size: PageSize = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List the groups you may read, oldest first."""
    with session(url, token) as client:
        if page is None:
            groups = list(client.model_groups.iter(name=name, page_size=page_size))
        else:
            found = client.model_groups.list(name=name, page_number=page, page_size=page_size)
            groups = list(found.model_groups)
        emit(groups, output, columns=COLUMNS)


@app.command("get")
def get(
    group_id: GroupArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one group."""
    with session(url, token) as client:
        emit(client.model_groups.get(group_id), output)


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="The group's name (1..128 characters)")],
    description: Description = None,
    ref_scope: RefScope = None,
    agent_platform: Annotated[
        str | None, typer.Option(help="The agent platform it serves (1..64 characters)")
    ] = None,
    agent_provider: Annotated[
        str | None, typer.Option(help="The agent provider it serves (1..64 characters)")
    ] = None,
    biz_type: Annotated[
        int | None, typer.Option(help="A business type number (32-bit)", show_default=False)
    ] = None,
    group_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Choose the id: mt- then 1..29 of a-z, 0-9, - (default: the server's)",
            show_default=False,
        ),
    ] = None,
    owner_id: Annotated[
        str | None, typer.Option(help="Owner (default: you; another: admins only)")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a group owned by you (or by --owner-id); its id is --id or the server's (mt-…)."""
    with session(url, token) as client:
        created = client.model_groups.create(
            name,
            description=description,
            ref_scope=ref_scope,
            agent_platform=agent_platform,
            agent_provider=agent_provider,
            biz_type=biz_type,
            model_template_id=group_id,
            owner_id=owner_id,
        )
        emit(created, output)


@app.command("update")
def update(
    group_id: GroupArgument,
    name: Annotated[str | None, typer.Option(help="A new name")] = None,
    description: Description = None,
    ref_scope: RefScope = None,
    default_model: Annotated[
        str | None,
        typer.Option(
            metavar="PROVIDER/CODE",
            help='The default model: a provider\'s name and a code of its models; "" clears',
        ),
    ] = None,
    config: ConfigFile = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Change the fields given."""
    with session(url, token) as client:
        if all(v is None for v in (name, description, ref_scope, default_model, config)):
            raise CommandError("nothing to change: give a field to update")
        updated = client.model_groups.update(
            group_id,
            name=name,
            description=description,
            ref_scope=ref_scope,
            config=arguments.read_mapping(config) if config is not None else None,
            default_model=default_model,
        )
        emit(updated, output)


@app.command("delete")
def delete(
    group_id: GroupArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a group with its providers, models and runtime bindings."""
    with session(url, token) as client:
        client.model_groups.delete(group_id)
        emit_deleted("model group", group_id, output)
