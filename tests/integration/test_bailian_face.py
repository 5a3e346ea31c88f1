"""The bailian (Model Studio 2023-12-29, ROA) prompt-template face through the in-process app.

Runs on SQLite and PostgreSQL; requests are signed as the SDK signs them, with both of
its ROA signers (ACS3-HMAC-SHA256 and the older `acs <AK>:<HMAC-SHA1>`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.domain.principals import Principal
from modelplane.domain.system_prompts import system_templates
from modelplane.services import principals, prompts, workspaces
from tests.integration.test_catalog_services import admin_of
from tests.support.roa import RoaClient, segment, send

WS = "llm-bailian0001"
COLLECTION = f"/{WS}/promptTemplates"
ERROR_KEYS = {"requestId", "code", "message"}
CONTENT = "请写一篇小红书种草笔记，主题为：${主题}，风格：${style}。$${literal}"


def item(template_id: str, ws: str = WS) -> str:
    return f"/{ws}/promptTemplates/{segment(template_id)}"


async def keys_for(app: FastAPI, principal_id: str) -> tuple[str, str]:
    store, secrets = app.state.store, app.state.secrets
    issued = await principals.issue_access_key(
        store=store, secrets=secrets, actor=await admin_of(store), principal_id=principal_id
    )
    return issued.access_key.access_key_id, issued.secret


async def new_member(app: FastAPI, name: str) -> Principal:
    store = app.state.store
    return await principals.create_principal(
        store=store, actor=await admin_of(store), name=name, role="member"
    )


@pytest.fixture(params=["acs3", "v2"])
def signer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def owner(app: FastAPI) -> Principal:
    """A member principal who owns the workspace WS."""
    member = await new_member(app, "ws-owner")
    await workspaces.create_workspace(
        store=app.state.store, actor=member, name="bailian", workspace_id=WS
    )
    return member


@pytest.fixture
async def roa(app: FastAPI, owner: Principal, signer: str) -> RoaClient:
    """Signed by the workspace's owner, with each of the SDK's ROA signers."""
    return RoaClient(app, *await keys_for(app, owner.principal_id), signer=signer)


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    assert body["requestId"] == response.headers["x-request-id"]
    return body


async def create(roa: RoaClient, name: str = "小红书文案助手", content: str = CONTENT) -> str:
    body = await roa.ok("POST", COLLECTION, {"name": name, "content": content})
    assert set(body) == {"requestId", "promptTemplateId"}
    return str(body["promptTemplateId"])


async def test_the_life_cycle_of_a_template(roa: RoaClient) -> None:
    template_id = await create(roa)
    got = await roa.ok("GET", item(template_id))
    assert got == {
        "requestId": got["requestId"],
        "promptTemplateId": template_id,
        "name": "小红书文案助手",
        "content": CONTENT,
        "variables": ["主题", "style"],
        "workspaceId": WS,
    }
    listed = await roa.ok("GET", COLLECTION)
    assert set(listed) == {
        "requestId",
        "workspaceId",
        "maxResults",
        "nextToken",
        "totalCount",
        "promptTemplates",
    }
    assert (listed["workspaceId"], listed["totalCount"], listed["nextToken"]) == (WS, 1, None)
    assert listed["promptTemplates"] == [
        {
            "promptTemplateId": template_id,
            "name": "小红书文案助手",
            "content": CONTENT,
            "variables": ["主题", "style"],
            "type": "Custom",
        }
    ]
    updated = await roa.ok("PATCH", item(template_id), {"content": "新的 ${topic}"})
    assert set(updated) == {"requestId"}
    got = await roa.ok("GET", item(template_id))
    assert (got["name"], got["content"], got["variables"]) == (
        "小红书文案助手",
        "新的 ${topic}",
        ["topic"],
    )
    await roa.ok("PATCH", item(template_id), {"name": "renamed"})
    assert (await roa.ok("GET", item(template_id)))["name"] == "renamed"
    deleted = await roa.ok("DELETE", item(template_id))
    assert set(deleted) == {"requestId"}
    error_of(await roa.call("GET", item(template_id)), 404, "PromptTemplate.NotFound")
    assert (await roa.ok("GET", COLLECTION))["promptTemplates"] == []


async def test_update_keeps_every_version(app: FastAPI, roa: RoaClient, owner: Principal) -> None:
    template_id = await create(roa, content="v1 ${a}")
    await roa.ok("PATCH", item(template_id), {"content": "v2 ${b}"})
    await roa.ok("PATCH", item(template_id), {"name": "n3", "content": "v3"})
    history = await prompts.list_versions(
        store=app.state.store, actor=owner, workspace_id=WS, template_id=template_id
    )
    assert [(v.version, v.name, v.content, v.variables) for v in history] == [
        (1, "小红书文案助手", "v1 ${a}", ("a",)),
        (2, "小红书文案助手", "v2 ${b}", ("b",)),
        (3, "n3", "v3", ()),
    ]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"name": "n" * 256, "content": "c"}, "PromptTemplate.NameInvalid"),
        ({"name": "", "content": "c"}, "PromptTemplate.NameInvalid"),
        ({"name": "   ", "content": "c"}, "PromptTemplate.NameInvalid"),
        ({"content": "c"}, "PromptTemplate.NameInvalid"),
        ({"name": "n", "content": "c" * 100_001}, "PromptTemplate.ContentInvalid"),
        ({"name": "n", "content": ""}, "PromptTemplate.ContentInvalid"),
        ({"name": "n"}, "PromptTemplate.ContentInvalid"),
        ({"name": "n\x00", "content": "c"}, "PromptTemplate.NameInvalid"),
    ],
    ids=[
        "name-256",
        "name-empty",
        "name-blank",
        "name-missing",
        "content-100001",
        "content-empty",
        "content-missing",
        "name-nul",
    ],
)
async def test_create_refuses_a_bad_name_or_content(
    roa: RoaClient, query: dict[str, str], code: str
) -> None:
    body = error_of(await roa.call("POST", COLLECTION, query), 400, code)
    assert body["message"]
    assert (await roa.ok("GET", COLLECTION))["totalCount"] == 0


async def test_the_longest_name_and_content_are_accepted(roa: RoaClient) -> None:
    name, content = "名" * 255, "文" * 99_995 + "${主题}"
    assert len(content) == 100_000
    template_id = await create(roa, name=name, content=content)
    got = await roa.ok("GET", item(template_id))
    assert (got["name"], got["content"], got["variables"]) == (name, content, ["主题"])
    await roa.ok("PATCH", item(template_id), {"name": "n" * 255, "content": "c" * 100_000})


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"name": "n" * 256}, "PromptTemplate.NameInvalid"),
        ({"name": ""}, "PromptTemplate.NameInvalid"),
        ({"content": "c" * 100_001}, "PromptTemplate.ContentInvalid"),
        ({"content": ""}, "PromptTemplate.ContentInvalid"),
    ],
    ids=["name-256", "name-empty", "content-100001", "content-empty"],
)
async def test_update_refuses_a_bad_name_or_content(
    roa: RoaClient, query: dict[str, str], code: str
) -> None:
    template_id = await create(roa)
    error_of(await roa.call("PATCH", item(template_id), query), 400, code)
    assert (await roa.ok("GET", item(template_id)))["content"] == CONTENT


@pytest.mark.parametrize(
    "query",
    [
        {"maxResults": "0"},
        {"maxResults": "101"},
        {"maxResults": "ten"},
        {"maxResults": "-1"},
        {"type": "Shared"},
        {"nextToken": "not-a-token"},
    ],
)
async def test_bad_list_parameters_are_invalid_parameter(
    roa: RoaClient, query: dict[str, str]
) -> None:
    body = error_of(await roa.call("GET", COLLECTION, query), 400, "InvalidParameter")
    assert next(iter(query)) in body["message"]


async def test_a_list_pages_with_a_token_and_filters_by_name(roa: RoaClient) -> None:
    ids = [await create(roa, name=f"模板 {n}", content=f"c{n}") for n in range(5)]
    first = await roa.ok("GET", COLLECTION, {"maxResults": 2})
    assert (first["maxResults"], first["totalCount"]) == (2, 5)
    assert [t["promptTemplateId"] for t in first["promptTemplates"]] == ids[:2]
    late = await create(roa, name="模板 late", content="c")
    second = await roa.ok("GET", COLLECTION, {"maxResults": 2, "nextToken": first["nextToken"]})
    third = await roa.ok("GET", COLLECTION, {"maxResults": 2, "nextToken": second["nextToken"]})
    assert [t["promptTemplateId"] for t in second["promptTemplates"]] == ids[2:4]
    assert [t["promptTemplateId"] for t in third["promptTemplates"]] == [ids[4], late]
    assert third["nextToken"] is None
    found = await roa.ok("GET", COLLECTION, {"name": "LATE"})
    assert [t["promptTemplateId"] for t in found["promptTemplates"]] == [late]
    assert found["totalCount"] == 1


async def test_system_templates_are_listed_and_read_only(roa: RoaClient) -> None:
    builtin = system_templates()
    listed = await roa.ok("GET", COLLECTION, {"type": "System", "maxResults": 100})
    assert listed["totalCount"] == len(builtin)
    assert {t["type"] for t in listed["promptTemplates"]} == {"System"}
    assert {t["promptTemplateId"] for t in listed["promptTemplates"]} == {
        t.prompt_template_id for t in builtin
    }
    assert (await roa.ok("GET", COLLECTION, {"type": "Custom"}))["promptTemplates"] == []
    system_id = builtin[0].prompt_template_id
    got = await roa.ok("GET", item(system_id))
    assert (got["content"], got["workspaceId"]) == (builtin[0].content, WS)
    error_of(await roa.call("PATCH", item(system_id), {"name": "mine"}), 403, "Forbidden")
    error_of(await roa.call("DELETE", item(system_id)), 403, "Forbidden")


async def test_a_foreign_principal_gets_404_until_added_as_member(
    app: FastAPI, roa: RoaClient, owner: Principal
) -> None:
    template_id = await create(roa)
    system_id = system_templates()[0].prompt_template_id
    stranger = await new_member(app, "stranger")
    foreign = RoaClient(app, *await keys_for(app, stranger.principal_id), signer=roa.signer)
    calls = [
        ("POST", COLLECTION, {"name": "n", "content": "c"}),
        ("GET", COLLECTION, {}),
        ("GET", COLLECTION, {"type": "System"}),
        ("GET", item(template_id), {}),
        ("GET", item(system_id), {}),
        ("PATCH", item(template_id), {"content": "taken over"}),
        ("PATCH", item(system_id), {"content": "taken over"}),
        ("DELETE", item(template_id), {}),
        ("DELETE", item(system_id), {}),
    ]
    for method, path, query in calls:
        body = error_of(await foreign.call(method, path, query), 404, "PromptTemplate.NotFound")
        assert WS in body["message"]
    await workspaces.add_member(
        store=app.state.store,
        actor=owner,
        workspace_id=WS,
        principal_id=stranger.principal_id,
        role="editor",
    )
    assert (await foreign.ok("GET", item(template_id)))["content"] == CONTENT
    created = await foreign.ok("POST", COLLECTION, {"name": "n", "content": "c"})
    assert (await foreign.ok("GET", COLLECTION))["totalCount"] == 2
    await foreign.ok("PATCH", item(template_id), {"content": "edited by a member"})
    await foreign.ok("DELETE", item(created["promptTemplateId"]))
    assert (await roa.ok("GET", item(template_id)))["content"] == "edited by a member"


async def test_an_admin_reaches_every_workspace(app: FastAPI, roa: RoaClient) -> None:
    template_id = await create(roa)
    admin = await admin_of(app.state.store)
    as_admin = RoaClient(app, *await keys_for(app, admin.principal_id), signer=roa.signer)
    assert (await as_admin.ok("GET", item(template_id)))["promptTemplateId"] == template_id


@pytest.mark.parametrize(
    ("method", "on_item", "query"),
    [
        ("POST", False, {"name": "n", "content": "c"}),
        ("GET", False, {}),
        ("GET", True, {}),
        ("PATCH", True, {"name": "n"}),
        ("DELETE", True, {}),
    ],
)
async def test_an_unknown_workspace_is_not_found(
    roa: RoaClient, method: str, on_item: bool, query: dict[str, str]
) -> None:
    unknown = "llm-nosuchspace"
    path = item("0" * 32, unknown) if on_item else f"/{unknown}/promptTemplates"
    body = error_of(await roa.call(method, path, query), 404, "PromptTemplate.NotFound")
    assert unknown in body["message"]


@pytest.mark.parametrize(
    ("method", "query"), [("GET", {}), ("PATCH", {"name": "n"}), ("DELETE", {})]
)
async def test_an_unknown_template_is_not_found(
    roa: RoaClient, method: str, query: dict[str, str]
) -> None:
    body = error_of(await roa.call(method, item("0" * 32), query), 404, "PromptTemplate.NotFound")
    assert "0" * 32 in body["message"]


async def test_segments_are_routed_still_encoded(roa: RoaClient) -> None:
    template_id = await create(roa)
    encoded = "".join(f"%{ord(c):02X}" for c in template_id)
    got = await roa.ok("GET", f"/{WS}/promptTemplates/{encoded}")
    assert got["promptTemplateId"] == template_id
    body = error_of(
        await roa.call("GET", f"/{WS}/promptTemplates/a%2Fb"), 404, "PromptTemplate.NotFound"
    )
    assert "'a/b'" in body["message"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", COLLECTION, "POST, GET"),
        ("DELETE", COLLECTION, "POST, GET"),
        ("POST", item("0" * 32), "GET, PATCH, DELETE"),
    ],
)
async def test_a_method_the_path_does_not_serve_is_405(
    roa: RoaClient, method: str, path: str, allowed: str
) -> None:
    response = await roa.call(method, path)
    error_of(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == allowed


async def test_signature_failures_keep_their_alibaba_codes(roa: RoaClient) -> None:
    error_of(await roa.call("GET", COLLECTION, sign=False), 400, "MissingParameter")
    wrong = RoaClient(roa.app, roa.access_key_id, "not-the-secret", roa.signer)
    error_of(await wrong.call("GET", COLLECTION), 401, "SignatureDoesNotMatch")
    unknown = RoaClient(roa.app, "MPAKNOSUCHKEY", roa.secret, roa.signer)
    error_of(await unknown.call("GET", COLLECTION), 401, "InvalidAccessKeyId.NotFound")
    date = (
        {"x-acs-date": "2020-01-01T00:00:00Z"}
        if roa.signer == "acs3"
        else {"date": "Wed, 01 Jan 2020 00:00:00 GMT"}
    )
    stale = await roa.call("GET", COLLECTION, extra_headers=date)
    error_of(stale, 400, "InvalidTimeStamp.Expired")
    nonce = {"x-acs-signature-nonce": "the-same-nonce"}
    assert (await roa.call("GET", COLLECTION, extra_headers=nonce)).status_code == 200
    replay = await roa.call("GET", COLLECTION, extra_headers=nonce)
    error_of(replay, 400, "SignatureNonceUsed")


async def test_a_query_changed_after_signing_is_refused(roa: RoaClient) -> None:
    template_id = await create(roa)
    headers = roa.headers_for("PATCH", item(template_id), {"content": "signed"})
    response = await send(roa.app, "PATCH", item(template_id), "content=signed", headers)
    assert response.status_code == 200
    captured = dict(headers)
    captured["x-acs-signature-nonce"] += "-2"  # not a replay: a changed request
    for query in ("content=changed", "content=signed&name=added"):
        tampered = await send(roa.app, "PATCH", item(template_id), query, captured)
        error_of(tampered, 401, "SignatureDoesNotMatch")
    assert (await roa.ok("GET", item(template_id)))["content"] == "signed"


async def test_a_name_sent_twice_with_different_values_is_refused(roa: RoaClient) -> None:
    response = await send(roa.app, "POST", COLLECTION, "name=a&name=b&content=c")
    body = error_of(response, 400, "PromptTemplate.NameInvalid")
    assert "given twice" in body["message"]
    response = await send(roa.app, "GET", COLLECTION, "maxResults=1&maxResults=2")
    body = error_of(response, 400, "InvalidParameter")
    assert "maxResults" in body["message"]


async def test_another_version_is_refused_and_none_is_accepted(roa: RoaClient) -> None:
    body = error_of(await roa.call("GET", COLLECTION, version="2021-07-01"), 400, "InvalidVersion")
    assert "2023-12-29" in body["message"]
    assert (await roa.call("GET", COLLECTION, version=None)).status_code == 200


async def test_the_other_routes_are_untouched(
    app: FastAPI, http: httpx.AsyncClient, roa: RoaClient
) -> None:
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).status_code == 200
    assert (await http.get("/v1/promptTemplates")).status_code == 401
    rpc = await http.post("/")
    assert rpc.status_code == 400 and "RequestId" in rpc.json()
    document = (await http.get("/openapi.json")).json()
    assert not [p for p in document["paths"] if "promptTemplates" in p]
    assert (await http.get("/docs")).status_code == 200
    unknown = await http.get(f"/{WS}/prompts")
    assert unknown.status_code == 404


async def test_a_taken_name_is_409_already_exists_and_not_stored(roa: RoaClient) -> None:
    first = await create(roa, name="greeting")
    error_of(
        await roa.call("POST", COLLECTION, {"name": "greeting", "content": "Hi"}),
        409,
        "PromptTemplate.AlreadyExists",
    )
    other = await create(roa, name="farewell")
    error_of(
        await roa.call("PATCH", item(other), {"name": "greeting"}),
        409,
        "PromptTemplate.AlreadyExists",
    )
    listed = await roa.ok("GET", COLLECTION)
    assert sorted((t["promptTemplateId"], t["name"]) for t in listed["promptTemplates"]) == sorted(
        [(first, "greeting"), (other, "farewell")]
    )
