"""Whose a config namespace is, on SQLite and PostgreSQL, through the native face: a member
cannot tell another owner's namespace from one never written, except that a create there
is refused as taken; nobody writes into another principal's namespace without naming its
owner (`ownerId`, admins only)."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from tests.conftest import new_member
from tests.integration.test_configs_api import EVENTS, acting_as

CLUSTER = "cn-hangzhou"
ALICES = "support-bot-a"
NEVER = "support-bot-n"  # as long as ALICES, so that messages compare after a rename


def ns(name: str) -> str:
    return f"/v1/configs/{CLUSTER}/service/{name}"


async def state(client: httpx.AsyncClient, name: str) -> tuple[int, dict[str, str]]:
    response = await client.get(ns(name))
    assert response.status_code == 200, response.text
    body = response.json()
    return body["revision"], {c["key"]: c["value"] for c in body["configs"]}


async def test_another_owners_namespace_reads_as_one_never_written_for_a_member(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    _, bob_token = await new_member(client, "bob")
    async with acting_as(app, alice_token) as alice, acting_as(app, bob_token) as bob:
        for key in ("placeholder", "k"):
            put = await alice.put(f"{ns(ALICES)}/{key}", json={"value": "alice's"})
            assert put.status_code == 201, put.text

        async def answers(name: str) -> list[tuple[int, str]]:
            base = ns(name)
            responses = [
                await bob.get(base),
                await bob.get(f"{base}/k"),
                await bob.get(f"{base}/k/history"),
                await bob.get(f"{base}:history"),
                await bob.get(f"{base}:watch", params={"timeoutSeconds": 0}),
                await bob.get(f"{base}:watch", params={"timeoutSeconds": 0}, headers=EVENTS),
                await bob.put(f"{base}/k", json={"value": "b"}, params={"ownerId": alice_id}),
                await bob.delete(f"{base}/k"),
            ]
            return [(r.status_code, r.text.replace(name, "NAME")) for r in responses]

        hidden, never = await answers(ALICES), await answers(NEVER)
        assert hidden == never
        assert [status for status, _ in hidden] == [200, 404, 200, 200, 200, 200, 403, 404]
        assert (await bob.get("/v1/configs")).json() == {"namespaces": []}
        assert await state(alice, ALICES) == (2, {"placeholder": "alice's", "k": "alice's"})


async def test_a_members_create_in_another_owners_namespace_says_taken_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, alice_token = await new_member(client, "alice")
    _, bob_token = await new_member(client, "bob")
    async with acting_as(app, alice_token) as alice, acting_as(app, bob_token) as bob:
        assert (await alice.put(f"{ns(ALICES)}/k", json={"value": "a"})).status_code == 201
        for key in ("k", "new"):
            taken = await bob.put(f"{ns(ALICES)}/{key}", json={"value": "planted"})
            assert taken.status_code == 409, taken.text
            assert taken.json()["code"] == "ALREADY_EXISTS"
            assert taken.json()["message"] == (
                f"config namespace {CLUSTER}/service/{ALICES} is taken: another principal owns it"
            )
        assert await state(alice, ALICES) == (1, {"k": "a"})
        history = (await alice.get(f"{ns(ALICES)}:history")).json()["changes"]
        assert [c["revision"] for c in history] == [1]
        # A namespace nobody wrote to is still free for Bob.
        assert (await bob.put(f"{ns(NEVER)}/k", json={"value": "b"})).status_code == 201


async def test_an_admin_writes_into_a_members_namespace_only_naming_its_owner(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    bob_id, _ = await new_member(client, "bob")
    async with acting_as(app, alice_token) as alice:
        first = await alice.put(f"{ns(ALICES)}/placeholder", json={"value": "x"})
        assert first.status_code == 201, first.text
        secret = {"value": "db_password=hunter2"}
        for params in ({}, {"ownerId": bob_id}):
            for response in (
                await client.put(f"{ns(ALICES)}/db_password", json=secret, params=params),
                await client.put(f"{ns(ALICES)}/placeholder", json=secret, params=params),
                await client.delete(f"{ns(ALICES)}/placeholder", params=params),
            ):
                assert response.status_code == 412, response.text
                body = response.json()
                assert body["code"] == "FAILED_PRECONDITION"
                assert f"owned by principal {alice_id}" in body["message"]
                assert "ownerId" in body["message"]
        assert await state(alice, ALICES) == (1, {"placeholder": "x"})

        named = {"ownerId": alice_id}
        put = await client.put(f"{ns(ALICES)}/db_password", json=secret, params=named)
        assert put.status_code == 201, put.text
        assert (await client.delete(f"{ns(ALICES)}/placeholder", params=named)).status_code == 200
        assert await state(alice, ALICES) == (3, {"db_password": secret["value"]})
        [listed] = (await client.get("/v1/configs")).json()["namespaces"]
        assert listed["ownerId"] == alice_id


async def test_an_admin_naming_an_owner_creates_the_namespace_for_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    for owner_id, rule in (
        (str(uuid.uuid4()), "no principal"),
        ("no-such-principal", "a UUID"),
        (" ", "a UUID"),
        ("\x00", "NUL"),  # refused where it enters, as any text
    ):
        refused = await client.put(
            f"{ns(NEVER)}/k", json={"value": "v"}, params={"ownerId": owner_id}
        )
        assert refused.status_code == 400, refused.text
        [detail] = refused.json()["details"]
        assert detail["field"] == "ownerId" and rule in detail["rule"]
    assert (await client.get("/v1/configs")).json() == {"namespaces": []}

    created = await client.put(f"{ns(NEVER)}/k", json={"value": "v"}, params={"ownerId": alice_id})
    assert created.status_code == 201, created.text
    [listed] = (await client.get("/v1/configs")).json()["namespaces"]
    assert (listed["name"], listed["ownerId"]) == (NEVER, alice_id)
    async with acting_as(app, alice_token) as alice:
        assert await state(alice, NEVER) == (1, {"k": "v"})
        # The owner needs no ownerId in its own namespace; naming itself is allowed.
        mine = await alice.put(f"{ns(NEVER)}/k", json={"value": "w"}, params={"ownerId": alice_id})
        assert mine.status_code == 200, mine.text
    # Without ownerId, the admin's write is now one into Alice's namespace.
    assert (await client.put(f"{ns(NEVER)}/k", json={"value": "x"})).status_code == 412
