"""A signed Alibaba request does only what was signed: requests signed one way and altered on
the way (headers added, repeated or swapped, a query name that swallows others, a signature
taken to another path), on every face with every signer, on SQLite and PostgreSQL.

Each attack is refused with a 400/401 naming what is wrong, and nothing it aimed at changed.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

from modelplane.domain.principals import Principal
from modelplane.services import configs, prompts, workspaces
from tests.integration.test_bailian_face import keys_for, new_member
from tests.support.roa import EAS_VERSION, HOST, RoaClient, send
from tests.support.rpc import RpcClient, SignedCall

WS = "llm-tamper0001"
COLLECTION = f"/{WS}/promptTemplates"
CONFIGS = "/api/v2/configs/cn-hangzhou/service/svc"


@pytest.fixture
async def owner(app: FastAPI) -> Principal:
    """A member principal who owns the workspace WS."""
    member = await new_member(app, "tamper-owner")
    await workspaces.create_workspace(
        store=app.state.store, actor=member, name="tamper", workspace_id=WS
    )
    return member


@pytest.fixture(params=["acs3", "v2"])
async def rpc(
    request: pytest.FixtureRequest, app: FastAPI, owner: Principal, http: httpx.AsyncClient
) -> RpcClient:
    """The owner's RPC client, with each of the SDK's RPC signers."""
    return RpcClient(http, *await keys_for(app, owner.principal_id), signer=request.param)


def refused(response: httpx.Response, status: int, code: str, *named: str) -> None:
    """An Alibaba error with this status and code whose message names each of `named`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert (body.get("Code") or body.get("code")) == code, body
    message = body.get("Message") or body.get("message")
    for name in named:
        assert name in message, message


def headers_of(call: SignedCall, **changed: str) -> list[tuple[str, str]]:
    """The signed call's headers with some set to other values (`x_acs_action=…`)."""
    names = {k.replace("_", "-"): v for k, v in changed.items()}
    return [*(call.headers | names).items()]


async def config_keys(app: FastAPI, owner: Principal) -> list[str]:
    page = await configs.list_configs(
        store=app.state.store,
        actor=owner,
        cluster_id="cn-hangzhou",
        config_type="service",
        name="svc",
        page=None,
        page_size=None,
    )
    return [config.key for config in page.items]


async def group_ids(rpc: RpcClient) -> list[str]:
    listed = await rpc.ok("ListModelTemplates")
    return [group["ModelTemplateId"] for group in listed["Data"]]  # type: ignore[attr-defined]


async def new_group(rpc: RpcClient) -> str:
    created = await rpc.ok("CreateModelTemplate", {"Name": "kept", "BizType": "1"})
    return str(created["Data"]["ModelTemplateId"])  # type: ignore[index]


def signed_list(rpc: RpcClient, group_id: str, version: str = "2021-09-01") -> SignedCall:
    """ListModelTemplates of one group, its action signed as the parameter `Action`."""
    query = {"Action": "ListModelTemplates", "Version": version, "ModelTemplateId": group_id}
    if rpc.signer == "acs3":  # the action signed in the query; no x-acs-action header
        return rpc.sign(None, query, version=None)
    return rpc.sign("ListModelTemplates", query, version=version)


async def test_an_added_action_header_does_not_turn_a_signed_list_into_a_delete(
    rpc: RpcClient,
) -> None:
    group_id = await new_group(rpc)
    listing = signed_list(rpc, group_id)
    response = await rpc.send(listing, headers_of(listing, x_acs_action="DeleteModelTemplate"))
    if rpc.signer == "acs3":  # the header is not in SignedHeaders
        refused(response, 400, "IncompleteSignature", "x-acs-action")
    else:  # HMAC-SHA1 covers no header; the signed Action says otherwise
        refused(response, 400, "InvalidParameter", "x-acs-action", "ListModelTemplates")
    assert await group_ids(rpc) == [group_id]


async def test_a_version_header_that_disagrees_with_the_signed_version_is_refused(
    rpc: RpcClient,
) -> None:
    group_id = await new_group(rpc)
    listing = signed_list(rpc, group_id, version="2020-01-01")
    response = await rpc.send(listing, headers_of(listing, x_acs_version="2021-09-01"))
    code = "IncompleteSignature" if rpc.signer == "acs3" else "InvalidParameter"
    refused(response, 400, code, "x-acs-version")


async def test_an_unsigned_action_header_alone_is_no_action(rpc: RpcClient) -> None:
    """A request signed without an action: an action header added later must not count."""
    call = rpc.sign(None, {"Name": "planted", "BizType": "1"})
    response = await rpc.send(call, headers_of(call, x_acs_action="CreateModelTemplate"))
    if rpc.signer == "acs3":
        refused(response, 400, "IncompleteSignature", "x-acs-action")
    else:
        refused(response, 400, "IncompleteSignature", "x-acs-action", "HMAC-SHA1", "Action")
    assert await group_ids(rpc) == []


@pytest.mark.parametrize("header", ["x-acs-action", "x-acs-version"])
async def test_an_acs3_action_or_version_header_must_be_signed_even_when_it_agrees(
    app: FastAPI, owner: Principal, http: httpx.AsyncClient, header: str
) -> None:
    rpc = RpcClient(http, *await keys_for(app, owner.principal_id))
    signed = {"Action": "CreateModelTemplate", "Version": "2021-09-01"}
    call = rpc.sign("CreateModelTemplate", signed | {"Name": "x"}, unsigned=(header,))
    refused(await rpc.send(call), 400, "IncompleteSignature", header, "SignedHeaders")
    assert await group_ids(rpc) == []


async def test_two_nonce_headers_are_refused_in_either_order(
    app: FastAPI, owner: Principal, http: httpx.AsyncClient
) -> None:
    """ACS3 signs repeated values joined: nonces "a,b" sign like a, b, and like b, a."""
    rpc = RpcClient(http, *await keys_for(app, owner.principal_id))
    call = rpc.sign(
        "CreateModelTemplate",
        {"Name": "once", "BizType": "1"},
        extra_headers={"x-acs-signature-nonce": "nonce-a,nonce-b"},
    )
    others = [(k, v) for k, v in call.headers.items() if k != "x-acs-signature-nonce"]
    for first, second in (("nonce-a", "nonce-b"), ("nonce-b", "nonce-a")):
        nonces = [("x-acs-signature-nonce", first), ("x-acs-signature-nonce", second)]
        response = await rpc.send(call, [*others, *nonces])
        refused(response, 400, "InvalidParameter", "x-acs-signature-nonce", "once")
    assert await group_ids(rpc) == []


async def test_an_acs3_query_name_cannot_swallow_the_names_signed_after_it(
    rpc: RpcClient,
) -> None:
    """Signed `Name=&PageSize=1`; sent as the one name `Name=&PageSize` set to 1."""
    call = rpc.sign("ListModelTemplates", {"Name": "", "PageSize": "1"})
    rest = urlencode({k: v for k, v in call.query.items() if k not in {"Name", "PageSize"}})
    response = await rpc.send(call, raw_query=f"Name%3D%26PageSize=1&{rest}".rstrip("&"))
    refused(response, 401, "SignatureDoesNotMatch")


@pytest.mark.parametrize("signer", ["acs3", "v2"])
async def test_a_roa_query_name_cannot_swallow_the_names_signed_after_it(
    app: FastAPI, owner: Principal, signer: str
) -> None:
    roa = RoaClient(app, *await keys_for(app, owner.principal_id), signer)
    headers = roa.headers_for("GET", COLLECTION, {"maxResults": "1", "name": ""})
    response = await send(app, "GET", COLLECTION, "maxResults%3D1%26name=", headers)
    refused(response, 401, "SignatureDoesNotMatch")


async def test_an_rpc_sha1_signature_does_not_carry_to_a_roa_path(
    app: FastAPI, owner: Principal, http: httpx.AsyncClient
) -> None:
    """HMAC-SHA1 `Signature` covers neither the path nor a JSON body: not good for EAS."""
    rpc = RpcClient(http, *await keys_for(app, owner.principal_id), signer="v2")
    call = rpc.sign("ListModelTemplates")
    item = f"{CONFIGS}/planted"
    response = await send(
        app,
        "POST",
        item,
        urlencode(call.query),
        {"host": HOST, "content-type": "application/json"},  # its headers are not signed
        b'{"Value": "planted"}',
    )
    refused(response, 400, "IncompleteSignature", "path /")
    assert await config_keys(app, owner) == []


@pytest.mark.parametrize("header", ["x-acs-version", "x-acs-action", "content-type"])
async def test_a_roa_face_refuses_an_acs3_header_left_out_of_the_signature(
    app: FastAPI, owner: Principal, header: str
) -> None:
    roa = RoaClient(app, *await keys_for(app, owner.principal_id), version=EAS_VERSION)
    body = b'{"Value": "v"}'
    headers = roa.headers_for("POST", f"{CONFIGS}/k", {}, body=body, unsigned=(header,))
    response = await send(app, "POST", f"{CONFIGS}/k", "", headers, body)
    refused(response, 400, "IncompleteSignature", header, "SignedHeaders")
    assert await config_keys(app, owner) == []


async def test_two_roa_nonce_headers_are_refused_and_a_swap_replays_nothing(
    app: FastAPI, owner: Principal
) -> None:
    """ROA HMAC-SHA1 joins repeated values with a comma: nonces a, b sign like "a,b"."""
    roa = RoaClient(app, *await keys_for(app, owner.principal_id), "v2")
    query = {"name": "once", "content": "hello"}
    headers = roa.headers_for(
        "POST", COLLECTION, query, extra_headers={"x-acs-signature-nonce": "nonce-a,nonce-b"}
    )
    others = [(k, v) for k, v in headers.items() if k != "x-acs-signature-nonce"]
    for first, second in (("nonce-a", "nonce-b"), ("nonce-b", "nonce-a")):
        nonces = [("x-acs-signature-nonce", first), ("x-acs-signature-nonce", second)]
        response = await send(
            app, "POST", COLLECTION, "name=once&content=hello", [*others, *nonces]
        )
        refused(response, 400, "InvalidParameter", "x-acs-signature-nonce")
    page = await prompts.list_prompt_templates(
        store=app.state.store,
        actor=owner,
        workspace_id=WS,
        name=None,
        template_type="Custom",
        max_results=None,
        next_token=None,
    )
    assert page.items == []
