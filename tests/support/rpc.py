"""Alibaba RPC calls signed like the SDK (ACS3-HMAC-SHA256), sent to the in-process app."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlencode

import httpx
from alibabacloud_tea_openapi.utils import Utils

VERSION = "2021-09-01"
HOST = "modelplane.test"


def rpc_headers(
    access_key_id: str,
    secret: str,
    action: str | None,
    query: dict[str, str],
    body: bytes,
    *,
    version: str | None = VERSION,
    extra_headers: dict[str, str] | None = None,
    sign: bool = True,
) -> dict[str, str]:
    """The headers of an RPC call with `query` in the URL and a form `body`, signed if `sign`."""
    headers = {
        "host": HOST,
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        **(extra_headers or {}),
    }
    if action is not None:
        headers["x-acs-action"] = action
    if version is not None:
        headers["x-acs-version"] = version
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    if sign:
        request = SimpleNamespace(method="POST", pathname="/", query=query, headers=headers)
        headers["authorization"] = Utils.get_authorization(
            request,
            "ACS3-HMAC-SHA256",
            headers["x-acs-content-sha256"],
            access_key_id,
            secret,
        )
    return headers


class RpcClient:
    """Signs each call with one access-key pair, as the SDK's default signer does."""

    def __init__(self, http: httpx.AsyncClient, access_key_id: str, secret: str) -> None:
        self.http = http
        self.access_key_id = access_key_id
        self.secret = secret

    async def call(
        self,
        action: str | None,
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        *,
        version: str | None = VERSION,
        extra_headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> httpx.Response:
        """POST / with `query` in the URL and `form` as the body."""
        query = dict(query or {})
        body = urlencode(form).encode() if form else b""
        headers = rpc_headers(
            self.access_key_id,
            self.secret,
            action,
            query,
            body,
            version=version,
            extra_headers=extra_headers,
            sign=sign,
        )
        return await self.http.post("/", params=query, content=body, headers=headers)

    async def ok(
        self, action: str, query: dict[str, str] | None = None, form: dict[str, str] | None = None
    ) -> dict[str, object]:
        """A call that must succeed; its JSON body."""
        response = await self.call(action, query, form)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        assert body["RequestId"] == response.headers["x-request-id"]
        return body
