"""A prompt template's name is unique in its workspace (issue 15), on SQLite and PostgreSQL.

A second template of a taken name, or a rename onto one, is 409 on the native and the
bailian face (tests/integration/test_bailian_face.py), and nothing is written. The
built-in templates do not count: a workspace may keep its own version of one under the
same name.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

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


NAMES = ["greeting", "客服 开场白", "with spaces & ?query#hash"]


async def test_every_read_and_write_takes_the_name_for_the_id(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    base = f"/v1/workspaces/{ws}/prompt-templates"
    for name in NAMES:
        made = await make_template(client, ws, name=name, content="Hi ${who}")
        by_name, by_id = f"{base}/{quote(name, safe='')}", f"{base}/{made['promptTemplateId']}"
        assert (await client.get(by_name)).json() == (await client.get(by_id)).json()
        rendered = await client.post(f"{by_name}:render", json={"variables": {"who": "Ann"}})
        assert rendered.status_code == 200, rendered.text
        assert rendered.json()["text"] == "Hi Ann"
        updated = await client.patch(by_name, json={"content": "Hello ${who}"})
        assert updated.status_code == 200, updated.text
        assert updated.json()["promptTemplateId"] == made["promptTemplateId"]
        old = await client.get(by_name, params={"version": 1})
        assert old.json()["content"] == "Hi ${who}"
        versions = (await client.get(f"{by_name}/versions")).json()["versions"]
        assert [v["version"] for v in versions] == [1, 2]
        assert (await client.delete(by_name)).status_code == 200
        assert (await client.get(by_id)).status_code == 404


async def test_an_id_wins_over_a_name_that_looks_like_one(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    first = await make_template(client, ws, name="first")
    impostor = await make_template(client, ws, name=first["promptTemplateId"])
    base = f"/v1/workspaces/{ws}/prompt-templates"
    got = (await client.get(f"{base}/{first['promptTemplateId']}")).json()
    assert got["promptTemplateId"] == first["promptTemplateId"]
    assert impostor["promptTemplateId"] != first["promptTemplateId"]


async def test_a_built_in_template_is_read_by_name_and_a_custom_one_of_its_name_comes_first(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    by_name = f"/v1/workspaces/{ws}/prompt-templates/{quote(BUILT_IN_NAME, safe='')}"
    built_in = (await client.get(by_name)).json()
    assert (built_in["type"], built_in["name"]) == ("System", BUILT_IN_NAME)
    versions = (await client.get(f"{by_name}/versions")).json()["versions"]
    assert [v["version"] for v in versions] == [1]
    refused = await client.patch(by_name, json={"content": "mine"})
    assert refused.status_code == 403, refused.text
    assert (await client.delete(by_name)).status_code == 403
    mine = await make_template(client, ws, name=BUILT_IN_NAME, content="my own")
    got = (await client.get(by_name)).json()
    assert (got["promptTemplateId"], got["content"]) == (mine["promptTemplateId"], "my own")


async def test_an_unknown_name_is_404_naming_it(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    missing = await client.get(f"/v1/workspaces/{ws}/prompt-templates/nobody")
    assert missing.status_code == 404, missing.text
    assert "nobody" in missing.json()["message"]
