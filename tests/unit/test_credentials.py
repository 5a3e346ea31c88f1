"""Credential rules and the fingerprint."""

from __future__ import annotations

from modelplane.domain.credentials import ApiKeyCredential, CredentialKind, Credentials
from modelplane.domain.errors import ViolationCollector


def api_key(**kwargs: object) -> Credentials:
    return Credentials(kind=CredentialKind.API_KEY, api_key=ApiKeyCredential(**kwargs))  # type: ignore[arg-type]


def test_fingerprint_is_sha256_hex_and_stable() -> None:
    first = api_key(inline_secret="sk-1").fingerprint()
    assert len(first) == 64 and int(first, 16) >= 0
    assert api_key(inline_secret="sk-1").fingerprint() == first


def test_fingerprint_differs_by_secret_and_by_header() -> None:
    base = api_key(inline_secret="sk-1").fingerprint()
    assert api_key(inline_secret="sk-2").fingerprint() != base
    assert api_key(inline_secret="sk-1", header_name="x-api-key").fingerprint() != base


def test_default_header_name_is_the_same_as_an_explicit_authorization() -> None:
    implicit = api_key(inline_secret="sk-1").fingerprint()
    assert api_key(inline_secret="sk-1", header_name="authorization").fingerprint() == implicit


def test_labels_do_not_change_the_fingerprint() -> None:
    plain = api_key(inline_secret="s")
    labelled = Credentials(kind=plain.kind, api_key=plain.api_key, labels={"owner": "ops"})
    assert plain.fingerprint() == labelled.fingerprint()


def test_fingerprint_does_not_contain_the_secret() -> None:
    assert "sk-very-secret" not in api_key(inline_secret="sk-very-secret").fingerprint()


def test_exactly_one_of_inline_secret_and_secret_ref() -> None:
    for creds in (api_key(), api_key(inline_secret="a", secret_ref="env://B")):
        errors = ViolationCollector()
        creds.validate("credentials", errors)
        assert [v.field for v in errors.violations] == ["credentials.apiKey"]


def test_secret_ref_must_be_env_scheme() -> None:
    errors = ViolationCollector()
    api_key(secret_ref="vault://kv/x").validate("credentials", errors)
    assert errors.violations[0].field == "credentials.apiKey.secretRef.uri"


def test_sealed_payload_round_trips() -> None:
    creds = api_key(secret_ref="env://OPENAI_KEY", prefix="Bearer ")
    assert Credentials.from_sealed_payload(creds.to_sealed_payload()) == creds
