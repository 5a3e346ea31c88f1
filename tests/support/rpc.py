"""Alibaba RPC calls signed like the SDK, sent to the in-process app.

`signer` is "acs3" (the SDK default, ACS3-HMAC-SHA256 over the headers it sends, the
query and the body's hash) or "v2" (`Config(signature_algorithm='v2')`: `Action`,
`Version`, the nonce and the HMAC-SHA1 `Signature` in the query, over query and form;
the `x-acs-action`/`x-acs-version` headers are sent as well, unsigned, as the SDK does).
`sign` builds a request that can be sent as it is, more than once, or altered first.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlencode

import httpx
from alibabacloud_tea_openapi.utils import Utils

VERSION = "2021-09-01"
HOST = "modelplane.test"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class SignedCall:
    """`POST /` as signed: the query, the headers and the form body."""

    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


def signed_call(
    access_key_id: str,
    secret: str,
    action: str | None,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    *,
    version: str | None = VERSION,
    extra_headers: dict[str, str] | None = None,
    sign: bool = True,
    unsigned: tuple[str, ...] = (),
    signer: str = "acs3",
    body: bytes | None = None,
) -> SignedCall:
    """`query` in the URL and `form` as the body, signed when `sign`.

    ACS3 signs every header sent (`extra_headers` too) but those named in `unsigned`,
    as if added on the way; v2 puts `action` and `version` in the query as well as in
    the headers. `body`, if given, is sent as the form instead of `form` encoded (ACS3).
    """
    query = dict(query or {})
    if body is None:
        body = urlencode(form).encode() if form else b""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = uuid.uuid4().hex
    headers = {"host": HOST}
    if signer == "acs3":
        headers |= {
            "x-acs-date": now,
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
    else:
        stated = {"Action": action, "Version": version}
        query = {k: v for k, v in stated.items() if v is not None} | query
        query |= {"Format": "json", "Timestamp": now, "SignatureNonce": nonce}
    headers |= extra_headers or {}
    if action is not None:
        headers["x-acs-action"] = action
    if version is not None:
        headers["x-acs-version"] = version
    if body:
        headers["content-type"] = FORM
    if sign and signer == "acs3":
        signed = {k: v for k, v in headers.items() if k not in unsigned}
        request = SimpleNamespace(method="POST", pathname="/", query=query, headers=signed)
        headers["authorization"] = Utils.get_authorization(
            request,
            "ACS3-HMAC-SHA256",
            headers["x-acs-content-sha256"],
            access_key_id,
            secret,
        )
    elif sign:
        query |= {
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "AccessKeyId": access_key_id,
        }
        query["Signature"] = Utils.get_rpcsignature(query | (form or {}), "POST", secret)
    return SignedCall(query, headers, body)


class RpcClient:
    """Signs each call with one access-key pair, as the SDK's `signer` does."""

    def __init__(
        self, http: httpx.AsyncClient, access_key_id: str, secret: str, signer: str = "acs3"
    ) -> None:
        self.http = http
        self.access_key_id = access_key_id
        self.secret = secret
        self.signer = signer

    def sign(
        self,
        action: str | None,
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        *,
        version: str | None = VERSION,
        extra_headers: dict[str, str] | None = None,
        sign: bool = True,
        unsigned: tuple[str, ...] = (),
    ) -> SignedCall:
        """`signed_call` with this client's key and signer."""
        return signed_call(
            self.access_key_id,
            self.secret,
            action,
            query,
            form,
            version=version,
            extra_headers=extra_headers,
            sign=sign,
            unsigned=unsigned,
            signer=self.signer,
        )

    async def send(
        self,
        call: SignedCall,
        headers: Sequence[tuple[str, str]] | None = None,
        raw_query: str | None = None,
    ) -> httpx.Response:
        """Send `call`, with other `headers` (repeats allowed) or another query, if given."""
        url = httpx.URL("/", query=(raw_query or urlencode(call.query)).encode())
        sent = list(call.headers.items()) if headers is None else list(headers)
        return await self.http.post(url, content=call.body, headers=sent)

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
        signed = self.sign(
            action, query, form, version=version, extra_headers=extra_headers, sign=sign
        )
        return await self.send(signed)

    async def ok(
        self, action: str, query: dict[str, str] | None = None, form: dict[str, str] | None = None
    ) -> dict[str, object]:
        """A call that must succeed; its JSON body."""
        response = await self.call(action, query, form)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        assert body["RequestId"] == response.headers["x-request-id"]
        return body
