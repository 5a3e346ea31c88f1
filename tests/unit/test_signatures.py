"""Signature checks agree with the official Alibaba Cloud SDK's own signer."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from alibabacloud_tea_openapi.utils import Utils

from modelplane.security.signatures import (
    ACS3,
    SignatureError,
    SignedRequest,
    read_claim,
    verify,
)

AK, SECRET = "MPAKTESTKEY0001", "test-secret-0123456789"
NOW = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)


def acs3_request(
    *, query: dict[str, str], body: bytes = b"", path: str = "/", date: datetime = NOW
) -> SignedRequest:
    """Sign like the SDK does, then present the request as the server receives it."""
    headers = {
        "host": "127.0.0.1:8080",
        "x-acs-action": "BatchCreateLlmTemplates",
        "x-acs-version": "2021-09-01",
        "x-acs-date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": "nonce-1",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/x-www-form-urlencoded",
    }
    sdk_request = SimpleNamespace(method="POST", pathname=path, query=query, headers=headers)
    authorization = Utils.get_authorization(
        sdk_request, ACS3, headers["x-acs-content-sha256"], AK, SECRET
    )
    received = {k: [v] for k, v in headers.items()} | {"authorization": [authorization]}
    return SignedRequest(
        method="POST", raw_path=path, query=list(query.items()), headers=received, body=body
    )


def rpc_request(params: dict[str, str], form: dict[str, str] | None = None) -> SignedRequest:
    query = {
        **params,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "AccessKeyId": AK,
        "Timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SignatureNonce": "nonce-2",
    }
    signed = {**query, **(form or {})}
    query["Signature"] = Utils.get_rpcsignature(signed, "POST", SECRET)
    return SignedRequest(
        method="POST",
        raw_path="/",
        query=list(query.items()),
        headers={},
        form=list((form or {}).items()),
    )


def test_an_sdk_signed_acs3_request_verifies() -> None:
    query = {"ProviderTemplateId": "mpt-1", "LlmTemplateItems.1.LlmCode": "qwen3.6-plus"}
    request = acs3_request(query=query, body=b"Name=a%20b&IsDefaultModel=true")
    claim = read_claim(request)
    assert (claim.scheme, claim.access_key_id, claim.nonce) == (ACS3, AK, "nonce-1")
    assert verify(request, claim, SECRET, now=NOW) == NOW


def test_values_with_spaces_unicode_and_reserved_characters_verify() -> None:
    query = {"Name": "千问 Plus/多模态", "Config": '{"baseUrl": "https://x.test/v1?a=b&c"}'}
    request = acs3_request(query=query)
    verify(request, read_claim(request), SECRET, now=NOW)


def test_an_encoded_path_is_hashed_as_sent() -> None:
    path = "/api/v2/configs/c1/service/s1/a%2Fb"
    request = acs3_request(query={}, path=path)
    verify(request, read_claim(request), SECRET, now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: SignedRequest(
            r.method, r.raw_path, [("ProviderTemplateId", "mpt-2")], r.headers, r.body
        ),
        lambda r: SignedRequest(r.method, r.raw_path, r.query, r.headers, b"changed"),
        lambda r: SignedRequest("PUT", r.raw_path, r.query, r.headers, r.body),
        lambda r: SignedRequest(r.method, "/other", r.query, r.headers, r.body),
    ],
    ids=["query", "body", "method", "path"],
)
def test_any_change_after_signing_is_refused(tamper: object) -> None:
    request = acs3_request(query={"ProviderTemplateId": "mpt-1"})
    changed = tamper(request)  # type: ignore[operator]
    with pytest.raises(SignatureError) as caught:
        verify(changed, read_claim(changed), SECRET, now=NOW)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_a_wrong_secret_is_refused() -> None:
    request = acs3_request(query={})
    with pytest.raises(SignatureError) as caught:
        verify(request, read_claim(request), "another-secret", now=NOW)
    assert caught.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("minutes", [16, -16])
def test_a_date_more_than_15_minutes_off_is_refused(minutes: int) -> None:
    request = acs3_request(query={}, date=NOW + timedelta(minutes=minutes))
    with pytest.raises(SignatureError) as caught:
        verify(request, read_claim(request), SECRET, now=NOW)
    assert caught.value.code == "InvalidTimeStamp.Expired"


def test_a_date_within_15_minutes_is_accepted() -> None:
    request = acs3_request(query={}, date=NOW - timedelta(minutes=14))
    verify(request, read_claim(request), SECRET, now=NOW)


def test_an_sdk_signed_rpc_sha1_request_verifies_with_form_parameters() -> None:
    request = rpc_request(
        {"Action": "ListLlmTemplates", "Version": "2021-09-01", "PageSize": "10"},
        form={"LlmTemplateIds": '["llmt-1","llmt-2"]', "Name": "a b+c"},
    )
    claim = read_claim(request)
    assert claim.scheme == "HMAC-SHA1" and claim.access_key_id == AK
    verify(request, claim, SECRET, now=NOW)
    with pytest.raises(SignatureError):
        verify(request, claim, "another-secret", now=NOW)


def test_unsigned_and_incomplete_requests_are_named() -> None:
    with pytest.raises(SignatureError) as caught:
        read_claim(SignedRequest("POST", "/", [], {}))
    assert caught.value.code == "MissingParameter"
    broken = SignedRequest("POST", "/", [], {"authorization": [f"{ACS3} Credential=x"]})
    with pytest.raises(SignatureError) as caught:
        read_claim(broken)
    assert caught.value.code == "IncompleteSignature"
