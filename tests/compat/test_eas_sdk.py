"""The official PAI-EAS (2021-07-01) SDK, unchanged, against a live modelplane.

Every config operation runs with both of the SDK's ROA signers: ACS3-HMAC-SHA256 (the
default) and `acs <AK>:<HMAC-SHA1>` (`signature_algorithm='v2'`). The older signer does
not cover the JSON body of CreateConfig and UpdateConfig, which modelplane refuses
(`IncompleteSignature`); through the SDK's own `*_with_options(headers=…)` such a write
adds `content-md5`, which that signer then signs. Each test writes its own namespace.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from alibabacloud_eas20210701 import models
from alibabacloud_eas20210701.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from darabonba.runtime import RuntimeOptions

from tests.compat.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ADMIN_TOKEN
from tests.support.server import Server

CLUSTER = "cn-hangzhou"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
MODEL = '{"model": "qwen-max", "temperature": 0.2, "提示": "你好"}'


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


class Eas:
    """The SDK with one signer; writes signed with HMAC-SHA1 add `content-md5`."""

    def __init__(self, sdk: Client, signer: str) -> None:
        self.sdk = sdk
        self.signer = signer

    def headers(self, value: str | None) -> dict[str, str]:
        if self.signer != "v2":
            return {}
        # The body exactly as the SDK writes it (`DaraCore.to_json_string`).
        body = json.dumps(
            {"Value": value} if value is not None else {}, ensure_ascii=False, separators=(",", ":")
        )
        digest = hashlib.md5(body.encode()).digest()  # noqa: S324
        return {"content-md5": base64.b64encode(digest).decode()}

    def create(self, name: str, key: str, value: str | None) -> models.CreateConfigResponseBody:
        created = self.sdk.create_config_with_options(
            CLUSTER,
            "service",
            name,
            key,
            models.CreateConfigRequest(value=value),
            self.headers(value),
            RuntimeOptions(),
        )
        assert created.status_code == 200
        assert created.headers["x-request-id"]
        body: models.CreateConfigResponseBody = created.body
        return body

    def update(self, name: str, key: str, value: str | None) -> models.UpdateConfigResponseBody:
        updated = self.sdk.update_config_with_options(
            CLUSTER,
            "service",
            name,
            key,
            models.UpdateConfigRequest(value=value),
            self.headers(value),
            RuntimeOptions(),
        )
        assert updated.status_code == 200
        assert updated.headers["x-request-id"]
        body: models.UpdateConfigResponseBody = updated.body
        return body

    def delete(self, name: str, key: str) -> models.DeleteConfigResponseBody:
        deleted = self.sdk.delete_config(
            CLUSTER, "service", name, key, models.DeleteConfigRequest()
        )
        assert deleted.status_code == 200
        body: models.DeleteConfigResponseBody = deleted.body
        return body

    def list(
        self, name: str, page: int | None = None, size: int | None = None
    ) -> models.ListConfigsResponseBody:
        listed = self.sdk.list_configs(
            CLUSTER, "service", name, models.ListConfigsRequest(page=page, page_size=size)
        )
        assert listed.status_code == 200
        assert (listed.body.type, listed.body.name) == ("service", name)
        body: models.ListConfigsResponseBody = listed.body
        return body


@pytest.fixture(params=["acs3", "v2"])
def signer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def eas(live_server: Server, signer: str) -> Eas:
    return Eas(client_for(live_server, signer), signer)


@pytest.fixture
def service() -> str:
    """A namespace no other test writes."""
    return f"svc-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def native(live_server: Server) -> Iterator[httpx.Client]:
    """The native API as the bootstrap admin."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as client:
        yield client


def error_of(caught: pytest.ExceptionInfo[ClientException], status: int) -> str:
    """The error code the SDK read, after checking status, message and request id."""
    assert caught.value.status_code == status
    assert caught.value.request_id and caught.value.request_id != "None"
    assert caught.value.data and caught.value.data["Message"]
    return str(caught.value.code)


def moment(text: str | None) -> float:
    assert text is not None and TIME.fullmatch(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def test_the_life_cycle_of_a_parameter(eas: Eas, service: str) -> None:
    before = int(time.time())
    created = eas.create(service, "model-config", MODEL)
    assert (created.key, created.value) == ("model-config", MODEL)
    assert created.created_at == created.updated_at
    assert before <= moment(created.created_at) <= time.time() + 1

    listed = eas.list(service)
    assert (listed.page, listed.page_size, listed.total, listed.has_more) == (1, 100, 1, False)
    [entry] = listed.configs
    assert (entry.key, entry.value, entry.created_at, entry.updated_at) == (
        "model-config",
        MODEL,
        created.created_at,
        created.updated_at,
    )

    updated = eas.update(service, "model-config", "qwen-plus")
    assert (updated.key, updated.value, updated.created_at) == (
        "model-config",
        "qwen-plus",
        created.created_at,
    )
    assert moment(updated.updated_at) >= moment(created.updated_at)
    assert [c.value for c in eas.list(service).configs] == ["qwen-plus"]

    deleted = eas.delete(service, "model-config")
    assert (deleted.message, deleted.deleted) == ("Successfully deleted 1 configs", 1)
    emptied = eas.list(service)
    assert (emptied.configs, emptied.total, emptied.has_more) == ([], 0, False)


def test_a_key_with_slashes(eas: Eas, service: str) -> None:
    key = "models/llm/primary.v1"
    assert eas.create(service, key, "qwen-max").key == key
    assert eas.update(service, key, "qwen-turbo").value == "qwen-turbo"
    eas.create(service, "models", "a sibling")
    assert [(c.key, c.value) for c in eas.list(service).configs] == [
        ("models", "a sibling"),
        (key, "qwen-turbo"),
    ]
    assert eas.delete(service, key).deleted == 1
    assert [c.key for c in eas.list(service).configs] == ["models"]


def test_paging_over_three_pages(eas: Eas, service: str) -> None:
    keys = [f"param.{n:02d}" for n in range(7)]
    for key in reversed(keys):
        eas.create(service, key, f"value {key}")
    seen, pages = [], []
    for number in (1, 2, 3):
        body = eas.list(service, page=number, size=3)
        assert (body.page, body.page_size, body.total) == (number, 3, 7)
        pages.append((len(body.configs), body.has_more))
        seen += [c.key for c in body.configs]
    assert pages == [(3, True), (3, True), (1, False)]
    assert seen == keys
    assert eas.list(service, size=200).page_size == 200


def test_conflicts_and_missing_keys(eas: Eas, service: str) -> None:
    eas.create(service, "k", "first")
    with pytest.raises(ClientException) as caught:
        eas.create(service, "k", "second")
    assert error_of(caught, 409) == "Config.AlreadyExists"
    eas.create(service, "other", "x")
    for call in (
        lambda: eas.update(service, "absent", "x"),
        lambda: eas.delete(service, "absent"),
    ):
        with pytest.raises(ClientException) as caught:
            call()
        assert error_of(caught, 404) == "Config.NotFound"
    assert [(c.key, c.value) for c in eas.list(service).configs] == [
        ("k", "first"),
        ("other", "x"),
    ]


def test_invalid_input_is_400_naming_the_field(eas: Eas, service: str) -> None:
    cases = [
        (lambda: eas.create(service, "k" * 101, "x"), "ConfigKey"),
        (lambda: eas.create(service, "bad key!", "x"), "ConfigKey"),
        (lambda: eas.create(service, "k", None), "Value"),
        (lambda: eas.update(service, "k", None), "Value"),
        (lambda: eas.list(service, size=201), "PageSize"),
        (lambda: eas.list(service, page=0), "Page"),
        (
            lambda: eas.sdk.list_configs(CLUSTER, "job", service, models.ListConfigsRequest()),
            "ConfigType",
        ),
        (
            lambda: eas.sdk.delete_config(
                CLUSTER, "job", service, "k", models.DeleteConfigRequest()
            ),
            "ConfigType",
        ),
    ]
    for call, field in cases:
        with pytest.raises(ClientException) as caught:
            call()
        assert error_of(caught, 400) == "InvalidParameter"
        assert caught.value.data is not None
        assert str(caught.value.data["Message"]).startswith(f"{field}:")
    assert eas.list(service).total == 0


def test_plain_writes_signed_with_hmac_sha1_are_refused(live_server: Server, service: str) -> None:
    """The SDK's older signer leaves the body out of the signature unless asked."""
    sdk = client_for(live_server, "v2")
    for call in (
        lambda: sdk.create_config(
            CLUSTER, "service", service, "k", models.CreateConfigRequest(value="x")
        ),
        lambda: sdk.update_config(
            CLUSTER, "service", service, "k", models.UpdateConfigRequest(value="x")
        ),
    ):
        with pytest.raises(ClientException) as caught:
            call()
        assert error_of(caught, 400) == "IncompleteSignature"
        assert "content-md5" in str(caught.value.data["Message"])
    assert Eas(sdk, "v2").list(service).total == 0
    acs3 = client_for(live_server, "acs3")
    created = acs3.create_config(
        CLUSTER, "service", service, "k", models.CreateConfigRequest(value="x")
    )
    assert created.body.value == "x"


def test_wrong_credentials_keep_their_codes(live_server: Server, signer: str) -> None:
    wrong = client_for(live_server, signer, secret="not-the-secret")
    unknown = client_for(live_server, signer, access_key_id="MPAKNOSUCHKEY")
    for sdk, code in ((wrong, "SignatureDoesNotMatch"), (unknown, "InvalidAccessKeyId.NotFound")):
        with pytest.raises(ClientException) as caught:
            sdk.list_configs(CLUSTER, "service", "svc", models.ListConfigsRequest())
        assert error_of(caught, 401) == code


def test_a_foreign_member_sees_nothing_and_the_admin_writes_only_its_own(
    live_server: Server, eas: Eas, signer: str, native: httpx.Client, service: str
) -> None:
    principal = native.post(
        "/v1/principals", json={"name": f"eas-{uuid.uuid4().hex[:8]}", "role": "member"}
    )
    assert principal.status_code == 201, principal.text
    principal_id = principal.json()["principalId"]
    keys = native.post(f"/v1/principals/{principal_id}/access-keys", json={})
    assert keys.status_code == 201, keys.text
    member = Eas(
        client_for(live_server, signer, keys.json()["accessKeyId"], keys.json()["accessKeySecret"]),
        signer,
    )
    member.create(service, "model", "the member's")
    # The admin (the fixture's key) reads every namespace, but EAS cannot name the owner
    # that a write into another principal's namespace must name.
    assert [c.value for c in eas.list(service).configs] == ["the member's"]
    with pytest.raises(ClientException) as caught:
        eas.update(service, "model", "the admin's")
    assert error_of(caught, 409) == "OperationDenied"
    assert "ownerId" in caught.value.message
    assert [c.value for c in member.list(service).configs] == ["the member's"]

    admins = f"{service}-admin"
    eas.create(admins, "model", "the admin's")
    # To the member, the admin's namespace is one never written; a create there is taken.
    assert member.list(admins).configs == []
    with pytest.raises(ClientException) as caught:
        member.create(admins, "planted", "x")
    assert error_of(caught, 409) == "ConfigNamespace.AlreadyExists"
    for call in (
        lambda: member.update(admins, "model", "taken over"),
        lambda: member.delete(admins, "model"),
    ):
        with pytest.raises(ClientException) as caught:
            call()
        assert error_of(caught, 404) == "ConfigNamespace.NotFound"
    assert [(c.key, c.value) for c in eas.list(admins).configs] == [("model", "the admin's")]
