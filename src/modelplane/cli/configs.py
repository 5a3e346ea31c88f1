"""`modelplane configs`: dynamic parameters of a service, their history, and watching them.

A parameter is addressed by CLUSTER (a region such as cn-hangzhou), SERVICE and KEY. In
table mode `get` prints the value alone and `watch` one line per new revision; in json
mode `watch` prints one JSON object per line (JSON Lines), in yaml mode one document each.
`set-many` sets and deletes several parameters as one revision, `revert` brings back an
earlier revision's parameters as a new one. `candidate` shows, sets, promotes and drops a
service's gray release; `--client-label` reads and watches as a client with that label;
`listeners` lists who watches a service now. `sync` keeps an EAS-style parameter file
current (cli/config_sync.py).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelplane.cli import arguments, config_sync
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
    plain,
    session,
)

if TYPE_CHECKING:
    from modelplane.client import ConfigNamespace, ConfigNamespaceChanges

app = typer.Typer(
    help="Dynamic parameters of a service: get, set, set-many, revert, history, watch, sync.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

COLUMNS = ("key", "value", "format", "revision", "updatedAt")
NAMESPACE_COLUMNS = ("cluster", "name", "revision", "ownerId", "updatedAt")
HISTORY_COLUMNS = ("revision", "key", "kind", "value", "format", "actorId", "at")
CANDIDATE_ITEM_COLUMNS = ("key", "op", "value", "format")
LISTENER_COLUMNS = (
    "replicaId",
    "clientLabel",
    "revision",
    "candidateVersion",
    "mode",
    "principalId",
    "since",
)

candidate_app = typer.Typer(
    help="A service's gray release: changes served only to clients with given labels until "
    "promoted (one revision for everyone) or dropped.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(candidate_app, name="candidate")

Cluster = Annotated[
    str, typer.Argument(help="The cluster (region), e.g. cn-hangzhou", callback=arguments.non_empty)
]
Service = Annotated[str, typer.Argument(help="The service's name", callback=arguments.non_empty)]
Key = Annotated[str, typer.Argument(help="The parameter's key", callback=arguments.non_empty)]
ClientLabelOption = Annotated[
    str | None,
    typer.Option(
        "--client-label",
        help="Read as a client with this label: with the service's gray release applied when "
        "it targets the label",
    ),
]
VersionOption = Annotated[
    int | None,
    typer.Option("--version", help="Only if the candidate is still at this version", min=1),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="The format the value must parse in, kept with the parameter: text, json, yaml "
        "or properties (default: a new parameter is text, an existing one keeps its own)",
    ),
]


@app.command("namespaces")
def namespaces(
    url: UrlOption = DEFAULT_URL, token: TokenOption = None, output: OutputOption = Output.table
) -> None:
    """List the services that have parameters (that were ever written to)."""
    with session(url, token) as client:
        emit(client.configs.namespaces(), output, columns=NAMESPACE_COLUMNS)


@app.command("list")
def list_(
    cluster: Cluster,
    service: Service,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
    client_label: ClientLabelOption = None,
) -> None:
    """List a service's parameters (json/yaml: with the namespace's revision)."""
    with session(url, token) as client:
        state = client.configs.get_namespace(cluster, service, client_label=client_label)
        emit(list(state.configs) if output is Output.table else state, output, columns=COLUMNS)


@app.command("get")
def get(
    cluster: Cluster,
    service: Service,
    key: Key,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
    client_label: ClientLabelOption = None,
) -> None:
    """Print a parameter's value (json/yaml: the whole parameter)."""
    with session(url, token) as client:
        found = client.configs.get(cluster, service, key, client_label=client_label)
        if output is Output.table:
            typer.echo(found.value)
        else:
            emit(found, output)


@app.command("set")
def set_(
    cluster: Cluster,
    service: Service,
    key: Key,
    value: Annotated[
        str | None,
        typer.Argument(help="The value (or use --value-file)", callback=arguments.non_empty),
    ] = None,
    value_file: Annotated[
        str | None,
        typer.Option(help="Read the value from a file (- for stdin); a final newline is dropped"),
    ] = None,
    value_format: FormatOption = None,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Create or change a parameter."""
    with session(url, token) as client:
        if (value is None) == (value_file is None):
            raise CommandError("give VALUE or --value-file")
        if value_file is not None:
            value = arguments.read_text(value_file).removesuffix("\n")
        assert value is not None
        put = client.configs.put(
            cluster, service, key, value, owner_id=owner_id, format=value_format
        )
        emit(put, output)


@app.command("set-many")
def set_many(
    cluster: Cluster,
    service: Service,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            "-f",
            help="A YAML or JSON object of KEY: VALUE (text, or a number written as JSON), or "
            "KEY: {value: ..., format: json|yaml|properties|text}; - for stdin",
        ),
    ] = None,
    delete: Annotated[
        list[str] | None,
        typer.Option("--delete", help="Delete this key too (repeat for more)"),
    ] = None,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Set (and --delete) several parameters as one revision: all of them or none."""
    with session(url, token) as client:
        if file is None and not delete:
            raise CommandError("give --file, --delete KEY, or both")
        values, formats = batch_values(arguments.read_mapping(file), file) if file else ({}, {})
        keys = [*values, *(delete or [])]
        from modelplane.client import InvalidArgument

        try:
            changes = client.configs.batch(
                cluster, service, values, delete=delete or [], formats=formats, owner_id=owner_id
            )
        except InvalidArgument as exc:
            raise CommandError(f"invalid argument: {by_key(exc, keys)}", 6) from None
        emit_changes(changes, output)


@app.command("revert")
def revert(
    cluster: Cluster,
    service: Service,
    revision: Annotated[
        int, typer.Option("--revision", help="The earlier revision to bring back", min=0)
    ],
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Make a service hold again what it held at an earlier revision, as a new revision."""
    with session(url, token) as client:
        emit_changes(client.configs.revert(cluster, service, revision, owner_id=owner_id), output)


def batch_values(data: dict[str, Any], source: str) -> tuple[dict[str, str], dict[str, str]]:
    """The values and the declared formats of a `set-many` file."""
    values: dict[str, str] = {}
    formats: dict[str, str] = {}
    for key, given in data.items():
        if isinstance(given, dict):
            extra = sorted(set(map(str, given)) - {"value", "format"})
            if extra or not isinstance(given.get("value"), str):
                raise CommandError(
                    f"{source}: {key} must be text, a number, or {{value: text, format: ...}}"
                    + (f"; unknown: {', '.join(extra)}" if extra else "")
                )
            values[key] = given["value"]
            if given.get("format") is not None:
                formats[key] = str(given["format"])
        else:
            values.update(arguments.string_values({key: given}, source))
    return values, formats


def by_key(exc: Exception, keys: list[str]) -> str:
    """An error of a batch with each `items.N` named by its key: `rate (items.2).value: …`."""
    from modelplane.client import ModelplaneError

    assert isinstance(exc, ModelplaneError)
    named = []
    for detail in exc.details:
        place, _, rest = detail.field.partition(".")[2].partition(".")
        if detail.field.startswith("items.") and place.isdigit() and int(place) < len(keys):
            field = f"{keys[int(place)]} (items.{place}){'.' + rest if rest else ''}"
        else:
            field = detail.field
        named.append(f"{field}: {detail.rule}")
    return "; ".join(named) or exc.message


def emit_changes(changes: ConfigNamespaceChanges, output: Output) -> None:
    """What a batch or revert changed: `revision 7: set a, b; deleted c`, or the object."""
    if output is not Output.table:
        emit(changes, output)
        return
    parts = []
    if changes.configs:
        parts.append("set " + ", ".join(c.key for c in changes.configs))
    if changes.deleted:
        parts.append("deleted " + ", ".join(changes.deleted))
    typer.echo(f"revision {changes.revision}: {'; '.join(parts) or 'nothing changed'}")


@app.command("delete")
def delete(
    cluster: Cluster,
    service: Service,
    key: Key,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a parameter."""
    with session(url, token) as client:
        client.configs.delete(cluster, service, key, owner_id=owner_id)
        emit_deleted("config", key, output)


@app.command("history")
def history(
    cluster: Cluster,
    service: Service,
    key: Annotated[
        str | None, typer.Argument(help="Only this key's changes", callback=arguments.non_empty)
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many (1..1000)", min=1, max=1000)
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List the changes of a service (or of one key), newest first."""
    with session(url, token) as client:
        changes = client.configs.history(cluster, service, key, limit=limit)
        emit(changes, output, columns=HISTORY_COLUMNS)


@app.command("watch")
def watch(
    cluster: Cluster,
    service: Service,
    since_revision: Annotated[
        int | None,
        typer.Option(help="Print revisions after this one (default: the current)", min=0),
    ] = None,
    timeout_seconds: Annotated[
        float, typer.Option(help="How long each long-poll waits (1..300)", min=1, max=300)
    ] = 30.0,
    count: Annotated[int | None, typer.Option(help="Stop after this many revisions", min=1)] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
    client_label: ClientLabelOption = None,
) -> None:
    """Print the parameters at each new revision, until Ctrl-C or --count revisions (with
    --client-label: as that client sees them, also when its gray release changes)."""
    with session(url, token) as client:
        try:
            if since_revision is None:
                since_revision = client.configs.get_namespace(cluster, service).revision
            states = client.configs.watch(
                cluster,
                service,
                since_revision=since_revision,
                timeout_seconds=timeout_seconds,
                client_label=client_label,
            )
            for printed, state in enumerate(states, start=1):
                echo_line(revision_text(state, output))
                if count is not None and printed >= count:
                    return
        except KeyboardInterrupt:
            return


app.command("sync")(config_sync.sync)

_BARE = re.compile(r"[^\s'\"\\]+")


def revision_text(state: ConfigNamespace, output: Output) -> str:
    """A revision as watch prints it: `revision 3: a=1 b="x y"`, a JSON line, or a YAML doc.

    In the first form a value with spaces, quotes or backslashes (or an empty one) is
    written as a JSON string, so that the line stays one line and can be read back.
    """
    if output is Output.json:
        return json.dumps(plain(state), ensure_ascii=False)
    if output is Output.yaml:
        import yaml

        document = yaml.safe_dump(plain(state), sort_keys=False, allow_unicode=True)
        return "---\n" + document.rstrip("\n")
    pairs = " ".join(f"{c.key}={_shown(c.value)}" for c in state.configs)
    gray = f" (candidate {state.candidate.version})" if state.candidate is not None else ""
    return f"revision {state.revision}{gray}: {pairs or '(no parameters)'}"


def _shown(value: str) -> str:
    return value if _BARE.fullmatch(value) else json.dumps(value, ensure_ascii=False)


@candidate_app.command("show")
def candidate_show(
    cluster: Cluster,
    service: Service,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Show the service's open gray release (table: its labels, then its changes)."""
    with session(url, token) as client:
        found = client.configs.candidate(cluster, service)
        if output is Output.table:
            typer.echo(
                f"candidate {found.candidate_id} version {found.version} on revision "
                f"{found.base_revision} for labels: {', '.join(found.labels)}"
            )
            emit(list(found.items), output, columns=CANDIDATE_ITEM_COLUMNS)
        else:
            emit(found, output)


@candidate_app.command("set")
def candidate_set(
    cluster: Cluster,
    service: Service,
    labels: Annotated[
        list[str],
        typer.Option("--label", help="A client label served the candidate (repeat for more)"),
    ],
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            "-f",
            help="The changes, as for set-many: a YAML or JSON object of KEY: VALUE or KEY: "
            "{value: ..., format: ...}; - for stdin",
        ),
    ] = None,
    delete: Annotated[
        list[str] | None,
        typer.Option("--delete", help="Delete this key for the labels too (repeat for more)"),
    ] = None,
    if_version: Annotated[
        int | None,
        typer.Option("--if-version", help="0: only create; N: only replace version N", min=0),
    ] = None,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Open the service's gray release, or replace the open one."""
    with session(url, token) as client:
        if file is None and not delete:
            raise CommandError("give --file, --delete KEY, or both")
        values, formats = batch_values(arguments.read_mapping(file), file) if file else ({}, {})
        keys = [*values, *(delete or [])]
        from modelplane.client import InvalidArgument

        try:
            found = client.configs.set_candidate(
                cluster,
                service,
                values,
                labels=labels,
                delete=delete or [],
                formats=formats,
                if_version=if_version,
                owner_id=owner_id,
            )
        except InvalidArgument as exc:
            raise CommandError(f"invalid argument: {by_key(exc, keys)}", 6) from None
        if output is Output.table:
            typer.echo(f"candidate {found.candidate_id} version {found.version}")
        else:
            emit(found, output)


@candidate_app.command("promote")
def candidate_promote(
    cluster: Cluster,
    service: Service,
    version: VersionOption = None,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Apply the gray release for everyone as one new revision, and close it."""
    with session(url, token) as client:
        changes = client.configs.promote_candidate(
            cluster, service, version=version, owner_id=owner_id
        )
        emit_changes(changes, output)


@candidate_app.command("drop")
def candidate_drop(
    cluster: Cluster,
    service: Service,
    version: VersionOption = None,
    owner_id: arguments.OwnerIdOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Close the gray release without changing anything for anyone."""
    with session(url, token) as client:
        found = client.configs.drop_candidate(cluster, service, version=version, owner_id=owner_id)
        if output is Output.table:
            typer.echo(f"dropped candidate {found.candidate_id} version {found.version}")
        else:
            emit(found, output)


@app.command("listeners")
def listeners(
    cluster: Cluster,
    service: Service,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List who watches a service now, on every replica (its owner and admins)."""
    with session(url, token) as client:
        emit(client.configs.listeners(cluster, service), output, columns=LISTENER_COLUMNS)
