"""The Alibaba RPC face at `POST /` through the in-process app, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.domain import errors as domain
from modelplane.services import catalog, principals
from tests.integration.test_catalog_services import admin_of
from tests.support.roa import RoaClient
from tests.support.rpc import HOST, RpcClient

ERROR_KEYS = {"RequestId", "HostId", "Code", "Message", "Recommend"}
PROVIDER_CONFIG = '{"baseUrl": "https://api.acme.test/v1", "api": "openai", "apiKey": "%s"}'
API_KEY = "sk-acme-0123456789abcdef"


async def _keys_for(app: FastAPI, role: str | None) -> tuple[str, str]:
    store, secrets = app.state.store, app.state.secrets
    admin = await admin_of(store)
    principal_id = admin.principal_id
    if role is not None:
        created = await principals.create_principal(
            store=store, actor=admin, name=f"rpc-{role}", role=role
        )
        principal_id = created.principal_id
    issued = await principals.issue_access_key(
        store=store, secrets=secrets, actor=admin, principal_id=principal_id
    )
    return issued.access_key.access_key_id, issued.secret


@pytest.fixture
async def rpc(app: FastAPI, http: httpx.AsyncClient) -> RpcClient:
    """Signed as the bootstrap admin."""
    return RpcClient(http, *await _keys_for(app, None))


@pytest.fixture
async def member(app: FastAPI, http: httpx.AsyncClient) -> RpcClient:
    """Signed as a member principal."""
    return RpcClient(http, *await _keys_for(app, "member"))


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS
    assert body["Code"] == code
    assert body["RequestId"] == response.headers["x-request-id"]
    assert body["HostId"] == HOST
    return body


async def new_group(rpc: RpcClient, name: str = "team") -> str:
    body = await rpc.ok("CreateModelTemplate", {"Name": name, "BizType": "1"})
    data: dict[str, str] = body["Data"]  # type: ignore[assignment]
    return data["ModelTemplateId"]


async def new_provider(rpc: RpcClient, group_id: str, name: str = "provider-acme") -> str:
    body = await rpc.ok(
        "CreateModelProviderTemplate",
        {
            "ModelTemplateId": group_id,
            "ProviderName": name,
            "ProviderType": "Custom",
            "Config": PROVIDER_CONFIG % API_KEY,
        },
    )
    data: dict[str, str] = body["Data"]  # type: ignore[assignment]
    return data["ProviderTemplateId"]


async def test_an_unsigned_request_is_an_alibaba_error_with_a_request_id(
    rpc: RpcClient,
) -> None:
    response = await rpc.call("ListModelTemplates", sign=False)
    body = error_of(response, 400, "MissingParameter")
    assert "not signed" in body["Message"]
    assert body["Recommend"]


async def test_a_bad_signature_or_an_unknown_key_is_401(rpc: RpcClient) -> None:
    wrong = RpcClient(rpc.http, rpc.access_key_id, "not-the-secret")
    error_of(await wrong.call("ListModelTemplates"), 401, "SignatureDoesNotMatch")
    unknown = RpcClient(rpc.http, "MPAKNOSUCHKEY", rpc.secret)
    error_of(await unknown.call("ListModelTemplates"), 401, "InvalidAccessKeyId.NotFound")
    stale = await rpc.call(
        "ListModelTemplates", extra_headers={"x-acs-date": "2020-01-01T00:00:00Z"}
    )
    error_of(stale, 400, "InvalidTimeStamp.Expired")


async def test_an_unknown_action_is_invalid_action_not_found(rpc: RpcClient) -> None:
    body = error_of(await rpc.call("DescribeEverything"), 404, "InvalidAction.NotFound")
    assert "DescribeEverything" in body["Message"]
    error_of(await rpc.call(None), 400, "MissingParameter")


async def test_another_version_or_none_is_refused(rpc: RpcClient) -> None:
    body = error_of(
        await rpc.call("ListModelTemplates", version="2020-01-01"), 400, "InvalidVersion"
    )
    assert "2021-09-01" in body["Message"]
    body = error_of(await rpc.call("ListModelTemplates", version=None), 400, "MissingParameter")
    assert "Version" in body["Message"]


async def test_action_and_version_may_come_from_the_query(rpc: RpcClient) -> None:
    query = {"Action": "CreateModelTemplate", "Version": "2021-09-01", "Name": "from query"}
    response = await rpc.call(None, query, version=None)
    assert response.status_code == 200, response.text
    assert response.json()["Data"]["ModelTemplateId"].startswith("mt-")


async def test_query_and_form_are_merged_and_lists_take_both_encodings(rpc: RpcClient) -> None:
    group_id = await new_group(rpc)
    provider_id = await new_provider(rpc, group_id)
    batch = await rpc.ok(
        "BatchCreateLlmTemplates",
        {"ProviderTemplateId": provider_id},
        {
            "LlmTemplateItems.1.LlmCode": "qwen-plus",
            "LlmTemplateItems.1.Name": "Qwen Plus",
            "LlmTemplateItems.1.Config": '{"maxTokens": 8192}',
            "LlmTemplateItems.1.IsDefaultModel": "True",
            "LlmTemplateItems.2.LlmCode": "qwen-max",
        },
    )
    created = batch["Data"]["LlmTemplateIds"]  # type: ignore[index]
    as_json = await rpc.ok(
        "BatchCreateLlmTemplates",
        {"ProviderTemplateId": provider_id},
        {"LlmTemplateItems": json.dumps([{"LlmCode": "qwen-turbo", "IsDefaultModel": False}])},
    )
    assert as_json["Data"]["SuccessCount"] == 1  # type: ignore[index]
    listed = await rpc.ok("ListLlmTemplates", {"LlmTemplateIds": json.dumps(created)})
    assert listed["TotalCount"] == 2
    rows = {row["LlmCode"]: row for row in listed["Data"]}  # type: ignore[attr-defined]
    assert rows["qwen-plus"]["IsDefaultModel"] is True
    assert json.loads(rows["qwen-plus"]["Config"]) == {"maxTokens": 8192}
    assert rows["qwen-plus"]["PublishedTime"].endswith("+00:00")
    assert "Name" not in rows["qwen-max"]
    flattened = await rpc.ok(
        "ListLlmTemplates", form={f"LlmTemplateIds.{n}": i for n, i in enumerate(created, 1)}
    )
    assert flattened["TotalCount"] == 2


async def test_invalid_input_names_the_field(rpc: RpcClient) -> None:
    body = error_of(
        await rpc.call("CreateModelTemplate", {"Name": "g", "RefScope": "EVERYONE"}),
        400,
        "InvalidParameter",
    )
    assert "RefScope" in body["Message"]
    body = error_of(
        await rpc.call("ListModelTemplates", {"HasModel": "yes"}), 400, "InvalidParameter"
    )
    assert "HasModel" in body["Message"]
    body = error_of(
        await rpc.call("ListModelTemplates", {"BizType": "one"}), 400, "InvalidParameter"
    )
    assert "BizType" in body["Message"]
    body = error_of(await rpc.call("GetModelProviderTemplate"), 400, "MissingParameter")
    assert "ProviderTemplateId" in body["Message"]
    body = error_of(
        await rpc.call("ConfigRuntimeModelTemplate", form={"ModelTemplateId": "mt-x"}),
        400,
        "MissingParameter",
    )
    assert "RuntimeIds" in body["Message"]


async def test_the_rules_the_core_checks_name_fields_as_this_face_spells_them(
    rpc: RpcClient,
) -> None:
    """The core names fields as the native API does (`items.1.llmCode`); this face's table
    spells them as its parameters, list items from 1, in `Message`."""
    group_id = await new_group(rpc)
    provider_id = await new_provider(rpc, group_id)
    provider = {"ModelTemplateId": group_id, "ProviderType": "Custom"}
    batch = {"ProviderTemplateId": provider_id, "LlmTemplateItems.1.LlmCode": "a"}
    cases: list[tuple[str, dict[str, str], str]] = [
        ("CreateModelTemplate", {"Name": "n" * 129}, "Name: required, 1..128 characters"),
        ("CreateModelTemplate", {"Name": "g", "AgentPlatform": "p" * 65}, "AgentPlatform: "),
        ("CreateModelProviderTemplate", {**provider, "ProviderName": "Acme"}, "ProviderName: "),
        (
            "CreateModelProviderTemplate",
            {**provider, "ProviderName": "provider-x", "Config": '{"BaseUrl": "ftp://x"}'},
            "Config.baseUrl: must be an absolute http(s) URL",
        ),
        (
            "UpdateModelProviderTemplate",
            {"ProviderTemplateId": provider_id, "Config.Token": "x"},
            "Config.Token: unknown key",
        ),
        (
            "BatchCreateLlmTemplates",
            {**batch, "LlmTemplateItems.2.LlmCode": "bad code"},
            "LlmTemplateItems.2.LlmCode: required, 1..128 of",
        ),
        (
            "BatchCreateLlmTemplates",
            {**batch, "LlmTemplateItems.1.Config": '{"n": NaN}'},
            "LlmTemplateItems.1.Config: numbers must be finite",
        ),
        (
            "UpdateModelTemplate",
            {"ModelTemplateId": group_id, "Config": '{"defaults": {"model": {"primary": "x/a"}}}'},
            "Config.defaults.model.primary: provider 'x' is not in group",
        ),
        ("ListModelTemplates", {"PageSize": "501"}, "PageSize: must be 1..500"),
        (
            "ConfigRuntimeModelTemplate",
            {"ModelTemplateId": group_id, "RuntimeIds.1": "r", "RuntimeIds.2": "bad id"},
            "RuntimeIds.2: ",
        ),
        ("GetRuntimeModelConfig", {"RuntimeId": "r", "RuntimeType": "9x"}, "RuntimeType: "),
    ]
    for action, params, start in cases:
        body = error_of(await rpc.call(action, params), 400, "InvalidParameter")
        assert body["Message"].startswith(start), (action, params, body["Message"])


async def test_missing_resources_are_entity_not_found(rpc: RpcClient) -> None:
    cases = [
        ("GetModelProviderTemplate", {"ProviderTemplateId": "mpt-nope"}, "ModelProviderTemplate"),
        ("UpdateModelTemplate", {"ModelTemplateId": "mt-nope", "Name": "x"}, "ModelTemplate"),
        ("DeleteLlmTemplate", {"LlmTemplateId": "llmt-nope"}, "LlmTemplate"),
        ("GetRuntimeModelConfig", {"RuntimeId": "rt-unbound"}, "Runtime"),
    ]
    for action, query, entity in cases:
        body = error_of(await rpc.call(action, query), 404, f"{entity}.NotFound")
        assert next(iter(query.values())) in body["Message"]


async def test_a_taken_provider_name_is_already_exists(rpc: RpcClient) -> None:
    group_id = await new_group(rpc)
    await new_provider(rpc, group_id)
    query = {
        "ModelTemplateId": group_id,
        "ProviderName": "provider-acme",
        "ProviderType": "Custom",
        "Config": PROVIDER_CONFIG % API_KEY,
    }
    response = await rpc.call("CreateModelProviderTemplate", query)
    error_of(response, 409, "ModelProviderTemplate.AlreadyExists")


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (domain.PermissionDenied("UPDATE_MODEL_GROUP_ANY is required"), 403, "Forbidden"),
        (domain.Unavailable("the store is unavailable: OSError"), 503, "ServiceUnavailable"),
        (domain.FailedPrecondition("in use"), 409, "OperationDenied"),
        (RuntimeError("password=hunter2 at /srv/secret.py"), 500, "InternalError"),
    ],
)
async def test_the_rest_of_the_error_table(
    rpc: RpcClient,
    monkeypatch: pytest.MonkeyPatch,
    raised: Exception,
    status: int,
    code: str,
) -> None:
    async def failing(**_: object) -> None:
        raise raised

    monkeypatch.setattr(catalog, "list_groups", failing)
    body = error_of(await rpc.call("ListModelTemplates"), status, code)
    if status == 500:
        assert "hunter2" not in json.dumps(body)
        assert body["Message"] == "an internal error occurred"


async def test_envelope_errors_are_clear_4xx_json(rpc: RpcClient) -> None:
    headers = {"content-type": "application/json"}
    wrong_type = await rpc.http.post("/", content=b'{"Name": "x"}', headers=headers)
    error_of(wrong_type, 415, "UnsupportedMediaType")
    form = {"content-type": "application/x-www-form-urlencoded"}
    malformed = await rpc.http.post("/", content=b"Name", headers=form)
    assert "Body" in error_of(malformed, 400, "InvalidParameter")["Message"]
    not_utf8 = await rpc.http.post("/", content=b"Name=\xff", headers=form)
    error_of(not_utf8, 400, "InvalidParameter")

    declared = await rpc.http.post("/", content=b"x" * (1024 * 1024 + 1), headers=form)
    assert declared.status_code == 413
    assert declared.json()["requestId"] == declared.headers["x-request-id"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(9):
            yield b"a" * (128 * 1024)

    streamed = await rpc.http.post("/", content=chunks(), headers=form)
    error_of(streamed, 413, "PayloadTooLarge")


async def test_members_see_only_their_own_groups_and_admins_see_all(
    rpc: RpcClient, member: RpcClient
) -> None:
    admins = await new_group(rpc, "admins'")
    members = await new_group(member, "members'")
    seen = await member.ok("ListModelTemplates")
    assert [g["ModelTemplateId"] for g in seen["Data"]] == [members]  # type: ignore[attr-defined]
    assert seen["TotalCount"] == 1
    for action, query in [
        ("UpdateModelTemplate", {"ModelTemplateId": admins, "Name": "mine now"}),
        ("DeleteModelTemplate", {"ModelTemplateId": admins}),
        ("CreateModelProviderTemplate", {"ModelTemplateId": admins, "ProviderName": "provider-x"}),
    ]:
        error_of(
            await member.call(action, {"ProviderType": "Custom", **query}),
            404,
            "ModelTemplate.NotFound",
        )
    everything = await rpc.ok("ListModelTemplates")
    ids = {g["ModelTemplateId"] for g in everything["Data"]}  # type: ignore[attr-defined]
    assert ids == {admins, members}
    await rpc.ok("UpdateModelTemplate", {"ModelTemplateId": members, "Description": "by admin"})


async def test_a_batch_with_two_defaults_stores_nothing(rpc: RpcClient) -> None:
    provider_id = await new_provider(rpc, await new_group(rpc))
    response = await rpc.call(
        "BatchCreateLlmTemplates",
        form={
            "ProviderTemplateId": provider_id,
            "LlmTemplateItems.1.LlmCode": "a",
            "LlmTemplateItems.1.IsDefaultModel": "true",
            "LlmTemplateItems.2.LlmCode": "b",
            "LlmTemplateItems.2.IsDefaultModel": "True",
        },
    )
    assert "LlmTemplateItems" in error_of(response, 400, "InvalidParameter")["Message"]
    listed = await rpc.ok("ListLlmTemplates", {"ProviderTemplateId": provider_id})
    assert (listed["TotalCount"], listed["Data"]) == (0, [])


async def test_pages_count_from_one_and_zero_means_the_first(rpc: RpcClient) -> None:
    made = [await new_group(rpc, f"g{n}") for n in range(3)]
    pages = [
        await rpc.ok("ListModelTemplates", {"PageNumber": n, "PageSize": "2"})
        for n in ("0", "1", "2")
    ]
    assert pages[0] == {**pages[1], "RequestId": pages[0]["RequestId"]}
    assert [p["PageNumber"] for p in pages] == [1, 1, 2]
    assert all(p["TotalCount"] == 3 and p["PageSize"] == 2 for p in pages)
    listed = [g["ModelTemplateId"] for p in pages[1:] for g in p["Data"]]  # type: ignore[attr-defined]
    assert sorted(listed) == sorted(made)  # two pages, no repeats (same-ms ties order by id)
    error_of(await rpc.call("ListModelTemplates", {"PageSize": "0"}), 400, "InvalidParameter")


async def test_provider_keys_stay_masked_and_updates_change_only_what_is_given(
    rpc: RpcClient,
) -> None:
    provider_id = await new_provider(rpc, await new_group(rpc))
    await rpc.ok(
        "UpdateModelProviderTemplate",
        {"Config": json.dumps({"BaseUrl": "https://eu.acme.test/v1"})},
        {"ProviderTemplateId": provider_id, "EnableWuyingProxy": "True"},
    )
    got = await rpc.ok("GetModelProviderTemplate", {"ProviderTemplateId": provider_id})
    data: dict[str, Any] = got["Data"]  # type: ignore[assignment]
    assert data["EnableWuyingProxy"] is True
    assert data["Name"] == "provider-acme"
    config = json.loads(data["Config"])
    assert config["baseUrl"] == "https://eu.acme.test/v1"
    assert config["api"] == "openai"
    assert API_KEY not in json.dumps(got)
    assert config["apiKey"] == "sk-****cdef"
    listed = await rpc.ok(
        "ListModelProviderTemplates", {"ProviderTemplateIds": json.dumps([provider_id])}
    )
    assert listed["Data"][0]["ProviderType"] == "Custom"  # type: ignore[index]
    assert API_KEY not in json.dumps(listed)


async def test_an_acs_signature_is_accepted_only_where_it_covers_the_parameters(
    app: FastAPI, rpc: RpcClient
) -> None:
    """`acs <AK>:<HMAC-SHA1>` (ROA HMAC-SHA1) covers the query, and the body only by MD5."""
    roa = RoaClient(app, rpc.access_key_id, rpc.secret, signer="v2")

    async def post(form: bytes, extra: dict[str, str]) -> httpx.Response:
        headers = roa.headers_for(
            "POST", "/", {}, action="ListModelTemplates", version="2021-09-01", extra_headers=extra
        )
        return await rpc.http.post("/", content=form, headers=headers)

    assert (await post(b"", {})).status_code == 200
    form = b"PageSize=5"
    unsigned_body = await post(form, {"content-type": "application/x-www-form-urlencoded"})
    assert "content-md5" in error_of(unsigned_body, 400, "IncompleteSignature")["Message"]
    md5 = base64.b64encode(hashlib.md5(form).digest()).decode()  # noqa: S324
    signed = await post(
        form, {"content-type": "application/x-www-form-urlencoded", "content-md5": md5}
    )
    assert signed.status_code == 200 and signed.json()["PageSize"] == 5
