"""Workspaces and prompt templates through the native face, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.domain.system_prompts import system_templates
from modelplane.services import prompts as prompt_service
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN, new_member

SERIALS = itertools.count(1)
HEX32 = re.compile(r"[0-9a-f]{32}")
BUILT_IN = sorted(system_templates(), key=lambda t: t.prompt_template_id)


def fields(response: httpx.Response) -> list[str]:
    data = response.json()
    assert data["code"] == "INVALID_ARGUMENT", data
    return [d["field"] for d in data["details"]]


def token_of(value: object) -> str:
    """A next-page token with any content, in the service's encoding."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@asynccontextmanager
async def acting_as(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client that authenticates with `token`."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


async def make_workspace(client: httpx.AsyncClient, name: str = "team", **body: Any) -> str:
    response = await client.post("/v1/workspaces", json={"name": name, **body})
    assert response.status_code == 201, response.text
    workspace_id: str = response.json()["workspaceId"]
    return workspace_id


async def make_template(
    client: httpx.AsyncClient, ws: str, name: str | None = None, content: str = "Hello ${name}"
) -> dict[str, Any]:
    """A new template; without `name`, one not taken yet (names are unique in a workspace)."""
    name = name if name is not None else f"t-{next(SERIALS)}"
    response = await client.post(
        f"/v1/workspaces/{ws}/prompt-templates", json={"name": name, "content": content}
    )
    assert response.status_code == 201, response.text
    template: dict[str, Any] = response.json()
    return template


async def list_all(
    client: httpx.AsyncClient, ws: str, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page of a list, following the tokens; (items, pages)."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        query = {**params, **({"nextToken": token} if token else {})}
        response = await client.get(f"/v1/workspaces/{ws}/prompt-templates", params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        items += response.json()["promptTemplates"]
        token = response.json()["nextToken"]
        if token is None:
            return items, pages


# --- workspaces -----------------------------------------------------------------------------


async def test_workspace_life_cycle(client: httpx.AsyncClient) -> None:
    admin_id = (await client.get("/v1/principals")).json()["principals"][0]["principalId"]
    created = await client.post("/v1/workspaces", json={"name": "Marketing"})
    assert created.status_code == 201, created.text
    workspace = created.json()
    ws = workspace["workspaceId"]
    assert re.fullmatch(r"llm-[a-z0-9]{16}", ws)
    assert workspace == {
        "workspaceId": ws,
        "name": "Marketing",
        "ownerId": admin_id,
        "createdAt": workspace["createdAt"],
    }
    assert isinstance(workspace["createdAt"], int)
    assert (await client.get(f"/v1/workspaces/{ws}")).json() == workspace
    assert (await client.get("/v1/workspaces")).json() == {"workspaces": [workspace]}
    assert (await client.get(f"/v1/workspaces/{ws}/members")).json() == {"members": []}

    deleted = await client.delete(f"/v1/workspaces/{ws}")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": True, "id": ws}
    gone = await client.get(f"/v1/workspaces/{ws}")
    assert gone.status_code == 404 and gone.json()["code"] == "NOT_FOUND"
    assert (await client.delete(f"/v1/workspaces/{ws}")).status_code == 404
    assert (await client.get(f"/v1/workspaces/{ws}/members")).status_code == 404
    assert (await client.get("/v1/workspaces")).json() == {"workspaces": []}


async def test_a_client_chosen_workspace_id_is_kept_and_cannot_be_reused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ws = await make_workspace(client, workspaceId="llm-czal8nvvwb8d4xxx")
    assert ws == "llm-czal8nvvwb8d4xxx"
    again = await client.post("/v1/workspaces", json={"workspaceId": ws, "name": "again"})
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_EXISTS"
    _, token = await new_member(client, "someone")
    async with acting_as(app, token) as member:
        taken = await member.post("/v1/workspaces", json={"workspaceId": ws, "name": "mine"})
        assert taken.status_code == 409
    assert (await client.get(f"/v1/workspaces/{ws}")).json()["name"] == "team"


@pytest.mark.parametrize(
    "workspace_id",
    ["ab", "-abc", "Llm-abc", "llm_abc", "llm abc", "llm-abc\n", "a" * 65, "", "工作区"],
)
async def test_a_bad_workspace_id_is_400_naming_it(
    client: httpx.AsyncClient, workspace_id: str
) -> None:
    response = await client.post("/v1/workspaces", json={"workspaceId": workspace_id, "name": "w"})
    assert response.status_code == 400, response.text
    assert fields(response) == ["workspaceId"]
    assert (await client.get("/v1/workspaces")).json() == {"workspaces": []}


async def test_workspace_id_limits_are_inclusive(client: httpx.AsyncClient) -> None:
    assert await make_workspace(client, workspaceId="a1-") == "a1-"
    assert await make_workspace(client, workspaceId="9" * 64) == "9" * 64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 256}, "name"),
        ({}, "name"),
        ({"name": 3}, "name"),
        ({"name": "w", "owner": "x"}, "owner"),
    ],
)
async def test_a_bad_workspace_body_is_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/workspaces", json=body)
    assert response.status_code == 400, response.text
    assert fields(response) == [field]


# --- templates: life cycle and versions -----------------------------------------------------


async def test_prompt_template_life_cycle(client: httpx.AsyncClient) -> None:
    admin_id = (await client.get("/v1/principals")).json()["principals"][0]["principalId"]
    ws = await make_workspace(client)
    created = await make_template(client, ws, "greeting", "Hello ${name}, welcome to ${place}.")
    template_id = created["promptTemplateId"]
    assert HEX32.fullmatch(template_id)
    assert created == {
        "promptTemplateId": template_id,
        "workspaceId": ws,
        "name": "greeting",
        "content": "Hello ${name}, welcome to ${place}.",
        "variables": ["name", "place"],
        "type": "Custom",
        "version": 1,
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
        "createdBy": admin_id,
        "updatedBy": admin_id,
        "labels": ["latest"],
        "kind": "text",
        "messages": None,
        "config": None,
    }
    url = f"/v1/workspaces/{ws}/prompt-templates/{template_id}"
    assert (await client.get(url)).json() == created
    listed = (await client.get(f"/v1/workspaces/{ws}/prompt-templates")).json()
    assert listed == {
        "promptTemplates": [created],
        "totalCount": 1,
        "maxResults": 20,
        "nextToken": None,
    }

    renamed = await client.patch(url, json={"name": "welcome"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "welcome" and renamed.json()["version"] == 2
    assert renamed.json()["content"] == created["content"]
    rewritten = await client.patch(url, json={"content": "Hi ${who}", "name": None})
    assert rewritten.status_code == 200, rewritten.text
    current = rewritten.json()
    assert current["version"] == 3 and current["name"] == "welcome"
    assert current["content"] == "Hi ${who}" and current["variables"] == ["who"]
    assert current["createdAt"] == created["createdAt"]
    assert current["updatedAt"] >= renamed.json()["updatedAt"] >= created["updatedAt"]
    assert (await client.get(url)).json() == current

    deleted = await client.delete(url)
    assert deleted.status_code == 200 and deleted.json() == {"deleted": True, "id": template_id}
    for response in (
        await client.get(url),
        await client.get(url, params={"version": 1}),
        await client.get(f"{url}/versions"),
        await client.patch(url, json={"name": "x"}),
        await client.delete(url),
        await client.post(f"{url}:render", json={"variables": {"who": "x"}}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "NOT_FOUND"
    assert (await client.get(f"/v1/workspaces/{ws}/prompt-templates")).json()["totalCount"] == 0


async def test_every_update_keeps_the_old_text_as_a_version(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    created = await make_template(client, ws, "story", "Once upon ${time}")
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}"
    texts = ["Once upon ${time}", "Twice upon ${time} in ${place}", "写一篇关于${主题}的笔记"]
    for text in texts[1:]:
        assert (await client.patch(url, json={"content": text})).status_code == 200
    await client.patch(url, json={"name": "renamed story"})

    versions = (await client.get(f"{url}/versions")).json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert [v["content"] for v in versions] == [*texts, texts[-1]]
    assert [v["name"] for v in versions] == ["story", "story", "story", "renamed story"]
    assert versions[1]["variables"] == ["time", "place"] and versions[2]["variables"] == ["主题"]
    assert all(v["createdAt"] == created["createdAt"] for v in versions)
    assert versions[0] == {**created, "labels": []}  # `latest` moved on to version 4
    assert [v["labels"] for v in versions] == [[], [], [], ["latest"]]

    for n, text in enumerate(texts, start=1):
        old = await client.get(url, params={"version": n})
        assert old.status_code == 200, old.text
        assert old.json()["content"] == text and old.json()["version"] == n
        assert old.json() == versions[n - 1]
    assert (await client.get(url, params={"version": 4})).json() == (await client.get(url)).json()
    unknown = await client.get(url, params={"version": 5})
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
    for bad in (0, -1, 2**31, 2**70):
        response = await client.get(url, params={"version": bad})
        assert response.status_code == 400, response.text
        assert fields(response) == ["version"]
    not_a_number = await client.get(url, params={"version": "two"})
    assert not_a_number.status_code == 400 and fields(not_a_number) == ["version"]

    rendered = await client.post(f"{url}:render", json={"variables": {"time": "t"}, "version": 1})
    assert rendered.status_code == 200, rendered.text
    assert rendered.json()["text"] == "Once upon t" and rendered.json()["version"] == 1
    too_big = await client.post(f"{url}:render", json={"variables": {}, "version": 2**40})
    assert too_big.status_code == 400 and fields(too_big) == ["version"]


# --- variables and rendering ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "variables"),
    [
        ("${b} ${a} ${b} ${c} ${a}", ["b", "a", "c"]),
        ("Write about ${主题} in the style of ${风格}; ${主题} again", ["主题", "风格"]),
        ("$${literal} and ${real} and $${real}", ["real"]),
        ("${ spaced } ${1x} ${} {plain} $plain", []),
        ("${_u} ${a.b} ${x-1} ${Ünïcode}", ["_u", "a.b", "x-1", "Ünïcode"]),
    ],
    ids=["order", "chinese", "escape", "plain-text", "characters"],
)
async def test_variables_are_distinct_in_order_of_first_appearance(
    client: httpx.AsyncClient, content: str, variables: list[str]
) -> None:
    ws = await make_workspace(client)
    created = await make_template(client, ws, content=content)
    assert created["variables"] == variables
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}"
    assert (await client.get(url)).json()["variables"] == variables


async def test_render_fills_variables_and_reports_unused_ones(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    created = await make_template(
        client, ws, content="写一篇关于${主题}的${Kind}，$${主题}保留，再提${主题}"
    )
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}:render"
    response = await client.post(
        url, json={"variables": {"主题": "咖啡", "Kind": "笔记", "extra": "x", "more": "${主题}"}}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "text": "写一篇关于咖啡的笔记，${主题}保留，再提咖啡",
        "variables": ["主题", "Kind"],
        "missing": [],
        "unused": ["extra", "more"],
        "version": 1,
        "messages": None,
        "config": None,
    }
    plain = await make_template(client, ws, content="no variables, but $${x}")
    url = f"/v1/workspaces/{ws}/prompt-templates/{plain['promptTemplateId']}:render"
    empty = await client.post(url, json={})
    assert empty.status_code == 200, empty.text
    assert empty.json()["text"] == "no variables, but ${x}" and empty.json()["missing"] == []


async def test_render_names_every_missing_variable_in_one_error(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    created = await make_template(client, ws, content="${Greeting} ${name}, about ${主题} ${name}")
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}:render"
    response = await client.post(url, json={"variables": {"name": "Ann"}})
    assert response.status_code == 400, response.text
    assert fields(response) == ["variables.Greeting", "variables.主题"]
    message = response.json()["message"]
    assert "Greeting" in message and "主题" in message
    nothing = await client.post(url, json={"variables": {}, "allowPartial": False})
    assert fields(nothing) == ["variables.Greeting", "variables.name", "variables.主题"]


async def test_partial_render_leaves_unfilled_placeholders_as_written(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    created = await make_template(client, ws, content="${a} ${b} $${c} ${a} ${主题}")
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}:render"
    response = await client.post(url, json={"variables": {"b": "B"}, "allowPartial": True})
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "${a} B ${c} ${a} ${主题}"
    assert response.json()["missing"] == ["a", "主题"] and response.json()["unused"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"variables": {"a": 1}}, "variables.a"),
        ({"variables": {"a": None}}, "variables.a"),
        ({"variables": ["a"]}, "variables"),
        ({"variables": {}, "allowPartial": "maybe"}, "allowPartial"),
        ({"variables": {}, "version": "latest"}, "version"),
        ({"variables": {}, "extra": 1}, "extra"),
    ],
)
async def test_a_bad_render_body_is_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    ws = await make_workspace(client)
    created = await make_template(client, ws, content="${a}")
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}:render"
    response = await client.post(url, json=body)
    assert response.status_code == 400, response.text
    assert fields(response) == [field]


# --- limits ---------------------------------------------------------------------------------


async def test_a_render_over_1_mib_is_400_naming_variables_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    created = await make_template(client, ws, content="${a}" * 64)
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}"
    at_limit = await client.post(f"{url}:render", json={"variables": {"a": "x" * 16_384}})
    assert at_limit.status_code == 200, at_limit.text[:200]
    assert len(at_limit.json()["text"]) == 1024 * 1024
    over = await client.post(f"{url}:render", json={"variables": {"a": "x" * 16_385}})
    assert over.status_code == 400, over.text[:200]
    assert fields(over) == ["variables"]
    assert "1,048,640 bytes (UTF-8); at most 1,048,576 bytes" in over.json()["message"]
    worst = await make_template(client, ws, name="worst", content="${a}" * 25_000)
    attack = f"/v1/workspaces/{ws}/prompt-templates/{worst['promptTemplateId']}:render"
    refused = await client.post(attack, json={"variables": {"a": "x" * 25_600}})
    assert refused.status_code == 400 and fields(refused) == ["variables"]
    assert (await client.get(url)).json()["version"] == 1


async def test_the_render_limit_is_the_setting_max_rendered_bytes(settings: Settings) -> None:
    small = create_app(settings.model_copy(update={"max_rendered_bytes": 4096}))
    async with small.router.lifespan_context(small), acting_as(small, ADMIN_TOKEN) as http:
        ws = await make_workspace(http)
        created = await make_template(http, ws, content="${a}${a}")
        url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}:render"
        assert (await http.post(url, json={"variables": {"a": "é" * 1024}})).status_code == 200
        over = await http.post(url, json={"variables": {"a": "é" * 1024 + "x"}})
        assert over.status_code == 400 and fields(over) == ["variables"]
        assert "4,098 bytes (UTF-8); at most 4,096 bytes" in over.json()["message"]


@pytest.mark.parametrize(
    ("name", "content", "field"),
    [
        ("n" * 255, "c", None),
        ("名" * 255, "c", None),
        ("n", "c" * 100_000, None),
        ("n", "内" * 100_000, None),
        ("", "c", "name"),
        ("   ", "c", "name"),
        ("n" * 256, "c", "name"),
        ("n", "", "content"),
        ("n", " \n ", "content"),
        ("n", "c" * 100_001, "content"),
        ("n\x00", "c", "name"),
    ],
    ids=[
        "name-255",
        "name-255-chinese",
        "content-100000",
        "content-100000-chinese",
        "name-empty",
        "name-spaces",
        "name-256",
        "content-empty",
        "content-spaces",
        "content-100001",
        "name-nul",
    ],
)
async def test_name_and_content_limits(
    client: httpx.AsyncClient, name: str, content: str, field: str | None
) -> None:
    ws = await make_workspace(client)
    base = f"/v1/workspaces/{ws}/prompt-templates"
    created = await client.post(base, json={"name": name, "content": content})
    existing = await make_template(client, ws, "keep", "keep ${x}")
    # As long, but not the name just taken.
    other = name if field is not None else name[:-1] + "二"
    patched = await client.patch(
        f"{base}/{existing['promptTemplateId']}", json={"name": other, "content": content}
    )
    if field is None:
        assert created.status_code == 201, created.text[:300]
        assert created.json()["name"] == name and created.json()["content"] == content
        assert patched.status_code == 200, patched.text[:300]
        assert patched.json()["version"] == 2
        return
    for response in (created, patched):
        assert response.status_code == 400, response.text[:300]
        assert fields(response) == [field]
        assert field in response.json()["message"]
    versions = await client.get(f"{base}/{existing['promptTemplateId']}/versions")
    assert len(versions.json()["versions"]) == 1
    assert (await client.get(base)).json()["totalCount"] == 1


async def test_both_bad_fields_are_named_at_once(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    response = await client.post(
        f"/v1/workspaces/{ws}/prompt-templates", json={"name": "", "content": ""}
    )
    assert response.status_code == 400
    assert fields(response) == ["name", "content"]
    missing = await client.post(f"/v1/workspaces/{ws}/prompt-templates", json={})
    assert missing.status_code == 400
    assert fields(missing) == ["name"]  # the body's shape is checked first
    no_text = await client.post(f"/v1/workspaces/{ws}/prompt-templates", json={"name": "n"})
    assert no_text.status_code == 400 and fields(no_text) == ["content"]
    assert "messages" in no_text.json()["message"]


# --- built-in System templates --------------------------------------------------------------


async def test_system_templates_are_listed_readable_everywhere_and_read_only(
    client: httpx.AsyncClient,
) -> None:
    first, second = await make_workspace(client), await make_workspace(client)
    await make_template(client, first)
    listed = await client.get(f"/v1/workspaces/{first}/prompt-templates", params={"type": "System"})
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["totalCount"] == len(BUILT_IN) and page["nextToken"] is None
    assert [t["promptTemplateId"] for t in page["promptTemplates"]] == [
        t.prompt_template_id for t in BUILT_IN
    ]
    assert {t["type"] for t in page["promptTemplates"]} == {"System"}
    assert {t["workspaceId"] for t in page["promptTemplates"]} == {first}
    custom = (await client.get(f"/v1/workspaces/{first}/prompt-templates")).json()
    assert custom["totalCount"] == 1 and custom["promptTemplates"][0]["type"] == "Custom"
    explicit = await client.get(f"/v1/workspaces/{first}/prompt-templates?type=Custom")
    assert explicit.json() == custom

    builtin = BUILT_IN[0]
    for ws in (first, second):
        url = f"/v1/workspaces/{ws}/prompt-templates/{builtin.prompt_template_id}"
        got = await client.get(url)
        assert got.status_code == 200, got.text
        assert got.json()["workspaceId"] == ws and got.json()["type"] == "System"
        assert got.json()["content"] == builtin.content
        assert got.json()["variables"] == list(builtin.variables)
        assert (await client.get(url, params={"version": 1})).json() == got.json()
        assert (await client.get(url, params={"version": 2})).status_code == 404
        assert (await client.get(f"{url}/versions")).json() == {"versions": [got.json()]}
        for response in (
            await client.patch(url, json={"name": "mine now"}),
            await client.patch(url, json={}),
            await client.delete(url),
        ):
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "PERMISSION_DENIED"
        values = {name: f"<{name}>" for name in builtin.variables}
        rendered = await client.post(f"{url}:render", json={"variables": values})
        assert rendered.status_code == 200, rendered.text
        assert rendered.json()["missing"] == [] and rendered.json()["unused"] == []
    assert (await client.get(f"/v1/workspaces/{first}/prompt-templates")).json() == custom


async def test_system_templates_page_like_custom_ones(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    items, pages = await list_all(client, ws, type="System", maxResults=2)
    assert [t["promptTemplateId"] for t in items] == [t.prompt_template_id for t in BUILT_IN]
    assert len(pages) == (len(BUILT_IN) + 1) // 2
    assert {p["totalCount"] for p in pages} == {len(BUILT_IN)}
    summary = await client.get(
        f"/v1/workspaces/{ws}/prompt-templates", params={"type": "System", "name": "SUMMAR"}
    )
    assert [t["name"] for t in summary.json()["promptTemplates"]] == ["Summarize"]
    chinese = await client.get(
        f"/v1/workspaces/{ws}/prompt-templates", params={"type": "System", "name": "文案"}
    )
    assert [t["name"] for t in chinese.json()["promptTemplates"]] == ["小红书文案助手"]


# --- lists and paging -----------------------------------------------------------------------


async def test_paging_follows_tokens_while_templates_are_added(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every template is created in the same millisecond: the order must still hold.
    monkeypatch.setattr(prompt_service, "now_ms", lambda: 1_800_000_000_000)
    ws = await make_workspace(client)
    created = [(await make_template(client, ws, f"t{n}"))["promptTemplateId"] for n in range(5)]
    base = f"/v1/workspaces/{ws}/prompt-templates"

    first = (await client.get(base, params={"maxResults": 2})).json()
    assert [t["promptTemplateId"] for t in first["promptTemplates"]] == created[:2]
    assert first["totalCount"] == 5 and first["maxResults"] == 2 and first["nextToken"]
    seen = [t["promptTemplateId"] for t in first["promptTemplates"]]
    token = first["nextToken"]
    while token:
        if len(created) < 8:  # a template added between pages shows up on a later page
            late = await make_template(client, ws, f"late{len(created)}")
            created.append(late["promptTemplateId"])
        page = (await client.get(base, params={"maxResults": 2, "nextToken": token})).json()
        assert page["totalCount"] == len(created)
        seen += [t["promptTemplateId"] for t in page["promptTemplates"]]
        token = page["nextToken"]
    assert seen == created  # nothing repeated, nothing skipped, in order of creation

    items, pages = await list_all(client, ws, maxResults=3)
    assert [t["promptTemplateId"] for t in items] == created
    assert len(pages) == 3 and pages[-1]["nextToken"] is None
    stamps = [t["createdAt"] for t in items]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    exact = await client.get(base, params={"maxResults": len(created)})
    assert exact.json()["nextToken"] is None and len(exact.json()["promptTemplates"]) == 8


async def test_a_token_survives_deletions(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    ids = [(await make_template(client, ws, f"t{n}"))["promptTemplateId"] for n in range(4)]
    base = f"/v1/workspaces/{ws}/prompt-templates"
    first = (await client.get(base, params={"maxResults": 2})).json()
    await client.delete(f"{base}/{ids[1]}")
    await client.delete(f"{base}/{ids[2]}")
    second = await client.get(base, params={"maxResults": 2, "nextToken": first["nextToken"]})
    assert [t["promptTemplateId"] for t in second.json()["promptTemplates"]] == [ids[3]]
    assert second.json()["nextToken"] is None


async def test_the_name_filter_matches_part_of_the_name_in_any_case(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    for name in ("Weekly Report", "weekly digest", "小红书文案", "100% off", "a_b"):
        await make_template(client, ws, name)
    base = f"/v1/workspaces/{ws}/prompt-templates"

    async def names(part: str) -> list[str]:
        response = await client.get(base, params={"name": part})
        assert response.status_code == 200, response.text
        assert response.json()["totalCount"] == len(response.json()["promptTemplates"])
        return [t["name"] for t in response.json()["promptTemplates"]]

    assert await names("WEEKLY") == ["Weekly Report", "weekly digest"]
    assert await names("文案") == ["小红书文案"]
    assert await names("%") == ["100% off"]
    assert await names("_") == ["a_b"]
    assert await names("nothing") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"nextToken": "not-a-token"}, "nextToken"),
        ({"nextToken": "!!!"}, "nextToken"),
        ({"nextToken": token_of({"a": 1})}, "nextToken"),
        ({"nextToken": token_of([1])}, "nextToken"),
        ({"nextToken": token_of(["1", "0" * 32])}, "nextToken"),
        ({"nextToken": token_of([10**30, "0" * 32])}, "nextToken"),
        ({"nextToken": token_of([-1, "0" * 32])}, "nextToken"),
        ({"nextToken": token_of([1, "x\u0000"])}, "nextToken"),
        ({"nextToken": token_of([True, "0" * 32])}, "nextToken"),
        ({"nextToken": "令牌"}, "nextToken"),
        ({"maxResults": 0}, "maxResults"),
        ({"maxResults": 101}, "maxResults"),
        ({"maxResults": 2**80}, "maxResults"),
        ({"maxResults": "many"}, "maxResults"),
        ({"type": "Other"}, "type"),
    ],
)
async def test_bad_list_parameters_are_400_naming_them(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    ws = await make_workspace(client)
    await make_template(client, ws)
    response = await client.get(f"/v1/workspaces/{ws}/prompt-templates", params=params)
    assert response.status_code == 400, response.text
    assert fields(response) == [field]


async def test_max_results_limits_are_inclusive(client: httpx.AsyncClient) -> None:
    ws = await make_workspace(client)
    await make_template(client, ws)
    base = f"/v1/workspaces/{ws}/prompt-templates"
    for value in (1, 100):
        response = await client.get(base, params={"maxResults": value})
        assert response.status_code == 200 and response.json()["maxResults"] == value


# --- who reaches a workspace ----------------------------------------------------------------


async def test_only_members_owner_and_admins_reach_a_workspace(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner_id, owner_token = await new_member(client, "owner")
    other_id, other_token = await new_member(client, "other")
    async with acting_as(app, owner_token) as owner, acting_as(app, other_token) as other:
        ws = await make_workspace(owner, "owner's", workspaceId="llm-owner0001")
        template = await make_template(owner, ws, "t", "Hi ${who}")
        own = await make_workspace(other, "other's")
        base = f"/v1/workspaces/{ws}/prompt-templates"
        url = f"{base}/{template['promptTemplateId']}"
        builtin = f"{base}/{BUILT_IN[0].prompt_template_id}"

        async def template_routes(client: httpx.AsyncClient) -> list[httpx.Response]:
            return [
                await client.get(base),
                await client.get(base, params={"type": "System"}),
                await client.post(base, json={"name": "n", "content": "c"}),
                await client.get(url),
                await client.get(url, params={"version": 1}),
                await client.get(f"{url}/versions"),
                await client.patch(url, json={"name": "taken"}),
                await client.post(f"{url}:render", json={"variables": {"who": "x"}}),
                await client.get(builtin),
                await client.get(f"{builtin}/versions"),
                await client.patch(builtin, json={"name": "x"}),
                await client.delete(builtin),
                await client.post(f"{builtin}:render", json={"allowPartial": True}),
                await client.delete(url),
            ]

        for response in [
            *await template_routes(other),
            await other.get(f"/v1/workspaces/{ws}"),
            await other.get(f"/v1/workspaces/{ws}/members"),
            await other.put(f"/v1/workspaces/{ws}/members/{other_id}"),
            await other.delete(f"/v1/workspaces/{ws}/members/{owner_id}"),
            await other.delete(f"/v1/workspaces/{ws}"),
        ]:
            assert response.status_code == 404, (response.request.url, response.text)
            assert response.json()["code"] == "NOT_FOUND"
        assert [
            w["workspaceId"] for w in (await other.get("/v1/workspaces")).json()["workspaces"]
        ] == [own]
        assert (await owner.get(url)).json() == template  # nothing changed

        added = await owner.put(f"/v1/workspaces/{ws}/members/{other_id}")
        assert added.status_code == 200, added.text
        assert (added.json()["principalId"], added.json()["role"]) == (other_id, "reader")
        again = await owner.put(f"/v1/workspaces/{ws}/members/{other_id}")
        assert again.json() == added.json()  # idempotent, the first time kept
        # Readers are test_workspace_roles.py's; here the member may write.
        editor = await owner.put(f"/v1/workspaces/{ws}/members/{other_id}", json={"role": "editor"})
        assert editor.json() == {**added.json(), "role": "editor"}
        added = editor
        members = (await owner.get(f"/v1/workspaces/{ws}/members")).json()
        assert members == {"members": [added.json()]}
        listed = [
            w["workspaceId"] for w in (await other.get("/v1/workspaces")).json()["workspaces"]
        ]
        assert sorted(listed) == sorted([ws, own])

        # A member works with the templates ...
        assert (await other.get(url)).json()["content"] == "Hi ${who}"
        assert (await other.get(f"/v1/workspaces/{ws}")).json()["ownerId"] == owner_id
        assert (await other.get(f"/v1/workspaces/{ws}/members")).json() == members
        patched = await other.patch(url, json={"content": "Hello ${who}"})
        assert patched.status_code == 200 and patched.json()["updatedBy"] == other_id
        assert patched.json()["createdBy"] == owner_id
        theirs = await make_template(other, ws, "theirs")
        assert theirs["createdBy"] == other_id
        rendered = await other.post(f"{url}:render", json={"variables": {"who": "you"}})
        assert rendered.json()["text"] == "Hello you"
        assert (await other.get(base)).json()["totalCount"] == 2
        assert (await other.patch(builtin, json={"name": "x"})).status_code == 403
        # ... but does not manage the workspace.
        for response in (
            await other.delete(f"/v1/workspaces/{ws}"),
            await other.put(f"/v1/workspaces/{ws}/members/{owner_id}"),
            await other.delete(f"/v1/workspaces/{ws}/members/{other_id}"),
        ):
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "PERMISSION_DENIED"

        # Admins reach every workspace and manage it.
        assert (await client.get(url)).status_code == 200
        everything = (await client.get("/v1/workspaces")).json()["workspaces"]
        assert {w["workspaceId"] for w in everything} == {ws, own}
        unknown = await owner.put(f"/v1/workspaces/{ws}/members/no-such-principal")
        assert unknown.status_code == 404
        removed = await client.delete(f"/v1/workspaces/{ws}/members/{other_id}")
        assert removed.status_code == 200 and removed.json() == {"deleted": True, "id": other_id}
        assert (await owner.delete(f"/v1/workspaces/{ws}/members/{other_id}")).status_code == 404
        assert (await owner.get(f"/v1/workspaces/{ws}/members")).json() == {"members": []}
        assert {r.status_code for r in await template_routes(other)} == {404}
        assert (await owner.get(url)).json()["version"] == 2


async def test_deleting_a_workspace_deletes_its_templates(client: httpx.AsyncClient) -> None:
    member_id, _ = await new_member(client, "member")
    ws = await make_workspace(client, workspaceId="llm-doomed")
    kept = await make_workspace(client, workspaceId="llm-kept")
    first = await make_template(client, ws, "one")
    await client.patch(
        f"/v1/workspaces/{ws}/prompt-templates/{first['promptTemplateId']}", json={"name": "1"}
    )
    await make_template(client, ws, "two")
    survivor = await make_template(client, kept, "stays")
    assert (await client.put(f"/v1/workspaces/{ws}/members/{member_id}")).status_code == 200

    assert (await client.delete(f"/v1/workspaces/{ws}")).status_code == 200
    base = f"/v1/workspaces/{ws}/prompt-templates"
    assert (await client.get(base)).status_code == 404
    assert (await client.get(f"{base}/{first['promptTemplateId']}")).status_code == 404

    # The id is free again, and the new workspace starts empty.
    assert await make_workspace(client, workspaceId=ws) == ws
    assert (await client.get(base)).json()["totalCount"] == 0
    assert (await client.get(f"{base}/{first['promptTemplateId']}")).status_code == 404
    assert (await client.get(f"{base}/{first['promptTemplateId']}/versions")).status_code == 404
    assert (await client.get(f"/v1/workspaces/{ws}/members")).json() == {"members": []}
    kept_url = f"/v1/workspaces/{kept}/prompt-templates/{survivor['promptTemplateId']}"
    assert (await client.get(kept_url)).json() == survivor
