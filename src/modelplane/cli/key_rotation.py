"""`modelplane rotate-key`: re-encrypt every secret at rest under the current master key.

Only typer (and the light `server_side`) is imported at module level: `modelplane --help`
stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from modelplane.cli.server_side import (
    fail,
    load_secret_box,
    load_settings,
    require_database,
    run,
)

if TYPE_CHECKING:
    from modelplane.services.key_rotation import RotationReport


def rotate_key(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Open every old value and report counts; write nothing."),
    ] = False,
) -> None:
    """Re-encrypt every secret at rest under the current master key.

    The current key is MODELPLANE_SECRET_KEY (or MODELPLANE_SECRET_KEY_FILE, or the key
    file beside the SQLite database); the older keys are MODELPLANE_PREVIOUS_SECRET_KEYS,
    a JSON list such as '["OLD_KEY_1", "OLD_KEY_2"]'. LLM credentials, provider API keys,
    access-key secrets and runtimes' gateway tokens sealed under an older key are resealed
    in one transaction: if any value cannot be opened, nothing is changed and the error
    names its table, row and key id. Prints one JSON object with the counts.

    Give every replica the new key as current and the old one as previous before running
    this; drop the old key only after it reports nothing left to reseal.
    """
    import json

    from modelplane.app import prepare_store
    from modelplane.security.secretbox import SecretBoxError
    from modelplane.services.key_rotation import rotate_secrets
    from modelplane.services.request_context import enter

    settings = load_settings()
    require_database(settings, create=False, creatable=False)  # nothing to re-encrypt there
    secrets = load_secret_box(settings)

    async def rotate() -> RotationReport:
        enter("cli")  # asyncio.run gives this its own context: nothing to undo
        store, token = await prepare_store(settings, secrets)
        try:
            if token is not None:
                typer.echo(f"first start: admin API key (shown once): {token}", err=True)
            return await rotate_secrets(store=store, secrets=secrets, dry_run=dry_run)
        finally:
            await store.close()

    try:
        report = run(settings, rotate)
    except SecretBoxError as exc:  # the bootstrap access key is sealed under an unknown key
        fail(f"cannot open the bootstrap access key's secret: {exc}")
    out = {
        "keyId": report.key_id,
        "dryRun": report.dry_run,
        "resealed": report.resealed,
        "alreadyCurrent": report.already_current,
    }
    typer.echo(json.dumps(out, indent=2))
