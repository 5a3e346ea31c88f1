"""`modelplane rotate-key` as a process: JSON counts on success, one error line on failure."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from modelplane.app import create_app
from modelplane.security.secretbox import key_id_of, new_master_key_text, parse_master_key
from modelplane.settings import Settings
from modelplane.store.cache import ReadCache
from modelplane.store.engine import create_engines
from modelplane.store.uow import Store
from tests.integration.test_key_rotation import (
    Seeded,
    key_ids,
    key_of,
    running,
    sealed_snapshot,
    seed,
    signed_calls_succeed,
    with_keys,
)

COUNTS = {
    "llmCredentials": 1,
    "providerApiKeys": 1,
    "accessKeySecrets": 2,
    "runtimeGatewayTokens": 0,
}


def rotate_key(
    *args: str, cwd: Path, database_url: str, key: str, previous: str | None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env |= {"MODELPLANE_DATABASE_URL": database_url, "MODELPLANE_SECRET_KEY": key}
    if previous is not None:
        env["MODELPLANE_PREVIOUS_SECRET_KEYS"] = previous
    return subprocess.run(
        [sys.executable, "-m", "modelplane", "rotate-key", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def seeded_under(settings: Settings) -> Seeded:
    """Secrets sealed under `settings`' key, written by an instance that is then stopped."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        return await seed(application.state.store, application.state.secrets)


async def seal_snapshot_of(settings: Settings) -> dict[tuple[str, str], str]:
    """Every sealed value in the database, read without starting an application."""
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness))
    try:
        return await sealed_snapshot(store)
    finally:
        await store.close()


async def run_cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(rotate_key, *args, **kwargs)


async def test_rotate_key_prints_the_counts_and_the_new_key_alone_serves(
    settings: Settings, tmp_path: Path
) -> None:
    key_a, key_b = key_of(settings), new_master_key_text()
    id_b = key_id_of(parse_master_key(key_b))
    seeded = await seeded_under(settings)
    common = {"cwd": tmp_path, "database_url": settings.database_url, "key": key_b}

    dry = await run_cli("--dry-run", **common, previous=json.dumps([key_a]))
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {
        "keyId": id_b,
        "dryRun": True,
        "resealed": COUNTS,
        "alreadyCurrent": 0,
    }
    assert id_b not in key_ids(await seal_snapshot_of(settings))

    done = await run_cli(**common, previous=json.dumps([key_a]))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "keyId": id_b,
        "dryRun": False,
        "resealed": COUNTS,
        "alreadyCurrent": 0,
    }
    assert key_ids(await seal_snapshot_of(settings)) == {id_b}
    assert key_a not in done.stdout + done.stderr and key_b not in done.stdout + done.stderr

    again = await run_cli(**common, previous=None)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["resealed"] == dict.fromkeys(COUNTS, 0)
    assert json.loads(again.stdout)["alreadyCurrent"] == 4

    async with running(with_keys(settings, key_b)) as (_, http):
        await signed_calls_succeed(http, seeded)


async def test_a_missing_previous_key_is_one_error_line_and_changes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    key_a, key_b = key_of(settings), new_master_key_text()
    id_a = key_id_of(parse_master_key(key_a))
    seeded = await seeded_under(settings)
    before = await seal_snapshot_of(settings)

    failed = await run_cli(
        cwd=tmp_path, database_url=settings.database_url, key=key_b, previous=None
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "Traceback" not in failed.stderr
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot re-encrypt: "), failed.stderr
    assert f"(key id {id_a!r})" in lines[0] and "nothing was changed" in lines[0]
    assert not [s for s in [key_a, key_b, *seeded.plaintexts] if s in failed.stderr]
    assert await seal_snapshot_of(settings) == before


async def test_previous_keys_that_are_not_a_json_list_are_one_error_line(
    settings: Settings, tmp_path: Path
) -> None:
    key_a, key_b = key_of(settings), new_master_key_text()
    await seeded_under(settings)
    for previous, fragment in [
        (key_a, "MODELPLANE_PREVIOUS_SECRET_KEYS is not valid JSON"),  # not '["…"]'
        (json.dumps(["not-a-key"]), "a master key is 32 bytes"),
    ]:
        result = await run_cli(
            cwd=tmp_path, database_url=settings.database_url, key=key_b, previous=previous
        )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: invalid "), result.stderr
        assert fragment in lines[0]
        assert key_a not in result.stderr and "not-a-key" not in result.stderr
