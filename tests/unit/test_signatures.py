"""Signature checks agree with the official Alibaba Cloud SDK's own signer."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from alibabacloud_tea_openapi.utils import Utils

from modelplane.security.signatures import (
    ACS3,
    ROA_SHA1,
    RPC_SHA1,
    SignatureError,
    SignedRequest,
    parse_timestamp,
    read_claim,
    roa_string_to_sign,
    verify,
)

AK, SECRET = "MPAKTESTKEY0001", "test-secret-0123456789"
NOW = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)


def acs3_request(
    *,
    query: dict[str, str],
    body: bytes = b"",
    path: str = "/",
    date: datetime = NOW,
    unsigned: tuple[str, ...] = (),
) -> SignedRequest:
    """Sign like the SDK does, then present the request as the server receives it.

    The headers named in `unsigned` are sent but left out of the signature.
    """
    headers = {
        "host": "127.0.0.1:8080",
        "x-acs-action": "BatchCreateLlmTemplates",
        "x-acs-version": "2021-09-01",
        "x-acs-date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": "nonce-1",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/x-www-form-urlencoded",
    }
    signed = {k: v for k, v in headers.items() if k not in unsigned}
    sdk_request = SimpleNamespace(method="POST", pathname=path, query=query, headers=signed)
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


def roa_request(
    *,
    method: str = "GET",
    path: str = "/llm-ws0001/promptTemplates",
    query: dict[str, str] | None = None,
    date: datetime = NOW,
    extra: dict[str, str] | None = None,
    body: bytes = b"",
) -> SignedRequest:
    """Sign like the SDK's ROA signer (`signature_algorithm='v2'`), as the server sees it."""
    query = query or {}
    headers = {
        "date": date.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "host": "127.0.0.1:8080",
        "accept": "application/json",
        "x-acs-signature-nonce": "nonce-3",
        "x-acs-signature-method": "HMAC-SHA1",
        "x-acs-signature-version": "1.0",
        "x-acs-version": "2023-12-29",
        "x-acs-action": "ListPromptTemplates",
        "user-agent": "AlibabaCloud (Linux) Python/3.11 Core/0.4 TeaDSL/1",
        **(extra or {}),
    }
    sdk_request = SimpleNamespace(method=method, pathname=path, query=query, headers=headers)
    string_to_sign = Utils.get_string_to_sign(sdk_request)
    assert (
        roa_string_to_sign(
            SignedRequest(method, path, list(query.items()), {k: [v] for k, v in headers.items()})
        )
        == string_to_sign
    )
    authorization = f"acs {AK}:{Utils.get_roasignature(string_to_sign, SECRET)}"
    received = {k: [v] for k, v in headers.items()} | {"authorization": [authorization]}
    return SignedRequest(
        method=method, raw_path=path, query=list(query.items()), headers=received, body=body
    )


def test_an_sdk_signed_roa_sha1_request_verifies() -> None:
    request = roa_request(query={"maxResults": "3", "nextToken": "", "type": "Custom"})
    claim = read_claim(request)
    assert (claim.scheme, claim.access_key_id, claim.nonce) == (ROA_SHA1, AK, "nonce-3")
    assert claim.signed_headers == ()
    assert verify(request, claim, SECRET, now=NOW) == NOW


def test_roa_values_with_spaces_unicode_and_reserved_characters_verify() -> None:
    query = {"name": "小红书 文案+助手", "content": "主题为: ${主题} & 100% = ok?"}
    request = roa_request(method="POST", path="/llm-ws%2F1/promptTemplates", query=query)
    verify(request, read_claim(request), SECRET, now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: SignedRequest(r.method, r.raw_path, [("maxResults", "4")], r.headers),
        lambda r: SignedRequest("DELETE", r.raw_path, r.query, r.headers),
        lambda r: SignedRequest(r.method, "/llm-ws0002/promptTemplates", r.query, r.headers),
        lambda r: SignedRequest(
            r.method, r.raw_path, r.query, r.headers | {"x-acs-version": ["2021-07-01"]}
        ),
        lambda r: SignedRequest(
            r.method, r.raw_path, r.query, r.headers | {"x-acs-extra": ["added"]}
        ),
        lambda r: SignedRequest(
            r.method, r.raw_path, r.query, r.headers | {"date": ["Sat, 21 Nov 2026 10:00:01 GMT"]}
        ),
    ],
    ids=["query", "method", "path", "signed-header", "added-acs-header", "date"],
)
def test_any_change_to_a_roa_request_after_signing_is_refused(tamper: object) -> None:
    request = roa_request(query={"maxResults": "3"})
    changed = tamper(request)  # type: ignore[operator]
    with pytest.raises(SignatureError) as caught:
        verify(changed, read_claim(changed), SECRET, now=NOW)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_a_roa_body_is_covered_only_with_content_md5() -> None:
    body = b'{"Value": "x"}'
    unsigned_body = roa_request(method="PUT", body=body)
    claim = read_claim(unsigned_body)
    verify(unsigned_body, claim, SECRET, now=NOW)
    assert not claim.covers_body(unsigned_body)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324
    signed_body = roa_request(method="PUT", body=body, extra={"content-md5": md5})
    claim = read_claim(signed_body)
    verify(signed_body, claim, SECRET, now=NOW)
    assert claim.covers_body(signed_body)
    swapped = SignedRequest(
        signed_body.method, signed_body.raw_path, signed_body.query, signed_body.headers, b"{}"
    )
    with pytest.raises(SignatureError) as caught:
        verify(swapped, claim, SECRET, now=NOW)
    assert caught.value.code == "SignatureDoesNotMatch"
    acs3 = acs3_request(query={})
    assert read_claim(acs3).covers_body(acs3)


def test_a_roa_request_with_a_wrong_secret_or_an_old_date_is_refused() -> None:
    request = roa_request()
    with pytest.raises(SignatureError) as caught:
        verify(request, read_claim(request), "another-secret", now=NOW)
    assert caught.value.code == "SignatureDoesNotMatch"
    stale = roa_request(date=NOW - timedelta(minutes=16))
    with pytest.raises(SignatureError) as caught:
        verify(stale, read_claim(stale), SECRET, now=NOW)
    assert caught.value.code == "InvalidTimeStamp.Expired"
    recent = roa_request(date=NOW - timedelta(minutes=14))
    verify(recent, read_claim(recent), SECRET, now=NOW)


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("acs MPAKTESTKEY0001", "IncompleteSignature"),
        ("acs :c2ln", "IncompleteSignature"),
        ("acs MPAKTESTKEY0001:", "IncompleteSignature"),
    ],
)
def test_a_malformed_roa_authorization_is_named(authorization: str, code: str) -> None:
    request = SignedRequest("GET", "/", [], {"authorization": [authorization]})
    with pytest.raises(SignatureError) as caught:
        read_claim(request)
    assert caught.value.code == code


def test_a_roa_signature_method_other_than_hmac_sha1_is_refused() -> None:
    request = roa_request(extra={"x-acs-signature-method": "HMAC-SHA256"})
    with pytest.raises(SignatureError) as caught:
        read_claim(request)
    assert caught.value.code == "InvalidParameter"


def test_a_roa_request_without_a_nonce_or_date_is_refused() -> None:
    request = roa_request()
    for name, code in (("x-acs-signature-nonce", "MissingParameter"), ("date", "MissingParameter")):
        headers = {k: v for k, v in request.headers.items() if k != name}
        sdk_request = SimpleNamespace(
            method="GET",
            pathname=request.raw_path,
            query={},
            headers={k: v[0] for k, v in headers.items() if k != "authorization"},
        )
        signature = Utils.get_roasignature(Utils.get_string_to_sign(sdk_request), SECRET)
        headers["authorization"] = [f"acs {AK}:{signature}"]
        unsigned = SignedRequest("GET", request.raw_path, [], headers)
        with pytest.raises(SignatureError) as caught:
            verify(unsigned, read_claim(unsigned), SECRET, now=NOW)
        assert caught.value.code == code


@pytest.mark.parametrize("text", ["2026-11-21T10:00:00Z", "Sat, 21 Nov 2026 10:00:00 GMT"])
def test_iso_and_http_dates_are_read_as_utc(text: str) -> None:
    assert parse_timestamp(text) == NOW


def test_the_sdk_http_date_is_read_as_utc_now() -> None:
    value = parse_timestamp(Utils.get_date_utcstring())
    assert abs((value - datetime.now(UTC)).total_seconds()) < 5


def test_an_unreadable_date_is_invalid_timestamp_format() -> None:
    with pytest.raises(SignatureError) as caught:
        parse_timestamp("yesterday")
    assert caught.value.code == "InvalidTimeStamp.Format"


def _with_query(request: SignedRequest, query: list[tuple[str, str]]) -> SignedRequest:
    return SignedRequest(request.method, request.raw_path, query, request.headers, request.body)


def test_acs3_encodes_query_names_so_one_name_cannot_pass_for_two() -> None:
    request = acs3_request(query={"Name": "", "PageSize": "1"})
    verify(request, read_claim(request), SECRET, now=NOW)
    one_name = _with_query(request, [("Name=&PageSize", "1")])  # sent as Name%3D%26PageSize=1
    with pytest.raises(SignatureError) as caught:
        verify(one_name, read_claim(one_name), SECRET, now=NOW)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_roa_sha1_encodes_query_names_so_one_name_cannot_pass_for_two() -> None:
    request = roa_request(query={"maxResults": "1", "name": ""})
    verify(request, read_claim(request), SECRET, now=NOW)
    one_name = _with_query(request, [("maxResults=1&name", "")])
    with pytest.raises(SignatureError) as caught:
        verify(one_name, read_claim(one_name), SECRET, now=NOW)
    assert caught.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "name",
    [
        "x-acs-signature-nonce",
        "x-acs-date",
        "x-acs-action",
        "x-acs-version",
        "x-acs-content-sha256",
        "authorization",
        "content-type",
        "host",
    ],
)
def test_a_signed_or_security_header_sent_twice_is_refused(name: str) -> None:
    request = acs3_request(query={})
    twice = request.headers | {name: [*request.headers[name], "other"]}
    with pytest.raises(SignatureError) as caught:
        read_claim(SignedRequest("POST", "/", [], twice))
    assert caught.value.code == "InvalidParameter"
    assert f"the header {name} is sent 2 times" in caught.value.message


def test_two_nonces_signed_as_one_cannot_be_swapped_into_a_fresh_request() -> None:
    """ACS3 and ROA HMAC-SHA1 join repeated values with a comma: "a,b" signs like a, b."""
    for request in (acs3_request(query={}), roa_request()):
        split = request.headers | {"x-acs-signature-nonce": ["nonce-1", "nonce-2"]}
        for order in (split, split | {"x-acs-signature-nonce": ["nonce-2", "nonce-1"]}):
            with pytest.raises(SignatureError) as caught:
                read_claim(SignedRequest("POST", "/", [], order))
            assert caught.value.code == "InvalidParameter"


@pytest.mark.parametrize("name", ["x-acs-action", "x-acs-version", "content-type"])
def test_acs3_refuses_an_x_acs_header_or_content_type_left_out_of_signed_headers(
    name: str,
) -> None:
    request = acs3_request(query={}, unsigned=(name,))
    with pytest.raises(SignatureError) as caught:
        verify(request, read_claim(request), SECRET, now=NOW)
    assert caught.value.code == "IncompleteSignature"
    assert name in caught.value.message


def test_what_each_scheme_covers_of_the_headers() -> None:
    acs3 = read_claim(acs3_request(query={}, unsigned=("x-acs-action",)))
    assert acs3.covers_header("x-acs-version") and acs3.covers_header("content-type")
    assert not acs3.covers_header("x-acs-action")
    roa = read_claim(roa_request())
    assert roa.covers_header("x-acs-action") and roa.covers_header("content-type")
    assert not roa.covers_header("host")
    rpc = read_claim(rpc_request({"Action": "ListLlmTemplates", "Version": "2021-09-01"}))
    assert rpc.scheme == RPC_SHA1
    assert not rpc.covers_header("x-acs-action") and not rpc.covers_header("x-acs-version")


def test_an_rpc_sha1_signature_is_good_for_the_path_slash_only() -> None:
    request = rpc_request({"Action": "ListLlmTemplates", "Version": "2021-09-01"})
    verify(request, read_claim(request), SECRET, now=NOW)
    elsewhere = SignedRequest(
        request.method, "/api/v2/configs/c1/service/s1/k", request.query, request.headers
    )
    with pytest.raises(SignatureError) as caught:
        verify(elsewhere, read_claim(elsewhere), SECRET, now=NOW)
    assert caught.value.code == "IncompleteSignature"
