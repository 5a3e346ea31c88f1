"""A prompt template's name is unique in its workspace (issue 15), on SQLite and PostgreSQL.

A second template of a taken name, or a rename onto one, is 409 on the native and the
bailian face (tests/integration/test_bailian_face.py), and nothing is written. The
built-in templates do not count: a workspace may keep its own version of one under the
same name.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from modelplane.domain.system_prompts import system_templates
from tests.integration.test_prompts_api import list_all, make_template, make_workspace

BUILT_IN_NAME = system_templates()[0].name


def conflict(response: httpx.Response, name: str) -> None:
    assert response.status_code == 409, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "ALREADY_EXISTS", body
    assert repr(name) in body["message"], body


async def test_a_second_template_of_a_taken_name_is_409_and_not_stored(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    first = await make_template(client, ws, name="greeting")
    again = await client.post(
        f"/v1/workspaces/{ws}/prompt-templates", json={"name": "greeting", "content": "Hi"}
    )
    conflict(again, "greeting")
    items, _ = await list_all(client, ws, type="Custom")
    assert [t["promptTemplateId"] for t in items] == [first["promptTemplateId"]]


async def test_the_same_name_in_another_workspace_is_another_template(
    client: httpx.AsyncClient,
) -> None:
    one, two = await make_workspace(client, "one"), await make_workspace(client, "two")
    a = await make_template(client, one, name="greeting")
    b = await make_template(client, two, name="greeting")
    assert a["promptTemplateId"] != b["promptTemplateId"]


async def test_names_differ_by_case_and_by_space(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    for name in ("greeting", "Greeting", "greeting "):
        await make_template(client, ws, name=name)


async def test_a_rename_onto_a_taken_name_is_409_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    await make_template(client, ws, name="greeting")
    other = await make_template(client, ws, name="farewell", content="Bye ${name}")
    url = f"/v1/workspaces/{ws}/prompt-templates/{other['promptTemplateId']}"
    conflict(await client.patch(url, json={"name": "greeting", "content": "new"}), "greeting")
    kept = (await client.get(url)).json()
    assert (kept["name"], kept["content"], kept["version"]) == ("farewell", "Bye ${name}", 1)
    versions = (await client.get(f"{url}/versions")).json()
    assert [v["version"] for v in versions["versions"]] == [1]
    # Its own name, with new content, is no conflict.
    renamed = await client.patch(url, json={"name": "farewell", "content": "See you"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["version"] == 2


async def test_a_freed_name_can_be_taken_again(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    first = await make_template(client, ws, name="greeting")
    url = f"/v1/workspaces/{ws}/prompt-templates/{first['promptTemplateId']}"
    assert (await client.patch(url, json={"name": "hello"})).status_code == 200
    await make_template(client, ws, name="greeting")
    assert (await client.delete(url)).status_code == 200
    await make_template(client, ws, name="hello")


async def test_a_custom_template_may_take_a_built_in_templates_name(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    mine = await make_template(client, ws, name=BUILT_IN_NAME)
    assert mine["name"] == BUILT_IN_NAME
    conflict(
        await client.post(
            f"/v1/workspaces/{ws}/prompt-templates", json={"name": BUILT_IN_NAME, "content": "x"}
        ),
        BUILT_IN_NAME,
    )


async def test_creates_racing_for_one_name_store_one(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)

    async def create(n: int) -> int:
        response = await client.post(
            f"/v1/workspaces/{ws}/prompt-templates",
            json={"name": "greeting", "content": f"version {n}"},
        )
        return response.status_code

    statuses = await asyncio.gather(*(create(n) for n in range(8)))
    assert sorted(statuses) == [201] + [409] * 7
    items, _ = await list_all(client, ws, type="Custom")
    assert [t["name"] for t in items] == ["greeting"]
