"""`modelplane`: serve, migrate, and direct database administration for bootstrapping.

Heavy modules are imported inside the commands so that `--help` stays fast.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from modelplane.cli import (
    audit,
    config_sync,
    configs,
    key_rotation,
    keys,
    limits,
    llms,
    model_groups,
    principals,
    prompts,
    stack,
    usage,
    workspaces,
)
from modelplane.cli.server_side import (
    Create,
    fail,
    load_secret_box,
    load_settings,
    require_database,
    require_reachable,
    run,
)

if TYPE_CHECKING:
    from modelplane.security.secretbox import SecretBox
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


def _print_version(asked: bool) -> None:
    if asked:
        from modelplane import __version__

        typer.echo(f"modelplane {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """Self-hosted control plane for LLM applications."""


@db_app.callback()
def _db_arguments() -> None:
    """Refuse arguments that are not text before they reach the database: bytes that are not
    UTF-8 arrive as lone surrogates, which no store can hold (`domain/text.py`)."""
    from modelplane.domain.text import text_rule

    for position, argument in enumerate(sys.argv[1:], start=1):
        rule = text_rule(argument)
        if rule is not None:
            fail(f"argument {position} {rule}")


# The first name of `configs sync`, kept for scripts: hidden, says it is deprecated.
app.add_typer(config_sync.legacy_app, name="config", hidden=True)
app.add_typer(principals.app, name="principals")
app.add_typer(keys.app, name="keys")
app.add_typer(llms.app, name="llms")
app.add_typer(model_groups.app, name="model-groups")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(prompts.app, name="prompts")
app.add_typer(configs.app, name="configs")
app.add_typer(audit.app, name="audit")
app.add_typer(limits.app, name="limits")
app.add_typer(usage.app, name="usage")
app.command("apply")(stack.apply)
app.command("export")(stack.export)
app.command("rotate-key")(key_rotation.rotate_key)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080)")] = None,
) -> None:
    """Run the service; migrations run on start."""
    # No cyclic collections while the application is imported and built (they cost a
    # fifth of the start, over objects that live as long as the process): the lifespan
    # collects once, freezes what it built and turns the collector back on.
    gc.disable()
    import uvicorn

    from modelplane import connections, logs, serving
    from modelplane.app import create_app

    settings = load_settings(host=host, port=port)
    load_secret_box(settings)  # a key that cannot be read fails here, in one line
    require_reachable(settings)  # and so does a PostgreSQL database that does not answer
    logs.configure(settings.log_level, settings.log_format)
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
        # httptools with deadlines, a connection cap and an exact head limit
        # (connections.py); no WebSocket upgrade, which would leave them behind.
        http=connections.protocol_class(connections.ConnectionLimits.of(settings)),
        loop=connections.LOOP,
        ws="none",
    )
    # Like uvicorn.run, but watches and event streams end as soon as shutdown begins.
    serving.run(config, shutdown=application.state.shutdown)


@app.command()
def migrate(create: Create = False) -> None:
    """Bring the database schema up to date and exit."""
    from modelplane.store import migrate as store_migrate

    settings = load_settings()
    require_database(settings, create=create)

    async def upgrade() -> bool:
        async with store_migrate.exclusive(settings) as conn:
            return await store_migrate.upgrade(conn)

    ran = run(settings, upgrade)
    typer.echo("migrated to head" if ran else "already at head")


def _with_store(work: Callable[[Store, SecretBox], Awaitable[T]], *, create: bool) -> T:
    from modelplane.app import prepare_store
    from modelplane.services.request_context import enter

    settings = load_settings()
    require_database(settings, create=create)
    secrets = load_secret_box(settings)

    async def opened() -> T:
        enter("cli")  # audit events of these commands name the CLI as their face
        store, token = await prepare_store(settings, secrets)
        try:
            if token is not None:
                typer.echo(f"first start: admin API key (shown once): {token}", err=True)
            return await work(store, secrets)
        finally:
            await store.close()

    return run(settings, opened)


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
    create: Create = False,
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

    _echo_json(_with_store(work, create=create))


@db_app.command("list-principals")
def list_principals(create: Create = False) -> None:
    """List principals."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> list[dict[str, Any]]:
        found = await principals.list_principals(store=store, actor=_system())
        return [{"principalId": p.principal_id, "name": p.name, "role": p.role} for p in found]

    _echo_json(_with_store(work, create=create))


@db_app.command("issue-api-key")
def issue_api_key(
    principal_id: Annotated[str, typer.Argument(help="The principal's id")],
    label: Annotated[str | None, typer.Option(help="A note for humans")] = None,
    create: Create = False,
) -> None:
    """Issue an API key (the token is printed once)."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> dict[str, Any]:
        issued = await principals.issue_api_key(
            store=store, actor=_system(), principal_id=principal_id, label=label
        )
        return {"apiKeyId": issued.api_key.api_key_id, "token": issued.token}

    _echo_json(_with_store(work, create=create))


@db_app.command("revoke-api-key")
def revoke_api_key(principal_id: str, api_key_id: str, create: Create = False) -> None:
    """Revoke an API key."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> dict[str, Any]:
        key = await principals.revoke_api_key(
            store=store, actor=_system(), principal_id=principal_id, api_key_id=api_key_id
        )
        return {"apiKeyId": key.api_key_id, "revokedAt": key.revoked_at}

    _echo_json(_with_store(work, create=create))


@db_app.command("issue-access-key")
def issue_access_key(principal_id: str, create: Create = False) -> None:
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

    _echo_json(_with_store(work, create=create))


@db_app.command("revoke-access-key")
def revoke_access_key(principal_id: str, access_key_id: str, create: Create = False) -> None:
    """Revoke an access key."""
    from modelplane.services import principals

    async def work(store: Store, _secrets: SecretBox) -> dict[str, Any]:
        key = await principals.revoke_access_key(
            store=store, actor=_system(), principal_id=principal_id, access_key_id=access_key_id
        )
        return {"accessKeyId": key.access_key_id, "revokedAt": key.revoked_at}

    _echo_json(_with_store(work, create=create))


def main() -> None:
    """Console-script entry point."""
    app()
