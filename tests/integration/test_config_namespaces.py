"""`GET /v1/configs`: the namespaces of dynamic parameters that were written to, on SQLite
and PostgreSQL: their fields, their order, and who sees which."""

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


def path(cluster: str, name: str, key: str = "k") -> str:
    return f"/v1/configs/{cluster}/service/{name}/{key}"


async def put(client: httpx.AsyncClient, cluster: str, name: str, key: str = "k") -> int:
    response = await client.put(path(cluster, name, key), json={"value": "v"})
    assert response.status_code in (200, 201), response.text
    revision: int = response.json()["revision"]
    return revision


async def namespaces(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/configs")
    assert response.status_code == 200, response.text
    assert response.json().keys() == {"namespaces"}
    found: list[dict[str, Any]] = response.json()["namespaces"]
    return found


def keys(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(n["cluster"], n["name"]) for n in found]


async def test_nothing_written_lists_nothing(client: httpx.AsyncClient) -> None:
    assert await namespaces(client) == []
    read = await client.get("/v1/configs/cn-hangzhou/service/svc")
    assert read.status_code == 200, read.text
    assert await namespaces(client) == [], "reading a namespace does not create it"


async def test_a_namespace_shows_owner_revision_and_times(client: httpx.AsyncClient) -> None:
    me = (await client.get("/v1/principals")).json()["principals"][0]["principalId"]
    await put(client, "cn-hangzhou", "svc", "a")
    [first] = await namespaces(client)
    assert first["revision"] == 1
    assert first["createdAt"] == first["updatedAt"]

    await put(client, "cn-hangzhou", "svc", "b")
    await put(client, "cn-hangzhou", "svc", "a")
    deleted = await client.delete(path("cn-hangzhou", "svc", "b"))
    assert deleted.status_code == 200, deleted.text

    [now] = await namespaces(client)
    assert now.keys() == {
        "cluster",
        "configType",
        "name",
        "ownerId",
        "revision",
        "createdAt",
        "updatedAt",
    }
    assert (now["cluster"], now["configType"], now["name"], now["ownerId"]) == (
        "cn-hangzhou",
        "service",
        "svc",
        me,
    )
    assert now["revision"] == 4
    state = await client.get("/v1/configs/cn-hangzhou/service/svc")
    assert state.json()["revision"] == now["revision"]
    assert now["createdAt"] == first["createdAt"]
    assert now["updatedAt"] >= first["updatedAt"]


async def test_a_namespace_stays_listed_when_its_parameters_are_gone(
    client: httpx.AsyncClient,
) -> None:
    await put(client, "cn-hangzhou", "svc", "only")
    assert (await client.delete(path("cn-hangzhou", "svc", "only"))).status_code == 200
    assert keys(await namespaces(client)) == [("cn-hangzhou", "svc")]
    assert (await namespaces(client))[0]["revision"] == 2


async def test_namespaces_come_in_key_order(client: httpx.AsyncClient) -> None:
    """Cluster, then name, compared as written (the same order on both stores)."""
    written = [
        ("cn-shanghai", "svc"),
        ("cn-hangzhou", "svc_b"),
        ("cn-hangzhou", "svc-b"),
        ("Cn-hangzhou", "svc"),
        ("cn-hangzhou", "Svc"),
        ("cn-hangzhou", "svc"),
        ("cn-hangzhou", "svc.b"),
        ("ap-southeast-1", "zeta"),
        ("cn-hangzhou", "svc2"),
    ]
    for cluster, name in written:
        await put(client, cluster, name)
    assert keys(await namespaces(client)) == sorted(written)
    assert sorted(written)[:3] == [
        ("Cn-hangzhou", "svc"),
        ("ap-southeast-1", "zeta"),
        ("cn-hangzhou", "Svc"),
    ]


async def test_members_see_their_own_and_admins_all(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await put(client, "cn-hangzhou", "admins")
    ana_id, ana_token = await new_member(client, "ana")
    ben_id, ben_token = await new_member(client, "ben")
    async with acting_as(app, ana_token) as ana, acting_as(app, ben_token) as ben:
        await put(ana, "cn-hangzhou", "anas")
        await put(ana, "ap-1", "anas")
        await put(ben, "cn-hangzhou", "bens")

        # A write refused to a member does not give them the namespace.
        taken = await ana.put(path("cn-hangzhou", "bens"), json={"value": "x"})
        assert taken.status_code == 409, taken.text
        assert "is taken" in taken.json()["message"]

        anas = await namespaces(ana)
        assert keys(anas) == [("ap-1", "anas"), ("cn-hangzhou", "anas")]
        assert {n["ownerId"] for n in anas} == {ana_id}
        bens = await namespaces(ben)
        assert keys(bens) == [("cn-hangzhou", "bens")]
        assert bens[0]["ownerId"] == ben_id
        assert bens[0]["revision"] == 1

    everything = await namespaces(client)
    assert keys(everything) == [
        ("ap-1", "anas"),
        ("cn-hangzhou", "admins"),
        ("cn-hangzhou", "anas"),
        ("cn-hangzhou", "bens"),
    ]
    assert [n["ownerId"] for n in everything][2:] == [ana_id, ben_id]


async def test_refused_writes_create_no_namespace(client: httpx.AsyncClient) -> None:
    bad_key = await client.put(path("cn-hangzhou", "svc", "bad key!"), json={"value": "v"})
    assert bad_key.status_code == 400, bad_key.text
    no_value = await client.put(path("cn-hangzhou", "svc", "k"), json={})
    assert no_value.status_code == 400, no_value.text
    missing = await client.delete(path("cn-hangzhou", "svc", "k"))
    assert missing.status_code == 404, missing.text
    assert await namespaces(client) == []


async def test_anonymous_callers_are_refused(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/v1/configs")
    assert response.status_code == 401, response.text
