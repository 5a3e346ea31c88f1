"""A group's default model moved while another request touches it, on PostgreSQL.

The default lives twice: as the pointer in the group's `Config` and as one template's
`isDefaultModel` flag. Every use case that changes either holds the group's row first
(`FOR UPDATE`) and reads what it changes only then; a read of both (a runtime's model
config) holds it shared (`FOR SHARE`). So whichever comes second waits for the first and
then sees all it did. Each test plays the first side by hand, in a transaction left open.
(SQLite runs one writer at a time and a reader sees one snapshot: no race to lose there.)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx

from modelplane.settings import Settings
from tests.conftest import POSTGRES_ONLY
from tests.integration.test_catalog_api import batch, make_group, make_provider

WAIT = 0.5  # long enough for the other side to reach its lock
PROVIDER = "provider-acme"


async def group_with_default(client: httpx.AsyncClient) -> tuple[str, str, dict[str, str]]:
    """A group, its provider, and the ids of its templates `a` (the default) and `b`."""
    group_id = (await make_group(client))["modelTemplateId"]
    provider_id = (await make_provider(client, group_id, PROVIDER))["providerTemplateId"]
    created = await batch(client, provider_id, {"llmCode": "a", "isDefaultModel": True}, "b")
    assert created.status_code == 200, created.text
    return group_id, provider_id, dict(zip("ab", created.json()["llmTemplateIds"], strict=True))


async def move_default_by_hand(db: asyncpg.Connection, group_id: str, template_id: str) -> Any:
    """Open a transaction that moves the default to `template_id` as a writer does; return
    it, uncommitted, holding the group's row."""
    writer = db.transaction()
    await writer.start()
    await db.execute("SELECT 1 FROM model_groups WHERE model_template_id = $1 FOR UPDATE", group_id)
    await db.execute(
        "UPDATE llm_templates SET is_default_model = false"
        " WHERE model_template_id = $1 AND is_default_model",
        group_id,
    )
    code = await db.fetchval(
        "UPDATE llm_templates SET is_default_model = true WHERE llm_template_id = $1"
        " RETURNING llm_code",
        template_id,
    )
    config = json.dumps({"defaults": {"model": {"primary": f"{PROVIDER}/{code}"}}})
    await db.execute(
        "UPDATE model_groups SET config = $2::json WHERE model_template_id = $1", group_id, config
    )
    return writer


async def flagged(client: httpx.AsyncClient, group_id: str) -> list[str]:
    listed = await client.get("/v1/llm-templates", params={"modelTemplateId": group_id})
    return [t["llmCode"] for t in listed.json()["llmTemplates"] if t["isDefaultModel"]]


@POSTGRES_ONLY
async def test_deleting_the_default_while_another_moves_it_waits_and_keeps_the_new_one(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    group_id, _, ids = await group_with_default(client)
    writer = await move_default_by_hand(db, group_id, ids["b"])

    deletion = asyncio.create_task(client.delete(f"/v1/llm-templates/{ids['a']}"))
    await asyncio.sleep(WAIT)
    assert not deletion.done(), "the deletion did not wait for the default being moved"
    await writer.commit()
    answer = await deletion

    assert answer.status_code == 200, answer.text
    group = (await client.get(f"/v1/model-groups/{group_id}")).json()
    assert group["defaultModel"] == f"{PROVIDER}/b"
    assert await flagged(client, group_id) == ["b"]


@POSTGRES_ONLY
async def test_a_batch_on_a_provider_deleted_meanwhile_waits_and_then_finds_no_provider(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    group_id, provider_id, _ = await group_with_default(client)
    deletion = db.transaction()
    await deletion.start()
    await db.execute("SELECT 1 FROM model_groups WHERE model_template_id = $1 FOR UPDATE", group_id)
    await db.execute("DELETE FROM llm_templates WHERE provider_template_id = $1", provider_id)
    await db.execute("DELETE FROM provider_templates WHERE provider_template_id = $1", provider_id)
    await db.execute("UPDATE model_groups SET config = '{}' WHERE model_template_id = $1", group_id)

    created = asyncio.create_task(
        batch(client, provider_id, {"llmCode": "c", "isDefaultModel": True})
    )
    await asyncio.sleep(WAIT)
    assert not created.done(), "the batch did not wait for the deletion in progress"
    await deletion.commit()
    answer = await created

    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "NOT_FOUND"
    assert provider_id in answer.json()["message"]
    group = (await client.get(f"/v1/model-groups/{group_id}")).json()
    assert group["defaultModel"] is None
    assert await flagged(client, group_id) == []


@POSTGRES_ONLY
async def test_a_runtime_reads_the_default_as_one_writer_left_it(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    group_id, _, ids = await group_with_default(client)
    bound = await client.post(
        f"/v1/model-groups/{group_id}/runtimes", json={"runtimeIds": ["r-race"]}
    )
    assert bound.status_code == 200, bound.text
    writer = await move_default_by_hand(db, group_id, ids["b"])
    # A second transaction stops the reader after it has read the group, before the flags:
    # a reader that did not wait for the writer would then see the old pointer and the
    # new flags.
    blocker = await asyncpg.connect(settings.database_url)
    try:
        held = blocker.transaction()
        await held.start()
        await blocker.execute("LOCK TABLE provider_templates IN ACCESS EXCLUSIVE MODE")
        read = asyncio.create_task(client.get("/v1/runtimes/Default/r-race/model-config"))
        await asyncio.sleep(WAIT)
        await writer.commit()
        await asyncio.sleep(WAIT)
        await held.commit()
        answer = await read
    finally:
        await blocker.close()

    assert answer.status_code == 200, answer.text
    config = answer.json()
    models = [m for p in config["providers"] for m in p["models"]]
    assert [m["llmCode"] for m in models if m["isDefaultModel"]] == ["b"]
    assert config["defaultModel"] == f"{PROVIDER}/b"
