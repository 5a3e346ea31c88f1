"""The official Model Studio (bailian 2023-12-29) SDK, unchanged, against a live modelplane.

Every prompt-template operation runs with both of the SDK's ROA signers: ACS3-HMAC-SHA256
(the default) and `acs <AK>:<HMAC-SHA1>` (`signature_algorithm='v2'`). Workspaces, members,
principals and access keys are made through the native API as the bootstrap admin.
`modelplane serve` carries the whole template in the URL query, so these tests also prove
the server's request-head limit.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
from alibabacloud_bailian20231229 import models
from alibabacloud_bailian20231229.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from modelplane.domain.system_prompts import system_templates
from modelplane.settings import MAX_REQUEST_HEAD_BYTES
from tests.compat.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ADMIN_TOKEN
from tests.support.server import Server

# ~50,000 characters of Chinese text with `${主题}` and `${风格}` placeholders: about 450 KiB
# once the SDK has percent-encoded it into the URL query.
PARAGRAPH = (
    "请写一篇小红书种草笔记，增加丰富的表情符号，结尾作总结，并加上相关标签。"
    "主题为：${主题}；风格：${风格}。\n"
)
LONG_CONTENT = (PARAGRAPH * (50_000 // len(PARAGRAPH) + 1))[:49_990] + "\n结尾：${主题}"


def client_for(
    server: Server,
    signer: str,
    access_key_id: str = ACCESS_KEY_ID,
    secret: str = ACCESS_KEY_SECRET,
) -> Client:
    """The SDK pointed at the server over plain HTTP: `endpoint` is host:port."""
    config = Config(
        access_key_id=access_key_id,
        access_key_secret=secret,
        endpoint=f"127.0.0.1:{server.port}",
        protocol="http",
        read_timeout=30_000,
    )
    if signer == "v2":
        config.signature_algorithm = "v2"
    return Client(config)


@pytest.fixture(params=["acs3", "v2"])
def signer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sdk(live_server: Server, signer: str) -> Client:
    return client_for(live_server, signer)


@pytest.fixture
def native(live_server: Server) -> Iterator[httpx.Client]:
    """The native API as the bootstrap admin."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def workspace(native: httpx.Client) -> str:
    """A new workspace of the admin (whose access key the SDK uses)."""
    workspace_id = f"llm-{uuid.uuid4().hex[:16]}"
    created = native.post("/v1/workspaces", json={"workspaceId": workspace_id, "name": "compat"})
    assert created.status_code == 201, created.text
    return workspace_id


def error_of(caught: pytest.ExceptionInfo[ClientException], status: int) -> str:
    """The error code the SDK read, after checking status and request id."""
    assert caught.value.status_code == status
    assert caught.value.request_id and caught.value.request_id != "None"
    return str(caught.value.code)


def create(sdk: Client, workspace: str, name: str, content: str) -> str:
    created = sdk.create_prompt_template(
        workspace, models.CreatePromptTemplateRequest(name=name, content=content)
    )
    assert created.status_code == 200
    assert created.body.request_id
    return str(created.body.prompt_template_id)


def page(
    sdk: Client, workspace: str, token: str | None = None, size: int = 3, **filters: str
) -> models.ListPromptTemplatesResponseBody:
    listed = sdk.list_prompt_templates(
        workspace,
        models.ListPromptTemplatesRequest(max_results=size, next_token=token, **filters),
    )
    assert listed.status_code == 200
    assert listed.body.request_id and listed.body.workspace_id == workspace
    body: models.ListPromptTemplatesResponseBody = listed.body
    return body


def test_the_life_cycle_of_a_long_chinese_template(sdk: Client, workspace: str) -> None:
    template_id = create(sdk, workspace, "小红书文案助手", LONG_CONTENT)
    got = sdk.get_prompt_template(workspace, template_id, models.GetPromptTemplateRequest())
    assert got.body.request_id
    assert (got.body.prompt_template_id, got.body.workspace_id) == (template_id, workspace)
    assert got.body.name == "小红书文案助手"
    assert got.body.content == LONG_CONTENT
    assert got.body.variables == ["主题", "风格"]

    listed = page(sdk, workspace)
    assert (listed.total_count, listed.max_results, listed.next_token) == (1, 3, None)
    [entry] = listed.prompt_templates
    assert (entry.prompt_template_id, entry.type, entry.content) == (
        template_id,
        "Custom",
        LONG_CONTENT,
    )

    updated = sdk.update_prompt_template(
        workspace,
        template_id,
        models.UpdatePromptTemplateRequest(name="改名 后", content=LONG_CONTENT + "${新变量}"),
    )
    assert updated.status_code == 200 and updated.body.request_id
    got = sdk.get_prompt_template(workspace, template_id, models.GetPromptTemplateRequest())
    assert (got.body.name, got.body.content) == ("改名 后", LONG_CONTENT + "${新变量}")
    assert got.body.variables == ["主题", "风格", "新变量"]

    deleted = sdk.delete_prompt_template(
        workspace, template_id, models.DeletePromptTemplateRequest()
    )
    assert deleted.status_code == 200 and deleted.body.request_id
    with pytest.raises(ClientException) as caught:
        sdk.get_prompt_template(workspace, template_id, models.GetPromptTemplateRequest())
    assert error_of(caught, 404) == "PromptTemplate.NotFound"


def test_the_largest_template_of_four_byte_characters_fits_in_the_query(
    sdk: Client, workspace: str
) -> None:
    content = "😀" * 99_995 + "${主题}"
    assert len(content) == 100_000  # the domain's maximum, ~1.2 MB percent-encoded
    template_id = create(sdk, workspace, "😀" * 255, content)
    got = sdk.get_prompt_template(workspace, template_id, models.GetPromptTemplateRequest())
    assert (got.body.name, got.body.content) == ("😀" * 255, content)


def test_token_paging_stays_stable_while_templates_are_added(sdk: Client, workspace: str) -> None:
    ids = [create(sdk, workspace, f"模板 {n}", f"第 {n} 个 ${{x{n}}}") for n in range(7)]
    seen, token, sizes = [], None, []
    while True:
        body = page(sdk, workspace, token)
        assert body.total_count == 7
        sizes.append(len(body.prompt_templates))
        seen += [t.prompt_template_id for t in body.prompt_templates]
        token = body.next_token
        if not token:
            break
    assert (sizes, seen) == ([3, 3, 1], ids)

    first = page(sdk, workspace)
    late = create(sdk, workspace, "模板 late", "后来的 ${y}")
    second = page(sdk, workspace, first.next_token)
    third = page(sdk, workspace, second.next_token)
    assert [t.prompt_template_id for t in first.prompt_templates] == ids[:3]
    assert [t.prompt_template_id for t in second.prompt_templates] == ids[3:6]
    assert [t.prompt_template_id for t in third.prompt_templates] == [ids[6], late]
    assert (third.total_count, third.next_token) == (8, None)

    found = page(sdk, workspace, size=10, name="late")
    assert [t.prompt_template_id for t in found.prompt_templates] == [late]


def test_bad_names_contents_and_ids_are_refused(sdk: Client, workspace: str) -> None:
    bad = [
        ("n" * 256, "c", "PromptTemplate.NameInvalid"),
        ("", "c", "PromptTemplate.NameInvalid"),
        ("n", "c" * 100_001, "PromptTemplate.ContentInvalid"),
        ("n", "", "PromptTemplate.ContentInvalid"),
    ]
    for name, content, code in bad:
        with pytest.raises(ClientException) as caught:
            create(sdk, workspace, name, content)
        assert error_of(caught, 400) == code
    template_id = create(sdk, workspace, "n" * 255, "c" * 100_000)
    with pytest.raises(ClientException) as caught:
        sdk.update_prompt_template(
            workspace, template_id, models.UpdatePromptTemplateRequest(name="n" * 256)
        )
    assert error_of(caught, 400) == "PromptTemplate.NameInvalid"
    with pytest.raises(ClientException) as caught:
        page(sdk, workspace, size=101)
    assert error_of(caught, 400) == "InvalidParameter"
    for call in (
        lambda: sdk.get_prompt_template(workspace, "0" * 32, models.GetPromptTemplateRequest()),
        lambda: sdk.delete_prompt_template(workspace, "a/b", models.DeletePromptTemplateRequest()),
    ):
        with pytest.raises(ClientException) as caught:
            call()
        assert error_of(caught, 404) == "PromptTemplate.NotFound"


def test_system_templates_are_listed_and_read_only(sdk: Client, workspace: str) -> None:
    builtin = {t.prompt_template_id for t in system_templates()}
    listed = page(sdk, workspace, size=100, type="System")
    assert {t.prompt_template_id for t in listed.prompt_templates} == builtin
    assert {t.type for t in listed.prompt_templates} == {"System"}
    system_id = sorted(builtin)[0]
    got = sdk.get_prompt_template(workspace, system_id, models.GetPromptTemplateRequest())
    assert got.body.content
    with pytest.raises(ClientException) as caught:
        sdk.update_prompt_template(
            workspace, system_id, models.UpdatePromptTemplateRequest(name="mine")
        )
    assert error_of(caught, 403) == "Forbidden"
    with pytest.raises(ClientException) as caught:
        sdk.delete_prompt_template(workspace, system_id, models.DeletePromptTemplateRequest())
    assert error_of(caught, 403) == "Forbidden"


def test_a_foreign_access_key_gets_not_found_until_a_member_and_writes_as_an_editor(
    live_server: Server, sdk: Client, signer: str, native: httpx.Client, workspace: str
) -> None:
    template_id = create(sdk, workspace, "t", "内容 ${x}")
    principal = native.post(
        "/v1/principals", json={"name": f"foreign-{uuid.uuid4().hex[:8]}", "role": "member"}
    )
    assert principal.status_code == 201, principal.text
    principal_id = principal.json()["principalId"]
    keys = native.post(f"/v1/principals/{principal_id}/access-keys", json={})
    assert keys.status_code == 201, keys.text
    foreign = client_for(
        live_server, signer, keys.json()["accessKeyId"], keys.json()["accessKeySecret"]
    )
    calls = [
        lambda: create(foreign, workspace, "n", "c"),
        lambda: page(foreign, workspace),
        lambda: foreign.get_prompt_template(
            workspace, template_id, models.GetPromptTemplateRequest()
        ),
        lambda: foreign.update_prompt_template(
            workspace, template_id, models.UpdatePromptTemplateRequest(content="taken")
        ),
        lambda: foreign.delete_prompt_template(
            workspace, template_id, models.DeletePromptTemplateRequest()
        ),
    ]
    for call in calls:
        with pytest.raises(ClientException) as caught:
            call()
        assert error_of(caught, 404) == "PromptTemplate.NotFound"
    added = native.put(f"/v1/workspaces/{workspace}/members/{principal_id}")
    assert added.status_code == 200, added.text
    got = foreign.get_prompt_template(workspace, template_id, models.GetPromptTemplateRequest())
    assert got.body.content == "内容 ${x}"
    assert page(foreign, workspace).total_count == 1
    # A reader (the default role) writes nothing; an editor does.
    update = models.UpdatePromptTemplateRequest(content="由成员修改 ${x}")
    with pytest.raises(ClientException) as caught:
        foreign.update_prompt_template(workspace, template_id, update)
    assert error_of(caught, 403) == "Forbidden"
    editor = native.put(
        f"/v1/workspaces/{workspace}/members/{principal_id}", json={"role": "editor"}
    )
    assert editor.status_code == 200, editor.text
    foreign.update_prompt_template(workspace, template_id, update)
    got = foreign.get_prompt_template(workspace, template_id, models.GetPromptTemplateRequest())
    assert got.body.content == "由成员修改 ${x}"


def test_a_request_head_beyond_the_limit_is_refused_by_the_server(live_server: Server) -> None:
    """The HTTP server refuses it (431, naming the limit), before the app sees it."""
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        target = "/llm-x/promptTemplates?content=" + "a" * MAX_REQUEST_HEAD_BYTES
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert b"MODELPLANE_MAX_REQUEST_HEAD_BYTES" in answer
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200
