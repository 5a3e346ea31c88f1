"""`modelplane keys`: a principal's API keys, or (`--kind access`) its access-key pairs.

API keys (`mp_…`) authenticate on the native API and the gateway; access-key pairs sign
requests on the Alibaba faces. A new token or secret is printed once, by `create`, and
never again. An API key may be scoped: `--gateway-only`, `--model` (repeated) and an
expiry (`--expires-in 30d` or `--expires-at 2027-01-01T00:00:00Z`).
"""

from __future__ import annotations

import enum
import re
import time
from datetime import datetime
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
    plain,
    session,
)

app = typer.Typer(
    help="API keys and access-key pairs of a principal (admins; a member: its own API keys, "
    "as `me`).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Kind(enum.StrEnum):
    """Which kind of key: an API key, or an access-key pair for the Alibaba faces."""

    api = "api"
    access = "access"


PrincipalArgument = Annotated[
    str,
    typer.Argument(
        help="The principal's id (`me`: the caller, for its own API keys)",
        callback=arguments.non_empty,
    ),
]
KindOption = Annotated[
    Kind, typer.Option(help="api: API keys (mp_…); access: access-key pairs (MPAK…)")
]

API_KEY_COLUMNS = (
    "apiKeyId",
    "keyPrefix",
    "label",
    "gatewayOnly",
    "models",
    "expiresAt",
    "createdAt",
    "revokedAt",
)
ACCESS_KEY_COLUMNS = ("accessKeyId", "createdAt", "revokedAt")
_DURATION = re.compile(r"^([1-9][0-9]{0,6})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def expiry_ms(expires_in: str | None, expires_at: str | None) -> int | None:
    """The expiry (epoch ms) that `--expires-in` or `--expires-at` names, if either does."""
    if expires_in is not None and expires_at is not None:
        raise CommandError("give --expires-in or --expires-at, not both")
    if expires_in is not None:
        match = _DURATION.match(expires_in.strip())
        if match is None:
            raise CommandError(
                f"--expires-in takes a whole number and a unit (s, m, h, d, w), such as "
                f"30d or 12h; got {expires_in!r}"
            )
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        return time.time_ns() // 1_000_000 + seconds * 1000
    if expires_at is not None:
        try:
            moment = datetime.fromisoformat(expires_at.strip())
        except ValueError:
            raise CommandError(
                f"--expires-at takes an ISO 8601 time such as 2027-01-31T12:00:00Z; "
                f"got {expires_at!r}"
            ) from None
        # A time without an offset is local, as --since reads it and tables show it.
        return int(moment.astimezone().timestamp() * 1000)
    return None


def _shown(key: dict[str, Any]) -> dict[str, Any]:
    """An API key as a table shows it: its models as names, a whole group with its id."""
    models = key.get("models")
    if models is not None:
        key["models"] = [
            f"{m['name']} (group {m['modelTemplateId']})"
            if m.get("modelTemplateId") and m["modelTemplateId"] != m["name"]
            else m["name"]
            for m in models
        ]
    return key


@app.command("list")
def list_(
    principal_id: PrincipalArgument,
    kind: KindOption = Kind.api,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List a principal's keys, revoked ones included."""
    with session(url, token) as client:
        if kind is Kind.access:
            access_keys = client.principals.list_access_keys(principal_id)
            emit(access_keys, output, columns=ACCESS_KEY_COLUMNS)
        else:
            api_keys = client.principals.list_api_keys(principal_id)
            if output is Output.table:
                emit([_shown(plain(k)) for k in api_keys], output, columns=API_KEY_COLUMNS)
            else:
                emit(api_keys, output)


@app.command("create")
def create(
    principal_id: PrincipalArgument,
    kind: KindOption = Kind.api,
    label: Annotated[str | None, typer.Option(help="A note for people (API keys only)")] = None,
    gateway_only: Annotated[
        bool,
        typer.Option(
            "--gateway-only",
            help="The key calls only the gateway; the management API refuses it",
        ),
    ] = False,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="A model name or group the key may call at the gateway (repeat it); "
            "without it, every model",
        ),
    ] = None,
    expires_in: Annotated[
        str | None,
        typer.Option("--expires-in", help="The key stops working after this long: 30d, 12h, …"),
    ] = None,
    expires_at: Annotated[
        str | None,
        typer.Option(
            "--expires-at",
            help="The key stops working at this ISO 8601 time (UTC unless it names an offset)",
        ),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Issue a key; its token (or secret) is printed this once only."""
    scoped = gateway_only or model or expires_in is not None or expires_at is not None
    if kind is Kind.access and (label is not None or scoped):
        # the server keeps no label or scope for access keys
        raise CommandError("--label, --gateway-only, --model and --expires-* are for API keys")
    expiry = expiry_ms(expires_in, expires_at)
    with session(url, token) as client:
        if kind is Kind.access:
            emit(client.principals.issue_access_key(principal_id), output)
            return
        issued = client.principals.issue_api_key(
            principal_id,
            label=label,
            gateway_only=gateway_only,
            models=model or None,
            expires_at=expiry,
        )
        if output is Output.table:  # one field/value table: the key, then its token
            emit({**_shown(plain(issued.api_key)), "token": issued.token}, output)
        else:
            emit(issued, output)


@app.command("revoke")
def revoke(
    principal_id: PrincipalArgument,
    key_id: Annotated[
        str,
        typer.Argument(help="The key's id (apiKeyId or accessKeyId)", callback=arguments.non_empty),
    ],
    kind: KindOption = Kind.api,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Revoke a key; it stops working at once."""
    with session(url, token) as client:
        if kind is Kind.access:
            emit(client.principals.revoke_access_key(principal_id, key_id), output)
        else:
            emit(client.principals.revoke_api_key(principal_id, key_id), output)
