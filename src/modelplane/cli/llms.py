"""`modelplane llms`: LLM connections (`/v1/llms`).

A secret is never taken as a command-line argument (it would stay in the shell's history
and show in `ps`): `--api-key-env NAME` stores a reference (`env://NAME`, read by whoever
uses the connection), `--api-key-from-env NAME` sends the value of the variable NAME in
this shell, `--api-key-stdin` sends what is piped in. `-f body.json|yaml` gives the whole
wire body; the options given override its fields.
"""

from __future__ import annotations

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
    help="LLM connections and their encrypted credentials.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("llmId", "displayName", "providerType", "modelIdentifier", "hasCredentials")
# The provider types an LLM connection may have (domain/llm_types.py's, pinned by a test;
# not imported, to keep the command line quick to start).
PROVIDER_TYPES = (
    "OPENAI, LITELLM_PROXY, OPEN_ROUTER, DASHSCOPE, VLLM, OLLAMA, LLAMA_CPP, "
    "CUSTOM_OPENAI_COMPATIBLE"
)

LlmArgument = Annotated[str, typer.Argument(help="The LLM's id", callback=arguments.non_empty)]
DisplayName = Annotated[str | None, typer.Option(help="A name for people (1..255 characters)")]
ModelIdentifier = Annotated[str | None, typer.Option(help="The provider's model id, e.g. gpt-4o")]
EndpointUrl = Annotated[str | None, typer.Option(help="The API's base URL (http or https)")]
ApiPath = Annotated[str | None, typer.Option(help="Path under the base URL (/chat/completions)")]
Description = Annotated[str | None, typer.Option(help="A description")]
MaxContextLength = Annotated[int | None, typer.Option(help="The context window, in tokens")]
Labels = Annotated[
    list[str] | None, typer.Option("--label", metavar="KEY=VALUE", help="A label (repeatable)")
]
ApiKeyEnv = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Store a reference env://NAME, resolved where it is used"),
]
ApiKeyFromEnv = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Send the value of this shell's variable NAME (stored)"),
]
ApiKeyStdin = Annotated[bool, typer.Option("--api-key-stdin", help="Send the key piped on stdin")]
BodyFile = Annotated[
    str | None,
    typer.Option("--file", "-f", help="The wire body as JSON or YAML (- for stdin)"),
]


def credentials(
    api_key_env: str | None, api_key_from_env: str | None, api_key_stdin: bool
) -> dict[str, Any] | None:
    """The wire credentials the options ask for, or None when none was given."""
    chosen = [api_key_env is not None, api_key_from_env is not None, api_key_stdin]
    if sum(chosen) > 1:
        raise CommandError("give one of --api-key-env, --api-key-from-env, --api-key-stdin")
    if api_key_env is not None:
        key: dict[str, Any] = {"secretRef": {"uri": f"env://{api_key_env}"}}
    elif api_key_from_env is not None:
        value = os.environ.get(api_key_from_env)
        if not value:
            raise CommandError(f"--api-key-from-env: {api_key_from_env} is not set or empty")
        key = {"inlineSecret": value}
    elif api_key_stdin:
        value = arguments.read_stdin("the API key").strip()
        if not value:
            raise CommandError("--api-key-stdin: nothing was piped in")
        key = {"inlineSecret": value}
    else:
        return None
    return {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": key}


def body(file: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The wire body: the file's object (if any), then the fields given (not None)."""
    start = arguments.read_mapping(file) if file is not None else {}
    return {**start, **arguments.given(fields)}


@app.command("list")
def list_(
    owner_id: Annotated[str | None, typer.Option(help="Only this owner's")] = None,
    provider_type: Annotated[str | None, typer.Option(help="Only this provider type")] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(metavar="KEY=VALUE", help="Only with this label (repeatable: all of them)"),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List the LLMs you may read."""
    with session(url, token) as client:
        labels = arguments.pairs(label, "--label")
        found = client.llms.list(owner_id=owner_id, provider_type=provider_type, labels=labels)
        emit(found, output, columns=COLUMNS)


@app.command("get")
def get(
    llm_id: LlmArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one LLM (never its credentials: only hasCredentials)."""
    with session(url, token) as client:
        emit(client.llms.get(llm_id), output)


@app.command("create")
def create(
    display_name: DisplayName = None,
    model_identifier: ModelIdentifier = None,
    provider_type: Annotated[
        str | None, typer.Option(help=f"One of {PROVIDER_TYPES}; inferred for known models")
    ] = None,
    endpoint_url: EndpointUrl = None,
    api_path: ApiPath = None,
    description: Description = None,
    label: Labels = None,
    max_context_length: MaxContextLength = None,
    owner_id: Annotated[str | None, typer.Option(help="Owner (admins only)")] = None,
    llm_id: Annotated[str | None, typer.Option(help="Choose the id (a UUID)")] = None,
    api_key_env: ApiKeyEnv = None,
    api_key_from_env: ApiKeyFromEnv = None,
    api_key_stdin: ApiKeyStdin = False,
    file: BodyFile = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create an LLM; --display-name and --model-identifier are required (or in --file)."""
    with session(url, token) as client:
        wire = body(
            file,
            {
                "displayName": display_name,
                "modelIdentifier": model_identifier,
                "providerType": provider_type,
                "endpointUrl": endpoint_url,
                "apiPath": api_path,
                "description": description,
                "labels": arguments.pairs(label, "--label") or None,
                "maxContextLength": max_context_length,
                "ownerId": owner_id,
                "llmId": llm_id,
                "credentials": credentials(api_key_env, api_key_from_env, api_key_stdin),
            },
        )
        name, model = wire.pop("displayName", None), wire.pop("modelIdentifier", None)
        if not isinstance(name, str) or not isinstance(model, str):
            raise CommandError("--display-name and --model-identifier are required")
        created = client.llms.create(name, model, extra=wire)
        emit(created.llm if output is Output.table else created, output)


@app.command("update")
def update(
    llm_id: LlmArgument,
    display_name: DisplayName = None,
    model_identifier: ModelIdentifier = None,
    endpoint_url: EndpointUrl = None,
    api_path: ApiPath = None,
    description: Description = None,
    label: Labels = None,
    merge_labels: Annotated[
        bool,
        typer.Option(
            "--merge-labels/--replace-labels",
            help="Add the --label pairs to the labels, or replace all labels with them",
        ),
    ] = True,
    max_context_length: MaxContextLength = None,
    api_key_env: ApiKeyEnv = None,
    api_key_from_env: ApiKeyFromEnv = None,
    api_key_stdin: ApiKeyStdin = False,
    file: BodyFile = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Change the fields given; the provider type cannot change."""
    with session(url, token) as client:
        labels = arguments.pairs(label, "--label")
        wire = body(
            file,
            {
                "displayName": display_name,
                "modelIdentifier": model_identifier,
                "endpointUrl": endpoint_url,
                "apiPath": api_path,
                "description": description,
                "mergeLabels": labels if merge_labels and labels else None,
                "replaceLabels": None if merge_labels else labels,
                "maxContextLength": max_context_length,
                "credentials": credentials(api_key_env, api_key_from_env, api_key_stdin),
            },
        )
        if not wire:
            raise CommandError("nothing to change: give a field to update")
        emit(client.llms.update(llm_id, extra=wire), output)


@app.command("delete")
def delete(
    llm_id: LlmArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete an LLM and its stored credentials."""
    with session(url, token) as client:
        client.llms.delete(llm_id)
        emit_deleted("llm", llm_id, output)
