"""What the server-side commands share (`serve`, `migrate`, `rotate-key`, `db …`).

They read the server's `MODELPLANE_*` settings, its master key and its database, and each
way that can fail ends the command with one line on stderr and exit code 1, never a
traceback: a setting names its variable and the rule; a master key that cannot be read
names where it came from; a database that cannot be opened is named (without its
password; `serve` tries PostgreSQL once before it starts). A SQLite database that does
not exist yet is created only with `--create` (or by `serve`): run from the wrong folder,
the default `./modelplane.db` would otherwise be a new, empty database, with a first admin
key the real server has never heard of.

Heavy modules are imported inside the functions: `modelplane --help` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from modelplane.security.secretbox import SecretBox
    from modelplane.settings import Settings

T = TypeVar("T")
ENV_PREFIX = "MODELPLANE_"

Create = Annotated[
    bool,
    typer.Option(
        "--create",
        help="Create the SQLite database (and its key file) when it does not exist yet.",
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with `error: <message>` on stderr."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _variable(error: ErrorDetails) -> str:
    """`MODELPLANE_<FIELD>` of a validation error, with the list index or key that failed."""
    field, *inner = error["loc"]
    return ENV_PREFIX + str(field).upper() + "".join(f"[{part!r}]" for part in inner)


def _rule(error: ErrorDetails) -> str:
    return error["msg"].removeprefix("Value error, ")


def load_settings(**overrides: Any) -> Settings:
    """The settings from `MODELPLANE_*` (and `overrides` that are not None), or fail naming
    each variable that breaks a rule. Values are never shown: some are secrets."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from modelplane.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = [f"{_variable(e)}: {_rule(e)}" if e["loc"] else _rule(e) for e in exc.errors()]
        fail(f"invalid settings: {'; '.join(problems)}")
    except SettingsError as exc:  # a list or object setting that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        where = ENV_PREFIX + field.group(1).upper() if field else "a setting"
        fail(f"invalid settings: {where} is not valid JSON (e.g. '[\"KEY\"]' or '{{}}')")


def load_secret_box(settings: Settings) -> SecretBox:
    """The secret box of `settings`, or fail naming the key that cannot be read."""
    from modelplane.app import secret_box

    try:
        return secret_box(settings)
    except (ValueError, RuntimeError, OSError) as exc:
        fail(f"invalid master key: {exc}")


def require_database(settings: Settings, *, create: bool, creatable: bool = True) -> None:
    """Fail unless the SQLite database exists, or `create` lets this command create it."""
    from pathlib import Path

    path = settings.sqlite_path
    if path is None or path.exists() or (create and creatable):
        return
    relative = "" if path.is_absolute() else f", relative to the current folder {Path.cwd()}"
    hint = "; --create creates a new, empty database there" if creatable else ""
    fail(
        f"no database at {path.resolve()} (MODELPLANE_DATABASE_URL is "
        f"{settings.database_url}{relative}): run this with the server's settings{hint}"
    )


def require_reachable(settings: Settings) -> None:
    """Fail unless the PostgreSQL database answers (a SQLite file `serve` makes itself)."""
    if not settings.is_postgres:
        return
    from modelplane.store.engine import admin_engine

    async def connect() -> None:
        engine = admin_engine(settings)
        try:
            await (await engine.connect()).close()
        finally:
            await engine.dispose()

    run(settings, connect)


def database_name(settings: Settings) -> str:
    """The database URL of `settings` as it may be shown: the password masked."""
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def run(settings: Settings, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`work()` in a new event loop; a domain error, or a database that cannot be opened,
    ends the command with one line."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from modelplane.domain.errors import DomainError

    try:
        return asyncio.run(work())
    except DomainError as exc:
        fail(exc.message)
    except (DBAPIError, OSError, TimeoutError) as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        fail(f"cannot use the database {database_name(settings)}: {reason}")
