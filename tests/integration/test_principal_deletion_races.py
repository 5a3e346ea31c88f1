"""A principal deleted while something is being given to it, on PostgreSQL.

A deletion locks the principal's row before it counts what the principal owns; every
create holds the owner's row (`FOR KEY SHARE`) before it inserts. So whichever comes
second waits for the first and then sees what it did: nothing ends up owned by a
principal that no longer exists. Each test plays one side by hand, in a transaction
left open, and checks that the other side waits for it. (SQLite runs one writer at a
time, so there is no race to lose there.)
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from tests.conftest import POSTGRES_ONLY, new_member

WAIT = 0.5  # long enough for the other side to reach its lock


async def workspaces_of(db: asyncpg.Connection, principal_id: str) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM workspaces WHERE owner_id = $1", principal_id
    )
    return count


@POSTGRES_ONLY
async def test_a_create_during_a_deletion_waits_and_then_stores_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    alice, token = await new_member(client, "alice")
    deletion = db.transaction()
    await deletion.start()
    await db.execute("SELECT 1 FROM principals WHERE principal_id = $1 FOR UPDATE", alice)
    await db.execute("DELETE FROM api_keys WHERE principal_id = $1", alice)
    await db.execute("DELETE FROM principals WHERE principal_id = $1", alice)

    create = asyncio.create_task(
        client.post(
            "/v1/workspaces",
            json={"workspaceId": "ws-race", "name": "race"},
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    await asyncio.sleep(WAIT)
    assert not create.done(), "the create did not wait for the deletion in progress"
    await deletion.commit()
    answer = await create

    assert answer.status_code == 401, answer.text
    assert answer.json()["message"] == "the principal of this API key has been deleted"
    assert await workspaces_of(db, alice) == 0


@POSTGRES_ONLY
async def test_a_deletion_during_a_create_waits_and_then_sees_what_was_created(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    alice, _ = await new_member(client, "alice")
    create = db.transaction()
    await create.start()
    await db.execute("SELECT 1 FROM principals WHERE principal_id = $1 FOR KEY SHARE", alice)
    await db.execute(
        "INSERT INTO workspaces (workspace_id, name, owner_id, created_at) VALUES ($1, $2, $3, 1)",
        "ws-race",
        "race",
        alice,
    )

    deletion = asyncio.create_task(client.delete(f"/v1/principals/{alice}"))
    await asyncio.sleep(WAIT)
    assert not deletion.done(), "the deletion did not wait for the create in progress"
    await create.commit()
    answer = await deletion

    assert answer.status_code == 412, answer.text
    assert "still owns 1 workspace" in answer.json()["message"]
    assert await workspaces_of(db, alice) == 1
    assert (await client.get(f"/v1/principals/{alice}")).status_code == 200
