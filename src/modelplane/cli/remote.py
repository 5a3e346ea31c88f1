"""What every command that talks to a server needs: options, a client, errors, output.

    @app.command("get")
    def get(llm_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = None,
            output: OutputOption = Output.table) -> None:
        with session(url, token) as client:
            emit(client.llms.get(llm_id), output)

`session` checks the token, opens a `modelplane.client.Client`, and turns every failure
inside it into one line on stderr, `error: <message>`, and an exit code that scripts can
rely on (`EXIT_CODES`):

    0  success
    1  any other failure (a server error, an unexpected answer, a local I/O error)
    2  usage error: bad options or arguments, unreadable input, no token
    3  not found                                  (NOT_FOUND)
    4  already exists, or a conflicting state     (ALREADY_EXISTS, FAILED_PRECONDITION)
    5  not authenticated, or not allowed          (UNAUTHENTICATED, PERMISSION_DENIED)
    6  invalid argument, refused by the server    (INVALID_ARGUMENT)
    7  server unavailable or unreachable          (UNAVAILABLE, no answer)
    8  rate limited                               (RESOURCE_EXHAUSTED)

Only typer is imported at module level (the client, rich and PyYAML when used), so that
`modelplane --help` stays fast.
"""

from __future__ import annotations

import enum
import json
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from modelplane.client import Client, ModelplaneError

EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "any other failure (a server error, an unexpected answer, a local I/O error)",
    2: "usage error: bad options or arguments, unreadable input, no token",
    3: "not found",
    4: "already exists, or a conflicting state",
    5: "not authenticated, or not allowed",
    6: "invalid argument, refused by the server",
    7: "server unavailable or unreachable",
    8: "rate limited",
}
USAGE = 2

# The native error code of a `ModelplaneError` (TRANSPORT: no answer) -> exit code.
_EXIT_BY_ERROR_CODE = {
    "NOT_FOUND": 3,
    "ALREADY_EXISTS": 4,
    "FAILED_PRECONDITION": 4,
    "UNAUTHENTICATED": 5,
    "PERMISSION_DENIED": 5,
    "INVALID_ARGUMENT": 6,
    "UNAVAILABLE": 7,
    "TRANSPORT": 7,
    "RESOURCE_EXHAUSTED": 8,
}

DEFAULT_URL = "http://127.0.0.1:8080"


class Output(enum.StrEnum):
    """Output formats: a table for people, JSON or YAML (the API's fields) for programs."""

    table = "table"
    json = "json"
    yaml = "yaml"


UrlOption = Annotated[
    str, typer.Option("--url", envvar="MODELPLANE_URL", help="The modelplane server")
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="MODELPLANE_TOKEN", help="An API key (mp_…); required", show_default=False
    ),
]
OutputOption = Annotated[
    Output, typer.Option("--output", "-o", help="Output format", case_sensitive=False)
]


class CommandError(Exception):
    """A failure the command detected itself, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def connect(url: str, token: str | None) -> Client:
    """A client of the server at `url`; a missing token is a usage error."""
    if not token:
        raise CommandError("no API key: pass --token or set MODELPLANE_TOKEN")
    if not url.startswith(("http://", "https://")):
        raise CommandError(f"--url must start with http:// or https://, got {url!r}")
    from modelplane.client import Client

    return Client(url, api_key=token)


@contextmanager
def reported_errors(url: str = DEFAULT_URL) -> Iterator[None]:
    """Turn any failure inside into `error: <message>` on stderr and its exit code.

    typer's own exits (`typer.Exit`, usage errors) pass through unchanged, and so does a
    closed stdout (`… | head -1`), which typer ends quietly.
    """
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException, BrokenPipeError):
        raise
    except CommandError as exc:
        _fail(exc.message, exc.exit_code)
    except Exception as exc:
        from modelplane.client import ModelplaneError

        if isinstance(exc, ModelplaneError):
            _fail(describe(exc, url), _EXIT_BY_ERROR_CODE.get(exc.code, 1))
        if isinstance(exc, OSError):
            _fail(str(exc), 1)
        _fail(f"unexpected {type(exc).__name__}: {exc}", 1)


@contextmanager
def session(url: str, token: str | None) -> Iterator[Client]:
    """A connected client; every failure inside is reported as in `reported_errors`."""
    with reported_errors(url), connect(url, token) as client:
        yield client


def describe(exc: ModelplaneError, url: str) -> str:
    """One line for an SDK error, e.g. `invalid argument: displayName: length must be …`."""
    if exc.code == "TRANSPORT":
        return f"cannot reach {url}: {exc.message}"
    parts = [exc.message] if exc.message else []
    parts += [f"{d.field}: {d.rule}" for d in exc.details if not _named(d.field, exc.message)]
    text = "; ".join(parts) or "no message"
    if exc.code == "NOT_FOUND" and (base := _without_v1(url)) is not None:
        text += f" (hint: --url is the server's base URL, without /v1: {base})"
    if exc.code in _EXIT_BY_ERROR_CODE:
        return f"{exc.code.lower().replace('_', ' ')}: {text}"
    request = f" (request {exc.request_id})" if exc.request_id else ""
    return f"server error {exc.status_code} {exc.code}: {text}{request}"


def _without_v1(url: str) -> str | None:
    """`url` without the `/v1` it ends with (a common mistake: the API's paths add it);
    None when it does not end so."""
    trimmed = url.rstrip("/")
    return trimmed.removesuffix("/v1") if trimmed.endswith("/v1") else None


def _named(field: str, message: str) -> bool:
    """Whether `message` speaks of `field` already (or of the object it is part of)."""
    return f"{field}:" in message or f"{field.split('.')[0]}:" in message


def _fail(message: str, exit_code: int) -> NoReturn:
    text = " ".join(message.split())
    typer.echo(f"error: {text}", err=True)
    raise typer.Exit(exit_code)


def plain(data: Any) -> Any:
    """`data` as JSON-ready values: SDK models as the API writes them (camelCase)."""
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        return data.model_dump(mode="json", by_alias=True)
    if isinstance(data, Mapping):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(item) for item in data]
    return data


def emit(data: Any, output: Output, *, columns: Sequence[str] | None = None) -> None:
    """Print `data` (an SDK model, a dict, or a list of them) on stdout.

    json and yaml print every field; a table prints a list as one row per item (the
    `columns` given, else every field of the first item; line breaks as `\\n`) and one
    object as field/value rows (every field; a nested object's as `parent.child`).
    """
    value = plain(data)
    if output is Output.json:
        typer.echo(json.dumps(value, indent=2, ensure_ascii=False))
    elif output is Output.yaml:
        import yaml

        typer.echo(yaml.safe_dump(value, sort_keys=False, allow_unicode=True), nl=False)
    elif isinstance(value, list):
        keys = list(columns or (value[0].keys() if value else ()))
        rows = [[one_line(cell(key, row.get(key))) for key in keys] for row in value]
        print_table(keys, rows)
    else:
        print_table(["field", "value"], [[key, cell(key, v)] for key, v in fields(value)])


def emit_deleted(kind: str, identifier: str, output: Output) -> None:
    """Confirm a deletion: `deleted <kind> <id>`, or `{"deleted": true, "id": …}`."""
    if output is Output.table:
        typer.echo(f"deleted {kind} {identifier}")
    else:
        emit({"deleted": True, "id": identifier}, output)


def fields(value: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """An object's fields, nested objects spelled out as `parent.child`."""
    for key, item in value.items():
        if isinstance(item, Mapping) and item:
            yield from fields(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


def is_time(key: str) -> bool:
    """Whether a field (`parent.child` spelled out) holds a time in epoch milliseconds."""
    name = key.rpartition(".")[2]
    return name.endswith("At") or name in _TIME_FIELDS


def local_time(ms: int) -> str:
    """Epoch milliseconds as a date and time in the local time zone: `2026-12-06 07:12:03`."""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def cell(key: str, value: Any) -> str:
    """A table cell: times (epoch ms) as local dates, lists comma-separated, JSON otherwise."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and is_time(key):
        return local_time(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False)


_TIME_FIELDS = frozenset({"at", "since"})
_DURATION = re.compile(r"([0-9]{1,7})([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_EPOCH_MS_MIN = 10**11  # a plain number this large is epoch ms (from 1973 on), as -o json shows
MOMENT_HELP = (
    "ISO 8601 (2026-12-06 or 2026-12-06T07:12:03, local time unless it ends in Z or "
    "+hh:mm), a duration back from now (30m, 1h, 7d), or epoch ms"
)


def moment_ms(text: str, *, now_ms: int | None = None) -> int:
    """The time `text` names, in epoch ms: an ISO 8601 date or date-time (local time without
    an offset), a duration back from now (`90s`, `30m`, `1h`, `7d`, `2w`), or epoch ms.
    ValueError, saying what is accepted, for anything else."""
    text = text.strip()
    duration = _DURATION.fullmatch(text)
    if duration is not None:
        now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        return now - int(duration.group(1)) * _UNIT_SECONDS[duration.group(2)] * 1000
    if text.isdigit() and int(text) >= _EPOCH_MS_MIN:
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            "takes an ISO 8601 date or time (2026-12-06, 2026-12-06T07:12:03, local time "
            "unless it ends in Z or +hh:mm), a duration back from now (30m, 1h, 7d: s, m, h, "
            f"d, w) or epoch milliseconds; got {text!r}"
        ) from None
    return int(moment.astimezone().timestamp() * 1000)  # a naive time is local


def moment_option(text: str) -> int:
    """`moment_ms` as an option's parser: typer names the option in the error (exit 2)."""
    try:
        return moment_ms(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def one_line(text: str) -> str:
    """`text` with its line breaks written as `\\n`, so that a table row stays one line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print aligned columns (no borders) on stdout; on a terminal, wrapped to its width."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in headers:
        table.add_column(Text(header), overflow="fold")
    for row in rows:
        table.add_row(*(Text(value) for value in row))
    # Not on a terminal: never wrap, so that each row stays one line for grep and awk.
    terminal = sys.stdout.isatty()
    console = Console(highlight=False, width=None if terminal else 100_000)
    with console.capture() as captured:
        console.print(table)
    lines = captured.get().splitlines()
    typer.echo("\n".join(line.rstrip() for line in lines))


def echo_line(text: str) -> None:
    """Print one line on stdout and flush (for streams read as they come)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
