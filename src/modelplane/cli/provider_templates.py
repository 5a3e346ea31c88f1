"""`modelplane model-groups providers`: the provider templates (`mpt-…`) of a model group.

A provider is an endpoint (`--base-url`, `--api`) and its API key, which is sealed on the
server and never shown again (only a masked hint). The key is never taken as a
command-line argument (it would stay in the shell's history and show in `ps`):
`--api-key-from-env NAME` sends the value of this shell's variable NAME, `--api-key-stdin`
sends what is piped in.
"""

from __future__ import annotations

import enum
import os
from typing import Annotated, Any

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
    help="The providers of a model group: endpoint, API type and sealed API key.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("providerTemplateId", "providerName", "providerType", "name", "hasApiKey")

GroupArgument = Annotated[
    str, typer.Argument(help="The group's id (mt-…)", callback=arguments.non_empty)
]
ProviderArgument = Annotated[
    str, typer.Argument(help="The provider's id (mpt-…)", callback=arguments.non_empty)
]
BaseUrl = Annotated[
    str | None, typer.Option(help="The API's base URL (http or https)", show_default=False)
]
Api = Annotated[
    str | None,
    typer.Option(help="The API type, e.g. openai-completions (1..64 characters)"),
]
Description = Annotated[str | None, typer.Option(help="A description")]
ApiKeyFromEnv = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Send the value of this shell's variable NAME (sealed)"),
]
ApiKeyStdin = Annotated[bool, typer.Option("--api-key-stdin", help="Send the key piped on stdin")]


class ProviderType(enum.StrEnum):
    """A provider template's type (domain/catalog.py's ProviderKind, pinned by a test)."""

    Managed = "Managed"
    Custom = "Custom"
    WuyingCredit = "WuyingCredit"


def api_key(from_env: str | None, stdin: bool) -> str | None:
    """The API key the options name, or None when none was given."""
    if from_env is not None and stdin:
        raise CommandError("give one of --api-key-from-env, --api-key-stdin")
    if from_env is not None:
        value = os.environ.get(from_env)
        if not value:
            raise CommandError(f"--api-key-from-env: {from_env} is not set or empty")
        return value
    if stdin:
        value = arguments.read_stdin("the API key").strip()
        if not value:
            raise CommandError("--api-key-stdin: nothing was piped in")
        return value
    return None


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
    """List a group's providers, oldest first (API keys masked)."""
    with session(url, token) as client:
        found = client.provider_templates.iter(model_template_id=group_id, page_size=page_size)
        emit(list(found), output, columns=COLUMNS)


@app.command("get")
def get(
    provider_id: ProviderArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one provider (its API key masked)."""
    with session(url, token) as client:
        emit(client.provider_templates.get(provider_id), output)


@app.command("add")
def add(
    group_id: GroupArgument,
    provider_name: Annotated[
        str,
        typer.Option(
            help="Unique in the group, 1..64 of a-z 0-9 . _ -; a Custom provider's starts "
            "with provider-, the WuyingCredit provider is wuying-credit",
        ),
    ],
    name: Annotated[
        str | None, typer.Option(help="A name for people (default: --provider-name)")
    ] = None,
    provider_type: Annotated[
        ProviderType, typer.Option("--type", help="The provider's type")
    ] = ProviderType.Custom,
    base_url: BaseUrl = None,
    api: Api = None,
    description: Description = None,
    enable_wuying_proxy: Annotated[
        bool, typer.Option("--enable-wuying-proxy", help="Call the provider through Wuying")
    ] = False,
    api_key_from_env: ApiKeyFromEnv = None,
    api_key_stdin: ApiKeyStdin = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Add a provider to a group; the server chooses its id (mpt-…)."""
    with session(url, token) as client:
        key = api_key(api_key_from_env, api_key_stdin)
        config = arguments.given({"baseUrl": base_url, "api": api, "apiKey": key})
        created = client.provider_templates.create(
            group_id,
            name if name is not None else provider_name,
            provider_name,
            provider_type.value,
            config=config or None,
            description=description,
            enable_wuying_proxy=enable_wuying_proxy or None,
        )
        emit(created, output)


@app.command("update")
def update(
    provider_id: ProviderArgument,
    name: Annotated[str | None, typer.Option(help="A new name")] = None,
    description: Description = None,
    base_url: Annotated[
        str | None, typer.Option(help='A new base URL; "" clears it', show_default=False)
    ] = None,
    api: Annotated[str | None, typer.Option(help='A new API type; "" clears it')] = None,
    wuying_proxy: Annotated[
        bool | None,
        typer.Option(
            "--enable-wuying-proxy/--disable-wuying-proxy",
            help="Call the provider through Wuying, or not",
            show_default=False,
        ),
    ] = None,
    api_key_from_env: ApiKeyFromEnv = None,
    api_key_stdin: ApiKeyStdin = False,
    clear_api_key: Annotated[
        bool, typer.Option("--clear-api-key", help="Remove the stored API key")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Change the fields given; --provider-name and --type cannot change."""
    with session(url, token) as client:
        key = api_key(api_key_from_env, api_key_stdin)
        if clear_api_key and key is not None:
            raise CommandError("give --clear-api-key or a new key, not both")
        config: dict[str, Any] = arguments.given({"baseUrl": base_url, "api": api, "apiKey": key})
        if clear_api_key:
            config["apiKey"] = None  # an explicit null clears it
        fields = (name, description, wuying_proxy)
        if not config and all(v is None for v in fields):
            raise CommandError("nothing to change: give a field to update")
        updated = client.provider_templates.update(
            provider_id,
            name=name,
            description=description,
            enable_wuying_proxy=wuying_proxy,
            config=config or None,
        )
        emit(updated, output)


@app.command("delete")
def delete(
    provider_id: ProviderArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a provider with its models (a group default among them is cleared)."""
    with session(url, token) as client:
        client.provider_templates.delete(provider_id)
        emit_deleted("provider template", provider_id, output)
