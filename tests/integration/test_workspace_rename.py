"""`PATCH /v1/workspaces/{id}`, on SQLite and PostgreSQL: the new name is kept, bad names are
refused naming `name`, and only the owner or an admin may rename (members: 403, others: 404)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import new_member


@asynccontextmanager
async def acting_as(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


async def make_workspace(client: httpx.AsyncClient, name: str = "Team") -> dict[str, Any]:
    response = await client.post("/v1/workspaces", json={"name": name})
    assert response.status_code == 201, response.text
    workspace: dict[str, Any] = response.json()
    return workspace


async def rename(client: httpx.AsyncClient, workspace_id: str, body: Any) -> httpx.Response:
    return await client.patch(f"/v1/workspaces/{workspace_id}", json=body)


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["code"] == "INVALID_ARGUMENT", data
    return [d["field"] for d in data["details"]]


async def test_a_rename_is_answered_and_kept(client: httpx.AsyncClient) -> None:
    created = await make_workspace(client, "Team")
    other = await make_workspace(client, "Other")
    ws = created["workspaceId"]

    response = await rename(client, ws, {"name": "Platform team"})
    assert response.status_code == 200, response.text
    assert response.json() == {**created, "name": "Platform team"}

    shown = await client.get(f"/v1/workspaces/{ws}")
    assert shown.json() == {**created, "name": "Platform team"}
    listed = (await client.get("/v1/workspaces")).json()["workspaces"]
    assert {w["workspaceId"]: w["name"] for w in listed} == {
        ws: "Platform team",
        other["workspaceId"]: "Other",
    }


async def test_the_longest_name_and_a_rename_to_the_same_name(client: httpx.AsyncClient) -> None:
    ws = (await make_workspace(client))["workspaceId"]
    longest = "é" * 255
    assert (await rename(client, ws, {"name": longest})).status_code == 200
    assert (await client.get(f"/v1/workspaces/{ws}")).json()["name"] == longest
    again = await rename(client, ws, {"name": longest})
    assert again.status_code == 200, again.text
    assert again.json()["name"] == longest


async def test_bad_names_are_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    ws = (await make_workspace(client, "Keep"))["workspaceId"]
    for body in (
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 256},
        {"name": "a\x00b"},
        {"name": None},
        {"name": 42},
        {},
    ):
        assert fields(await rename(client, ws, body)) == ["name"], body
    assert fields(await rename(client, ws, {"name": "ok", "owner": "x"})) == ["owner"]
    assert (await client.get(f"/v1/workspaces/{ws}")).json()["name"] == "Keep"


async def test_owner_and_admin_may_rename_members_may_not_others_see_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner_id, owner_token = await new_member(client, "olga")
    member_id, member_token = await new_member(client, "mia")
    _, stranger_token = await new_member(client, "sam")
    async with (
        acting_as(app, owner_token) as owner,
        acting_as(app, member_token) as member,
        acting_as(app, stranger_token) as stranger,
    ):
        ws = (await make_workspace(owner, "Olga's"))["workspaceId"]
        added = await owner.put(f"/v1/workspaces/{ws}/members/{member_id}")
        assert added.status_code == 200, added.text

        by_owner = await rename(owner, ws, {"name": "Renamed by owner"})
        assert by_owner.status_code == 200, by_owner.text
        assert by_owner.json()["ownerId"] == owner_id

        # A member reads the workspace but may not change it.
        assert (await member.get(f"/v1/workspaces/{ws}")).status_code == 200
        denied = await rename(member, ws, {"name": "Renamed by member"})
        assert denied.status_code == 403, denied.text
        assert denied.json()["code"] == "PERMISSION_DENIED"

        # Everybody else is told it does not exist.
        hidden = await rename(stranger, ws, {"name": "Renamed by stranger"})
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["code"] == "NOT_FOUND"

        # A member that was taken out is a stranger again.
        removed = await owner.delete(f"/v1/workspaces/{ws}/members/{member_id}")
        assert removed.status_code == 200, removed.text
        assert (await rename(member, ws, {"name": "x"})).status_code == 404

        by_admin = await rename(client, ws, {"name": "Renamed by admin"})
        assert by_admin.status_code == 200, by_admin.text
        assert by_admin.json()["ownerId"] == owner_id, "a rename keeps the owner"
        assert (await owner.get(f"/v1/workspaces/{ws}")).json()["name"] == "Renamed by admin"


async def test_a_bad_name_is_judged_after_who_may_rename(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Validation does not tell a stranger that the workspace exists."""
    ws = (await make_workspace(client))["workspaceId"]
    _, token = await new_member(client, "sam")
    async with acting_as(app, token) as stranger:
        assert (await rename(stranger, ws, {"name": ""})).status_code == 404


async def test_unknown_deleted_and_anonymous(
    anon: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    ws = (await make_workspace(client))["workspaceId"]
    assert (await rename(anon, ws, {"name": "x"})).status_code == 401
    assert (await client.delete(f"/v1/workspaces/{ws}")).status_code == 200
    for gone in (ws, "no-such-workspace"):
        response = await rename(client, gone, {"name": "x"})
        assert response.status_code == 404, response.text
