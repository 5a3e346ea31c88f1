"""`modelplane rotate-key`: re-encrypt every secret at rest under the current master key.

Only typer is imported at module level: `modelplane --help` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from modelplane.services.key_rotation import RotationReport
    from modelplane.settings import Settings


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from modelplane.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        _fail(f"invalid settings: {where}: {first['msg']}")
    except SettingsError as exc:  # a list setting that is not JSON; names the field only
        _fail(f"invalid settings: {exc} (list settings are JSON, e.g. '[\"KEY\"]')")


def rotate_key(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Open every old value and report counts; write nothing."),
    ] = False,
) -> None:
    """Re-encrypt every secret at rest under the current master key.

    The current key is MODELPLANE_SECRET_KEY (or MODELPLANE_SECRET_KEY_FILE, or the key
    file beside the SQLite database); the older keys are MODELPLANE_PREVIOUS_SECRET_KEYS,
    a JSON list such as '["OLD_KEY_1", "OLD_KEY_2"]'. LLM credentials, provider API keys
    and access-key secrets sealed under an older key are resealed in one transaction: if
    any value cannot be opened, nothing is changed and the error names its table, row and
    key id. Prints one JSON object with the counts.

    Give every replica the new key as current and the old one as previous before running
    this; drop the old key only after it reports nothing left to reseal.
    """
    import asyncio
    import json

    from modelplane.app import prepare_store, secret_box
    from modelplane.domain.errors import DomainError
    from modelplane.security.secretbox import SecretBoxError
    from modelplane.services.key_rotation import rotate_secrets
    from modelplane.services.request_context import enter

    settings = _settings()
    try:
        secrets = secret_box(settings)
    except (ValueError, RuntimeError) as exc:  # ValueError: a key is not 32 bytes
        _fail(f"invalid master key settings: {exc}")

    async def run() -> RotationReport:
        enter("cli")  # asyncio.run gives this its own context: nothing to undo
        store, token = await prepare_store(settings, secrets)
        try:
            if token is not None:
                typer.echo(f"first start: admin API key (shown once): {token}", err=True)
            return await rotate_secrets(store=store, secrets=secrets, dry_run=dry_run)
        finally:
            await store.close()

    try:
        report = asyncio.run(run())
    except DomainError as exc:
        _fail(exc.message)
    except SecretBoxError as exc:  # the bootstrap access key is sealed under an unknown key
        _fail(f"cannot open the bootstrap access key's secret: {exc}")
    out = {
        "keyId": report.key_id,
        "dryRun": report.dry_run,
        "resealed": report.resealed,
        "alreadyCurrent": report.already_current,
    }
    typer.echo(json.dumps(out, indent=2))
