"""`modelplane`: serve, migrate, and direct database administration for bootstrapping.

Heavy modules are imported inside the commands so that `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from modelplane.cli import (
    audit,
    config_sync,
    configs,
    key_rotation,
    keys,
    llms,
    model_groups,
    principals,
    prompts,
    stack,
    workspaces,
)

if TYPE_CHECKING:
    from modelplane.security.secretbox import SecretBox
    from modelplane.settings import Settings
    from modelplane.store.uow import Store

T = TypeVar("T")

app = typer.Typer(
    name="modelplane",
    help="Self-hosted control plane for LLM applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.2 s per call
)
db_app = typer.Typer(
    help="Administer principals and keys directly in the database (for bootstrapping).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db")
app.add_typer(config_sync.app, name="config")
app.add_typer(principals.app, name="principals")
app.add_typer(keys.app, name="keys")
app.add_typer(llms.app, name="llms")
app.add_typer(model_groups.app, name="model-groups")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(prompts.app, name="prompts")
app.add_typer(configs.app, name="configs")
app.add_typer(audit.app, name="audit")
app.command("apply")(stack.apply)
app.command("export")(stack.export)
app.command("rotate-key")(key_rotation.rotate_key)


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from modelplane.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        _fail(f"invalid settings: {where}: {first['msg']}")
    except SettingsError as exc:  # e.g. a list variable that is not JSON
        _fail(f"invalid settings: {exc}")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080)")] = None,
) -> None:
    """Run the service; migrations run on start."""
    import uvicorn

    from modelplane import connections, logs, serving
    from modelplane.app import create_app

    settings = _settings(host=host, port=port)
    logs.configure(settings.log_level)
    serving.raise_file_limit(settings)
    application = create_app(settings)
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.graceful_shutdown_seconds),
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        server_header=False,
        # h11 with deadlines, a connection cap and an exact head limit (connections.py), so
        # h11 is the parser even where httptools happens to be installed.
        http=connections.protocol_class(connections.ConnectionLimits.of(settings)),
        h11_max_incomplete_event_size=settings.max_request_head_bytes,
    )
    # Like uvicorn.run, but watches and event streams end as soon as shutdown begins.
    serving.run(config, shutdown=application.state.shutdown)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date and exit."""
    import asyncio

    from modelplane.store import migrate as store_migrate

    settings = _settings()

    async def run() -> bool:
        async with store_migrate.exclusive(settings) as conn:
            return await store_migrate.upgrade(conn)

    ran = asyncio.run(run())
    typer.echo("migrated to head" if ran else "already at head")


def _with_store(work: Callable[[Store, SecretBox], Awaitable[T]]) -> T:
    import asyncio

    from modelplane.app import prepare_store, secret_box
    from modelplane.domain.errors import DomainError
    from modelplane.services.request_context import enter

    settings = _settings()

    async def run() -> T:
        enter("cli")  # audit events of these commands name the CLI as their face
        secrets = secret_box(settings)
        store, token = await prepare_store(settings, secrets)
        try:
            if token is not None:
                typer.echo(f"first start: admin API key (shown once): {token}", err=True)
            return await work(store, secrets)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        _fail(exc.message)


def _system() -> Any:
    from modelplane.domain.principals import Principal, Role

    return Principal(principal_id="cli", name="cli", role=Role.ADMIN, created_at=0)


def _echo_json(data: Any) -> None:
    import json

    typer.echo(json.dumps(data, indent=2))


@db_app.command("create-principal")
def create_principal(
    name: Annotated[str, typer.Option(help="Unique name")],
    role: Annotated[str, typer.Option(help="admin or member")] = "member",
    with_api_key: Annotated[bool, typer.Option(help="Also issue an API key")] = True,
) -> None:
    """Create a principal (and, by default, an API key for it)."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> dict[str, Any]:
        principal = await principals.create_principal(
            store=store, actor=_system(), name=name, role=role
        )
        out: dict[str, Any] = {"principalId": principal.principal_id, "name": name, "role": role}
        if with_api_key:
            issued = await principals.issue_api_key(
                store=store, actor=_system(), principal_id=principal.principal_id
            )
            out["token"] = issued.token
        return out

    _echo_json(_with_store(work))


@db_app.command("list-principals")
def list_principals() -> None:
    """List principals."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> list[dict[str, Any]]:
        found = await principals.list_principals(store=store, actor=_system())
        return [{"principalId": p.principal_id, "name": p.name, "role": p.role} for p in found]

    _echo_json(_with_store(work))


@db_app.command("issue-api-key")
def issue_api_key(
    principal_id: Annotated[str, typer.Argument(help="The principal's id")],
    label: Annotated[str | None, typer.Option(help="A note for humans")] = None,
) -> None:
    """Issue an API key (the token is printed once)."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> dict[str, Any]:
        issued = await principals.issue_api_key(
            store=store, actor=_system(), principal_id=principal_id, label=label
        )
        return {"apiKeyId": issued.api_key.api_key_id, "token": issued.token}

    _echo_json(_with_store(work))


@db_app.command("revoke-api-key")
def revoke_api_key(principal_id: str, api_key_id: str) -> None:
    """Revoke an API key."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> dict[str, Any]:
        key = await principals.revoke_api_key(
            store=store, actor=_system(), principal_id=principal_id, api_key_id=api_key_id
        )
        return {"apiKeyId": key.api_key_id, "revokedAt": key.revoked_at}

    _echo_json(_with_store(work))


@db_app.command("issue-access-key")
def issue_access_key(principal_id: str) -> None:
    """Issue an access-key pair for the Alibaba faces (the secret is printed once)."""
    from modelplane.services import principals

    async def work(store: Store, secrets: SecretBox) -> dict[str, Any]:
        issued = await principals.issue_access_key(
            store=store, secrets=secrets, actor=_system(), principal_id=principal_id
        )
        return {
            "accessKeyId": issued.access_key.access_key_id,
            "accessKeySecret": issued.secret,
        }

    _echo_json(_with_store(work))


@db_app.command("revoke-access-key")
def revoke_access_key(principal_id: str, access_key_id: str) -> None:
    """Revoke an access key."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> dict[str, Any]:
        key = await principals.revoke_access_key(
            store=store, actor=_system(), principal_id=principal_id, access_key_id=access_key_id
        )
        return {"accessKeyId": key.access_key_id, "revokedAt": key.revoked_at}

    _echo_json(_with_store(work))


def main() -> None:
    """Console-script entry point."""
    app()
