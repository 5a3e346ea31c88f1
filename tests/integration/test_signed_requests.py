"""Access-key signatures against the store: keys, revocation, and replays on any replica."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import pytest
from alibabacloud_tea_openapi.utils import Utils
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.security.signatures import ACS3, SignatureError, SignedRequest
from modelplane.services import principals
from modelplane.services.signed_requests import authenticate_signed
from modelplane.settings import Settings
from tests.integration.test_catalog_services import admin_of


def signed(access_key_id: str, secret: str, nonce: str) -> SignedRequest:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "host": "127.0.0.1",
        "x-acs-action": "ListLlmTemplates",
        "x-acs-version": "2021-09-01",
        "x-acs-date": now,
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    query = {"PageSize": "10"}
    sdk = type("R", (), {"method": "POST", "pathname": "/", "query": query, "headers": headers})
    auth = Utils.get_authorization(
        sdk, ACS3, headers["x-acs-content-sha256"], access_key_id, secret
    )
    received = {k: [v] for k, v in headers.items()} | {"authorization": [auth]}
    return SignedRequest("POST", "/", list(query.items()), received)


async def issued(app: FastAPI) -> tuple[str, str, str]:
    store, secrets = app.state.store, app.state.secrets
    admin = await admin_of(store)
    key = await principals.issue_access_key(
        store=store, secrets=secrets, actor=admin, principal_id=admin.principal_id
    )
    return admin.principal_id, key.access_key.access_key_id, key.secret


async def test_a_signed_request_authenticates_its_principal(app: FastAPI) -> None:
    principal_id, key_id, secret = await issued(app)
    principal = await authenticate_signed(
        store=app.state.store, secrets=app.state.secrets, request=signed(key_id, secret, "n-1")
    )
    assert principal.principal_id == principal_id


async def test_a_replayed_nonce_is_refused_here_and_on_another_replica(
    app: FastAPI, settings: Settings
) -> None:
    _, key_id, secret = await issued(app)
    request = signed(key_id, secret, "n-replay")
    await authenticate_signed(store=app.state.store, secrets=app.state.secrets, request=request)
    with pytest.raises(SignatureError) as caught:
        await authenticate_signed(store=app.state.store, secrets=app.state.secrets, request=request)
    assert caught.value.code == "SignatureNonceUsed"
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        with pytest.raises(SignatureError) as again:
            await authenticate_signed(
                store=other.state.store, secrets=other.state.secrets, request=request
            )
    assert again.value.code == "SignatureNonceUsed"


async def test_unknown_revoked_and_wrong_secret_are_named(app: FastAPI) -> None:
    store, secrets = app.state.store, app.state.secrets
    principal_id, key_id, secret = await issued(app)
    with pytest.raises(SignatureError) as unknown:
        await authenticate_signed(
            store=store, secrets=secrets, request=signed("MPAKNOSUCHKEY", secret, "n-2")
        )
    assert unknown.value.code == "InvalidAccessKeyId.NotFound"
    with pytest.raises(SignatureError) as wrong:
        await authenticate_signed(
            store=store, secrets=secrets, request=signed(key_id, "not-the-secret", "n-3")
        )
    assert wrong.value.code == "SignatureDoesNotMatch"
    admin = await admin_of(store)
    await principals.revoke_access_key(
        store=store, actor=admin, principal_id=principal_id, access_key_id=key_id
    )
    with pytest.raises(SignatureError) as revoked:
        await authenticate_signed(
            store=store, secrets=secrets, request=signed(key_id, secret, "n-4")
        )
    assert revoked.value.code == "InvalidAccessKeyId.NotFound"


async def test_a_refused_signature_does_not_burn_its_nonce(app: FastAPI) -> None:
    store, secrets = app.state.store, app.state.secrets
    _, key_id, secret = await issued(app)
    with pytest.raises(SignatureError):
        await authenticate_signed(
            store=store, secrets=secrets, request=signed(key_id, "not-the-secret", "n-5")
        )
    await authenticate_signed(store=store, secrets=secrets, request=signed(key_id, secret, "n-5"))


async def test_recording_a_nonce_keeps_cached_reads(app: FastAPI) -> None:
    store, secrets = app.state.store, app.state.secrets
    _, key_id, secret = await issued(app)
    await asyncio.sleep(0.05)  # the notification of issuing the key has arrived
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    assert await store.cached("probe", load) == 1
    await authenticate_signed(store=store, secrets=secrets, request=signed(key_id, secret, "n-6"))
    await asyncio.sleep(0.05)  # a notification, had one been sent, would have arrived
    assert await store.cached("probe", load) == 1
