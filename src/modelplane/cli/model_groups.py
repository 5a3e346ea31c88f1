"""`modelplane model-groups`: model groups of the catalog (`mt-…`), and what is in them.

A group's provider templates (`mpt-…`) and LLM templates (`llmt-…`) are listed by
`providers` and `models`; `modelplane apply` creates them from a file.
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
    emit,
    emit_deleted,
    session,
)

app = typer.Typer(
    help="Model groups (mt-…) of the catalog, and what is in them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("modelTemplateId", "name", "modelCount", "defaultModel", "updatedAt")
PROVIDER_COLUMNS = ("providerTemplateId", "providerName", "providerType", "name", "hasApiKey")
MODEL_COLUMNS = ("llmTemplateId", "providerTemplateId", "llmCode", "name", "isDefaultModel")

GroupArgument = Annotated[
    str, typer.Argument(help="The group's id (mt-…)", callback=arguments.non_empty)
]
Description = Annotated[str | None, typer.Option(help="A description")]
RefScope = Annotated[
    str | None, typer.Option(help="ALL_USER, USER_MIXED or RESOURCE_MIXED", show_default=False)
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
    name: Annotated[str, typer.Option(help="The group's name")],
    description: Description = None,
    ref_scope: RefScope = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a group owned by you; the server chooses its id (mt-…)."""
    with session(url, token) as client:
        created = client.model_groups.create(name, description=description, ref_scope=ref_scope)
        emit(created, output)


@app.command("update")
def update(
    group_id: GroupArgument,
    name: Annotated[str | None, typer.Option(help="A new name")] = None,
    description: Description = None,
    ref_scope: RefScope = None,
    default_model: Annotated[
        str | None,
        typer.Option(metavar="PROVIDER/CODE", help='The default model; "" clears'),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Change the fields given."""
    with session(url, token) as client:
        if all(v is None for v in (name, description, ref_scope, default_model)):
            raise CommandError("nothing to change: give a field to update")
        updated = client.model_groups.update(
            group_id,
            name=name,
            description=description,
            ref_scope=ref_scope,
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


@app.command("providers")
def providers(
    group_id: GroupArgument,
    page_size: PageSize = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a group's provider templates (API keys masked)."""
    with session(url, token) as client:
        found = client.provider_templates.iter(model_template_id=group_id, page_size=page_size)
        emit(list(found), output, columns=PROVIDER_COLUMNS)


@app.command("models")
def models(
    group_id: GroupArgument,
    provider: Annotated[
        str | None, typer.Option(help="Only this provider template's (mpt-…)")
    ] = None,
    page_size: PageSize = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a group's LLM templates (its models)."""
    with session(url, token) as client:
        found = client.llm_templates.iter(
            model_template_id=group_id, provider_template_id=provider, page_size=page_size
        )
        emit(list(found), output, columns=MODEL_COLUMNS)
