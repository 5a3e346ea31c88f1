"""`modelplane model-groups models`: the models (LLM templates, `llmt-…`) of a group's providers.

`add` adds one model to a provider; `add-many` adds a batch from a JSON or YAML file (or
stdin) in one request, which the server checks whole before it writes anything: an
invalid item refuses the batch, codes the provider has already are skipped. `update`
changes a model's name, description or config in place (its id, code and default stay);
its code never changes: add a model with the new code and delete the old one
(`--default` on `add`, or `model-groups update --default-model`, makes a model the
group's default).
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from typing import TYPE_CHECKING, Annotated, Any

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
    print_table,
    session,
)
from modelplane.domain.catalog import batch_item_shape
from modelplane.domain.errors import ViolationCollector, listing

if TYPE_CHECKING:
    from modelplane.client import BatchResult

app = typer.Typer(
    help="The models of a group's providers: add one or a batch, list, show, change, delete.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("llmTemplateId", "providerTemplateId", "llmCode", "name", "isDefaultModel")

ProviderArgument = Annotated[
    str, typer.Argument(help="The provider's id (mpt-…)", callback=arguments.non_empty)
]
ModelArgument = Annotated[
    str, typer.Argument(help="The model's id (llmt-…)", callback=arguments.non_empty)
]


@app.command("list")
def list_(
    group_id: Annotated[
        str, typer.Argument(help="The group's id (mt-…)", callback=arguments.non_empty)
    ],
    provider: Annotated[
        str | None, typer.Option(help="Only this provider's (mpt-…)", show_default=False)
    ] = None,
    page_size: Annotated[
        int, typer.Option(help="Items per request (1..500)", min=1, max=500)
    ] = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a group's models, oldest first."""
    with session(url, token) as client:
        found = client.llm_templates.iter(
            model_template_id=group_id, provider_template_id=provider, page_size=page_size
        )
        emit(list(found), output, columns=COLUMNS)


@app.command("get")
def get(
    model_id: ModelArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one model."""
    with session(url, token) as client:
        emit(client.llm_templates.get(model_id), output)


@app.command("add")
def add(
    provider_id: ProviderArgument,
    llm_code: Annotated[
        str,
        typer.Argument(
            help="The provider's model id, e.g. qwen-max (1..128 of A-Z a-z 0-9 . _ : / @ + -)",
            callback=arguments.non_empty,
        ),
    ],
    name: Annotated[str | None, typer.Option(help="A name for people")] = None,
    description: Annotated[str | None, typer.Option(help="A description")] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="The model's config: a JSON or YAML object (- for stdin)",
        ),
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Make it the group's default model")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Add a model to a provider; a code the provider has already is refused (exit 4)."""
    with session(url, token) as client:
        item: dict[str, Any] = arguments.given(
            {"llmCode": llm_code, "name": name, "description": description}
        )
        if config is not None:
            item["config"] = arguments.read_mapping(config)
        if default:
            item["isDefaultModel"] = True
        result = client.llm_templates.batch_create(provider_id, [item])
        if result.skipped_items:
            reason = result.skipped_items[0].reason
            raise CommandError(f"already exists: model {llm_code!r}: {reason}", 4)
        emit(client.llm_templates.get(result.llm_template_ids[0]), output)


@app.command("add-many")
def add_many(
    provider_id: ProviderArgument,
    file: Annotated[
        str,
        typer.Option(
            "--file",
            "-f",
            help="A JSON or YAML list of models, each a code or an object with llmCode and "
            "optionally name, description, config, isDefaultModel; - for stdin",
        ),
    ],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Add models to a provider in one request: all of them or none; codes the provider
    has already, and repeats, are skipped and listed."""
    with session(url, token) as client:
        items = batch_items(arguments.read_document(file), file)
        result = client.llm_templates.batch_create(provider_id, items)
        if output is Output.table:
            print_table(["llmCode", "llmTemplateId", "result"], batch_rows(items, result))
        else:
            emit(result, output)


@app.command("update")
def update(
    model_id: ModelArgument,
    name: Annotated[str | None, typer.Option(help="A new name for people")] = None,
    description: Annotated[str | None, typer.Option(help="A new description")] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="The model's new config, replacing the whole object: a JSON or YAML object "
            "(- for stdin; {} clears it)",
        ),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Change the fields given in place; the model keeps its id, code and default."""
    with session(url, token) as client:
        if all(v is None for v in (name, description, config)):
            raise CommandError("nothing to change: give --name, --description or --config")
        updated = client.llm_templates.update(
            model_id,
            name=name,
            description=description,
            config=arguments.read_mapping(config) if config is not None else None,
        )
        emit(updated, output)


@app.command("delete")
def delete(
    model_id: ModelArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a model (the group's default, if it was, is cleared)."""
    with session(url, token) as client:
        client.llm_templates.delete(model_id)
        emit_deleted("model", model_id, output)


def batch_items(data: Any, source: str) -> list[dict[str, Any]]:
    """The items of an `add-many` file, each checked for its shape (the server checks the
    values); every problem is named (`items.N.field`) before anything is sent."""
    if not isinstance(data, list):
        kind = "nothing" if data is None else "an object" if isinstance(data, dict) else "a scalar"
        raise CommandError(f"{source}: must hold a list of models, not {kind}")
    if not data:
        raise CommandError(f"{source}: holds no models")
    errors = ViolationCollector()
    for n, entry in enumerate(data):
        batch_item_shape(n, entry, errors)
    if errors.violations:
        raise CommandError(f"{source}: {listing(errors.violations)}")
    return [
        {"llmCode": entry}
        if isinstance(entry, str)
        else {str(k): v for k, v in entry.items() if v is not None}
        for entry in data
    ]


def batch_rows(items: list[dict[str, Any]], result: BatchResult) -> list[list[str]]:
    """One row per item: its code, the new model's id or "", and `created` or `skipped: …`.

    The server creates the first item of each code the provider does not have, in order,
    and skips the rest (a code it has: every item of it; a repeat: all but the first)."""
    codes = [str(item["llmCode"]) for item in items]
    reasons: defaultdict[str, deque[str]] = defaultdict(deque)
    for skipped in result.skipped_items:
        reasons[skipped.llm_code].append(skipped.reason)
    occurrences = Counter(codes)
    created = iter(result.llm_template_ids)
    rows: list[list[str]] = []
    seen: set[str] = set()
    for code in codes:
        first = code not in seen
        seen.add(code)
        if first and len(reasons[code]) < occurrences[code]:
            rows.append([code, next(created, ""), "created"])
        else:
            reason = reasons[code].popleft() if reasons[code] else ""
            rows.append([code, "", f"skipped: {reason}"])
    return rows
