"""The EAS (PAI-EAS 2021-07-01, ROA) dynamic-parameter face through the in-process app.

Runs on SQLite and PostgreSQL; requests are signed as the SDK signs them, with both of
its ROA signers. ACS3-HMAC-SHA256 covers the JSON body; the older `acs <AK>:<HMAC-SHA1>`
covers it only with `content-md5`, so writes signed that way send it (and are refused
without it).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.domain.configs import NamespaceKey
from modelplane.domain.principals import Principal
from tests.integration.test_bailian_face import keys_for, new_member
from tests.integration.test_catalog_services import admin_of
from tests.integration.test_config_services import UNADDRESSABLE_KEYS, stored_before_the_key_rule
from tests.support.roa import EAS_VERSION, RoaClient, segment, send

CLUSTER = "cn-hangzhou"
SERVICE = "my_llm_service"
ERROR_KEYS = {"RequestId", "Code", "Message"}
CONFIG_KEYS = {"Key", "Value", "CreatedAt", "UpdatedAt"}
LIST_KEYS = {"Type", "Name", "Configs", "Page", "PageSize", "Total", "HasMore"}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
MODEL = '{"model": "gpt-4", "temperature": 0.2}'


def namespace(name: str = SERVICE, config_type: str = "service", cluster: str = CLUSTER) -> str:
    return f"/api/v2/configs/{segment(cluster)}/{segment(config_type)}/{segment(name)}"


def item(key: str, name: str = SERVICE, config_type: str = "service") -> str:
    return f"{namespace(name, config_type)}/{segment(key)}"


def value_body(value: Any) -> bytes:
    """The body as the SDK writes it: compact JSON, non-ASCII kept."""
    return json.dumps({"Value": value}, ensure_ascii=False, separators=(",", ":")).encode()


class Eas:
    """Calls of one principal with one signer; writes carry `content-md5` for HMAC-SHA1."""

    def __init__(self, roa: RoaClient) -> None:
        self.roa = roa

    def as_key(self, access_key_id: str, secret: str) -> Eas:
        return Eas(self.roa.with_key(access_key_id, secret))

    async def call(
        self, method: str, path: str, body: bytes = b"", **kwargs: Any
    ) -> httpx.Response:
        kwargs.setdefault("content_md5", self.roa.signer == "v2" and bool(body))
        return await self.roa.call(method, path, body=body, **kwargs)

    async def ok(self, method: str, path: str, body: bytes = b"", **kwargs: Any) -> Any:
        response = await self.call(method, path, body, **kwargs)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
        return response.json()

    async def create(self, key: str, value: Any, name: str = SERVICE) -> dict[str, Any]:
        created: dict[str, Any] = await self.ok("POST", item(key, name), value_body(value))
        return created

    async def update(self, key: str, value: Any, name: str = SERVICE) -> dict[str, Any]:
        updated: dict[str, Any] = await self.ok("PUT", item(key, name), value_body(value))
        return updated

    async def list(self, name: str = SERVICE, **query: Any) -> dict[str, Any]:
        listed: dict[str, Any] = await self.ok("GET", namespace(name), query=query)
        assert set(listed) == LIST_KEYS
        return listed


@pytest.fixture(params=["acs3", "v2"])
def signer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def owner(app: FastAPI) -> Principal:
    """A member principal; the namespaces it writes first are its own."""
    return await new_member(app, "eas-owner")


@pytest.fixture
async def eas(app: FastAPI, owner: Principal, signer: str) -> Eas:
    access_key_id, secret = await keys_for(app, owner.principal_id)
    return Eas(RoaClient(app, access_key_id, secret, signer, version=EAS_VERSION, action="Config"))


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS
    assert body["Code"] == code
    assert body["RequestId"] == response.headers["x-request-id"]
    assert body["Message"]
    return body


def moment(text: str) -> float:
    assert TIME.fullmatch(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


async def test_the_life_cycle_of_a_parameter(eas: Eas) -> None:
    before = int(time.time())
    created = await eas.create("rate_limit", MODEL)
    assert set(created) == CONFIG_KEYS
    assert (created["Key"], created["Value"]) == ("rate_limit", MODEL)
    assert created["CreatedAt"] == created["UpdatedAt"]
    assert before <= moment(created["CreatedAt"]) <= time.time() + 1

    listed = await eas.list()
    assert listed == {
        "Type": "service",
        "Name": SERVICE,
        "Configs": [created],
        "Page": 1,
        "PageSize": 100,
        "Total": 1,
        "HasMore": False,
    }

    updated = await eas.update("rate_limit", "100")
    assert set(updated) == CONFIG_KEYS
    assert (updated["Key"], updated["Value"]) == ("rate_limit", "100")
    assert updated["CreatedAt"] == created["CreatedAt"]
    assert moment(updated["UpdatedAt"]) >= moment(created["UpdatedAt"])
    assert (await eas.list())["Configs"] == [updated]

    deleted = await eas.ok("DELETE", item("rate_limit"))
    assert deleted == {"message": "Successfully deleted 1 configs", "deleted": 1}
    listed = await eas.list()
    assert (listed["Configs"], listed["Total"], listed["HasMore"]) == ([], 0, False)


async def test_values_are_kept_exactly(eas: Eas) -> None:
    values = ["", " ", "中文 ✓ 🙂", "line\nbreak\ttab", '{"nested": {"a": [1, 2]}}', "v" * 65_536]
    for n, value in enumerate(values):
        assert (await eas.create(f"k{n}", value))["Value"] == value
    listed = await eas.list()
    assert [c["Value"] for c in listed["Configs"]] == values


async def test_create_of_an_existing_key_is_409_and_changes_nothing(eas: Eas) -> None:
    await eas.create("model", "a")
    response = await eas.call("POST", item("model"), value_body("b"))
    body = error_of(response, 409, "Config.AlreadyExists")
    assert "model" in body["Message"]
    assert [c["Value"] for c in (await eas.list())["Configs"]] == ["a"]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_update_or_delete_of_a_missing_key_is_404(eas: Eas, method: str) -> None:
    await eas.create("present", "x")
    body = value_body("y") if method == "PUT" else b""
    missing = error_of(await eas.call(method, item("absent"), body), 404, "Config.NotFound")
    assert "absent" in missing["Message"]
    await eas.ok("DELETE", item("present"))
    error_of(await eas.call(method, item("present"), body), 404, "Config.NotFound")


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_update_or_delete_in_a_namespace_never_written_is_404(eas: Eas, method: str) -> None:
    body = value_body("y") if method == "PUT" else b""
    response = await eas.call(method, item("k", "never-written"), body)
    assert "never-written" in error_of(response, 404, "ConfigNamespace.NotFound")["Message"]


async def test_an_empty_namespace_lists_empty(eas: Eas) -> None:
    listed = await eas.list("never-written")
    assert listed == {
        "Type": "service",
        "Name": "never-written",
        "Configs": [],
        "Page": 1,
        "PageSize": 100,
        "Total": 0,
        "HasMore": False,
    }


async def test_a_key_with_slashes_travels_as_one_encoded_segment(eas: Eas) -> None:
    key = "models/llm/primary.v1"
    path = item(key)
    assert path.endswith("/models%2Fllm%2Fprimary.v1")
    assert (await eas.create(key, "qwen-max"))["Key"] == key
    assert (await eas.update(key, "qwen-plus"))["Value"] == "qwen-plus"
    lower = path.replace("%2F", "%2f")
    assert (await eas.ok("PUT", lower, value_body("qwen-turbo")))["Key"] == key
    await eas.create("models", "a sibling, not a parent")
    listed = await eas.list()
    assert [(c["Key"], c["Value"]) for c in listed["Configs"]] == [
        ("models", "a sibling, not a parent"),
        (key, "qwen-turbo"),
    ]
    assert (await eas.ok("DELETE", path))["deleted"] == 1
    assert [c["Key"] for c in (await eas.list())["Configs"]] == ["models"]


async def test_a_raw_slash_is_not_part_of_a_key(eas: Eas, http: httpx.AsyncClient) -> None:
    """Unencoded, `a/b` is two segments: no EAS path has that many."""
    response = await eas.call("POST", f"{namespace()}/a/b", value_body("x"))
    assert response.status_code == 404
    assert "Code" not in response.json()
    assert (await eas.list())["Total"] == 0


async def test_the_longest_key_and_every_allowed_character_are_accepted(eas: Eas) -> None:
    longest = "k" * 100
    assert (await eas.create(longest, "x"))["Key"] == longest
    every = "AZaz09._/-"
    assert (await eas.create(every, "y"))["Key"] == every
    assert {c["Key"] for c in (await eas.list())["Configs"]} == {longest, every}


@pytest.mark.parametrize(
    "key",
    ["k" * 101, "a b", "a:b", "中文", "a+b", "a%b", "a\\b", "emoji🙂", "a@b"],
    ids=["101-chars", "space", "colon", "chinese", "plus", "percent", "backslash", "emoji", "at"],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_a_bad_key_is_invalid_parameter_naming_config_key(
    eas: Eas, key: str, method: str
) -> None:
    body = b"" if method == "DELETE" else value_body("x")
    response = await eas.call(method, item(key), body)
    assert "ConfigKey" in error_of(response, 400, "InvalidParameter")["Message"]
    assert (await eas.list())["Total"] == 0


async def test_a_key_clients_cannot_address_is_not_created(eas: Eas) -> None:
    for key in UNADDRESSABLE_KEYS:
        path = f"{namespace()}/{segment(key).replace('.', '%2E')}"  # as sent: no client drops it
        response = await eas.call("POST", path, value_body("x"))
        message = error_of(response, 400, "InvalidParameter")["Message"]
        assert "ConfigKey" in message and "`..` part between `/`" in message, key
    assert (await eas.list())["Total"] == 0


async def test_a_key_stored_before_the_rule_can_be_listed_updated_and_deleted(
    app: FastAPI, eas: Eas, owner: Principal
) -> None:
    ns = NamespaceKey(CLUSTER, SERVICE)
    await stored_before_the_key_rule(app.state.store, owner, ns, "a//b", "old")
    assert [c["Key"] for c in (await eas.list())["Configs"]] == ["a//b"]
    assert (await eas.update("a//b", "new"))["Value"] == "new"
    assert (await eas.ok("DELETE", item("a//b")))["deleted"] == 1
    assert (await eas.list())["Total"] == 0


@pytest.mark.parametrize(
    ("method", "on_item"), [("POST", True), ("PUT", True), ("DELETE", True), ("GET", False)]
)
@pytest.mark.parametrize("config_type", ["job", "Service", "services"])
async def test_a_config_type_other_than_service_is_400(
    eas: Eas, method: str, on_item: bool, config_type: str
) -> None:
    path = item("k", config_type=config_type) if on_item else namespace(config_type=config_type)
    body = value_body("x") if method in ("POST", "PUT") else b""
    response = await eas.call(method, path, body)
    assert "ConfigType" in error_of(response, 400, "InvalidParameter")["Message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{}", "Value"),
        (b"", "Value"),
        (b'{"value": "lower-case name"}', "Value"),
        (b'{"Value": null}', "Value"),
        (b'{"Value": 42}', "Value"),
        (b'{"Value": true}', "Value"),
        (b'{"Value": {"model": "gpt-4"}}', "Value"),
        (b'{"Value": ["a"]}', "Value"),
        (value_body("v" * 65_537), "Value"),
        (value_body("nul\x00"), "Value"),
        (b'{"Value": "unterminated', "body"),
        (b"Value=x", "body"),
        (b'["Value", "x"]', "body"),
        (b'"x"', "body"),
        (b"\xff\xfe", "body"),
    ],
    ids=[
        "empty-object",
        "no-body",
        "lower-case",
        "null",
        "number",
        "boolean",
        "object",
        "array",
        "over-64KiB",
        "nul",
        "malformed",
        "form",
        "json-array",
        "json-string",
        "not-utf8",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_a_missing_or_bad_value_is_400(
    eas: Eas, method: str, body: bytes, field: str
) -> None:
    if method == "PUT":
        await eas.create("k", "original")
    response = await eas.call(method, item("k"), body)
    message = error_of(response, 400, "InvalidParameter")["Message"]
    assert message.startswith(f"{field}:"), message
    expected = [("k", "original")] if method == "PUT" else []
    assert [(c["Key"], c["Value"]) for c in (await eas.list())["Configs"]] == expected


async def test_unknown_body_fields_are_ignored(eas: Eas) -> None:
    body = b'{"Value": "x", "Description": "not an EAS field"}'
    assert (await eas.ok("POST", item("k"), body))["Value"] == "x"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"PageSize": 201}, "PageSize"),
        ({"PageSize": 0}, "PageSize"),
        ({"PageSize": "ten"}, "PageSize"),
        ({"PageSize": -1}, "PageSize"),
        ({"Page": 0}, "Page"),
        ({"Page": "1.5"}, "Page"),
        ({"Page": 10**10}, "Page"),
    ],
)
async def test_bad_paging_is_400_naming_the_field(
    eas: Eas, query: dict[str, Any], field: str
) -> None:
    response = await eas.call("GET", namespace(), query=query)
    message = error_of(response, 400, "InvalidParameter")["Message"]
    assert message.startswith(f"{field}:"), message


@pytest.mark.parametrize(
    ("name", "cluster", "field"),
    [
        ("n" * 129, CLUSTER, "Name"),
        ("my service", CLUSTER, "Name"),
        (SERVICE, "c" * 65, "ClusterId"),
        (SERVICE, "cn/hangzhou", "ClusterId"),
    ],
)
async def test_a_bad_cluster_or_service_name_is_400(
    eas: Eas, name: str, cluster: str, field: str
) -> None:
    path = namespace(name, cluster=cluster)
    for method, target, body in (
        ("GET", path, b""),
        ("POST", f"{path}/k", value_body("x")),
    ):
        response = await eas.call(method, target, body)
        assert field in error_of(response, 400, "InvalidParameter")["Message"]


async def test_pages_follow_key_order_with_has_more(eas: Eas) -> None:
    keys = [f"key-{n:02d}" for n in range(7)]
    for key in reversed(keys):
        await eas.create(key, key.upper())
    seen = []
    for number, has_more in ((1, True), (2, True), (3, False)):
        page = await eas.list(Page=number, PageSize=3)
        assert (page["Page"], page["PageSize"], page["Total"]) == (number, 3, 7)
        assert page["HasMore"] is has_more
        seen += [c["Key"] for c in page["Configs"]]
    assert seen == keys
    beyond = await eas.list(Page=4, PageSize=3)
    assert (beyond["Configs"], beyond["Total"], beyond["HasMore"]) == ([], 7, False)
    exact = await eas.list(Page=1, PageSize=7)
    assert (len(exact["Configs"]), exact["HasMore"]) == (7, False)
    largest = await eas.list(PageSize=200)
    assert (largest["PageSize"], largest["Total"]) == (200, 7)


async def test_namespaces_are_separate(eas: Eas) -> None:
    await eas.create("model", "a", name="svc-a")
    await eas.create("model", "b", name="svc-b")
    assert [c["Value"] for c in (await eas.list("svc-a"))["Configs"]] == ["a"]
    assert [c["Value"] for c in (await eas.list("svc-b"))["Configs"]] == ["b"]
    other_cluster = "/api/v2/configs/cn-beijing/service/svc-a"
    assert (await eas.ok("GET", other_cluster))["Total"] == 0


async def test_a_foreign_member_cannot_reach_another_owners_namespace(
    app: FastAPI, eas: Eas
) -> None:
    await eas.create("model", "owned")
    stranger = await new_member(app, "eas-stranger")
    foreign = eas.as_key(*await keys_for(app, stranger.principal_id))
    # Reads, updates and deletes answer as in a namespace nobody wrote to.
    for name in (SERVICE, "never-written"):
        listed = await foreign.list(name)
        assert (listed["Configs"], listed["Total"], listed["Name"]) == ([], 0, name)
        for method in ("PUT", "DELETE"):
            body = value_body("taken over") if method == "PUT" else b""
            response = await foreign.call(method, item("model", name), body)
            found = error_of(response, 404, "ConfigNamespace.NotFound")
            assert found["Message"] == f"ConfigNamespace '{CLUSTER}/service/{name}' not found"
    # A create cannot succeed, so it says the name is taken.
    for key in ("model", "new-key"):
        taken = await foreign.call("POST", item(key), value_body("planted"))
        refused = error_of(taken, 409, "ConfigNamespace.AlreadyExists")
        assert "is taken" in refused["Message"] and SERVICE in refused["Message"]
    assert [(c["Key"], c["Value"]) for c in (await eas.list())["Configs"]] == [("model", "owned")]
    # A namespace first written by the stranger is the stranger's, and hidden from the owner.
    await foreign.create("model", "theirs", name="stranger-svc")
    assert (await eas.list("stranger-svc"))["Configs"] == []


async def test_an_admin_reads_every_namespace_but_writes_only_its_own_through_eas(
    app: FastAPI, eas: Eas, owner: Principal
) -> None:
    await eas.create("model", "owned")
    admin = await admin_of(app.state.store)
    as_admin = eas.as_key(*await keys_for(app, admin.principal_id))
    assert [c["Value"] for c in (await as_admin.list())["Configs"]] == ["owned"]
    # EAS has no field to name the owner, so a write into a member's namespace is refused.
    for method, key, body in (
        ("PUT", "model", value_body("db_password")),
        ("POST", "extra", value_body("added by admin")),
        ("DELETE", "model", b""),
    ):
        refused = error_of(await as_admin.call(method, item(key), body), 409, "OperationDenied")
        assert f"owned by principal {owner.principal_id}" in refused["Message"]
        assert "ownerId" in refused["Message"]
    assert [(c["Key"], c["Value"]) for c in (await eas.list())["Configs"]] == [("model", "owned")]
    # Its own namespaces it writes as anyone does.
    assert (await as_admin.create("extra", "v", name="admins"))["Key"] == "extra"
    assert (await as_admin.update("extra", "w", name="admins"))["Value"] == "w"
    assert (await as_admin.ok("DELETE", item("extra", "admins")))["deleted"] == 1


async def test_signature_failures_keep_their_alibaba_codes(eas: Eas) -> None:
    roa = eas.roa
    error_of(await roa.call("GET", namespace(), sign=False), 400, "MissingParameter")
    unsigned_write = await roa.call("POST", item("k"), sign=False, body=value_body("x"))
    error_of(unsigned_write, 400, "MissingParameter")
    wrong = eas.as_key(roa.access_key_id, "not-the-secret")
    error_of(await wrong.call("GET", namespace()), 401, "SignatureDoesNotMatch")
    error_of(await wrong.call("POST", item("k"), value_body("x")), 401, "SignatureDoesNotMatch")
    unknown = eas.as_key("MPAKNOSUCHKEY", roa.secret)
    error_of(await unknown.call("GET", namespace()), 401, "InvalidAccessKeyId.NotFound")
    date = (
        {"x-acs-date": "2020-01-01T00:00:00Z"}
        if roa.signer == "acs3"
        else {"date": "Wed, 01 Jan 2020 00:00:00 GMT"}
    )
    stale = await eas.call("POST", item("k"), value_body("x"), extra_headers=date)
    error_of(stale, 400, "InvalidTimeStamp.Expired")
    nonce = {"x-acs-signature-nonce": "the-same-nonce"}
    assert (await eas.call("GET", namespace(), extra_headers=nonce)).status_code == 200
    replay = await eas.call("GET", namespace(), extra_headers=nonce)
    error_of(replay, 400, "SignatureNonceUsed")
    assert (await eas.list())["Total"] == 0


async def test_a_body_changed_after_signing_is_refused(eas: Eas) -> None:
    roa = eas.roa
    signed = value_body("signed")
    headers = roa.headers_for("POST", item("k"), {}, body=signed, content_md5=roa.signer == "v2")
    tampered = await send(roa.app, "POST", item("k"), "", headers, value_body("changed"))
    error_of(tampered, 401, "SignatureDoesNotMatch")
    response = await send(roa.app, "POST", item("k"), "", headers, signed)
    assert response.status_code == 200, response.text
    assert (await eas.list())["Configs"][0]["Value"] == "signed"


async def test_hmac_sha1_writes_need_content_md5(eas: Eas) -> None:
    """`acs <AK>:<HMAC-SHA1>` signs no body by itself: a write must add `content-md5`."""
    v2 = Eas(eas.roa.as_signer("v2"))
    for method in ("POST", "PUT"):
        response = await v2.call(method, item("k"), value_body("x"), content_md5=False)
        body = error_of(response, 400, "IncompleteSignature")
        assert "content-md5" in body["Message"]
    assert (await v2.create("k", "x"))["Value"] == "x"
    assert (await v2.update("k", "y"))["Value"] == "y"
    # Reads and deletes carry no body: nothing more to cover.
    assert (await v2.list())["Total"] == 1
    assert (await v2.ok("DELETE", item("k")))["deleted"] == 1


async def test_another_version_is_refused_and_none_is_accepted(eas: Eas) -> None:
    response = await eas.call("GET", namespace(), version="2023-12-29")
    assert "2021-07-01" in error_of(response, 400, "InvalidVersion")["Message"]
    assert (await eas.call("GET", namespace(), version=None)).status_code == 200


@pytest.mark.parametrize(
    ("method", "on_item", "allowed"),
    [
        ("GET", True, "POST, PUT, DELETE"),
        ("PATCH", True, "POST, PUT, DELETE"),
        ("POST", False, "GET"),
        ("PUT", False, "GET"),
        ("DELETE", False, "GET"),
    ],
)
async def test_a_method_the_path_does_not_serve_is_405(
    eas: Eas, method: str, on_item: bool, allowed: str
) -> None:
    response = await eas.call(method, item("k") if on_item else namespace())
    error_of(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == allowed


async def test_the_other_routes_are_untouched(app: FastAPI, http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).status_code == 200
    rpc = await http.post("/")
    assert rpc.status_code == 400 and "RequestId" in rpc.json()
    bailian = await http.get("/llm-ws/promptTemplates")
    assert bailian.status_code == 400 and set(bailian.json()) == {"requestId", "code", "message"}
    document = (await http.get("/openapi.json")).json()
    assert not [p for p in document["paths"] if "/api/" in p]
    for path in ("/api/v2/configs", "/api/v2/configs/c/service", "/api/v3/configs/c/service/n"):
        response = await http.get(path)
        assert response.status_code == 404 and "Code" not in response.json()
