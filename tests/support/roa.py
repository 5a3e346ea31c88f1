"""Alibaba ROA calls signed like the SDK (ACS3-HMAC-SHA256 or ROA HMAC-SHA1), sent in-process.

Requests go straight to the ASGI app (httpx refuses URLs over 64 KiB, and the bailian SDK
sends whole templates in the query), with the path exactly as given. A JSON body (EAS) is
signed as the SDK signs it: ACS3 covers its SHA-256; ROA HMAC-SHA1 covers it only when
`content-md5` is sent, which the SDK does not do by itself.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, unquote, urlencode

import httpx
from alibabacloud_tea_openapi.utils import Utils
from starlette.types import ASGIApp, Message

from modelplane.security.signatures import ACS3

BAILIAN_VERSION = "2023-12-29"
EAS_VERSION = "2021-07-01"
HOST = "modelplane.test"
JSON = "application/json; charset=utf-8"


class Default(enum.Enum):
    """The client's own value."""

    SAME = enum.auto()


async def send(
    app: ASGIApp,
    method: str,
    path: str,
    query: str = "",
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> httpx.Response:
    """One request to the app: `path`, `query` and `body` exactly as a client sends them.

    `headers` may be a list of pairs, to send a header more than once.
    """
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode("ascii"),
        "query_string": query.encode("ascii"),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in pairs],
        "client": ("127.0.0.1", 50000),
        "server": (HOST, 80),
    }
    sent = False
    started: Message = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def collect(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = message
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, collect)
    return httpx.Response(
        started["status"],
        headers=[(k.decode(), v.decode()) for k, v in started.get("headers", [])],
        content=b"".join(chunks),
    )


def segment(value: str) -> str:
    """A path parameter encoded as the SDK does (`DaraURL.percent_encode`)."""
    return quote(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


class RoaClient:
    """Signs each call with one access-key pair, as the SDK's `signer` does.

    `signer` is "acs3" (the SDK default) or "v2" (`Config(signature_algorithm='v2')`);
    `version` and `action` are what it sends unless a call says otherwise.
    """

    def __init__(
        self,
        app: ASGIApp,
        access_key_id: str,
        secret: str,
        signer: str = "acs3",
        *,
        version: str = BAILIAN_VERSION,
        action: str = "PromptTemplate",
    ) -> None:
        self.app = app
        self.access_key_id = access_key_id
        self.secret = secret
        self.signer = signer
        self.version = version
        self.action = action

    def as_signer(self, signer: str) -> RoaClient:
        """The same key, signing with another scheme."""
        return RoaClient(
            self.app,
            self.access_key_id,
            self.secret,
            signer,
            version=self.version,
            action=self.action,
        )

    def with_key(self, access_key_id: str, secret: str) -> RoaClient:
        """Another key, signing the same way."""
        return RoaClient(
            self.app, access_key_id, secret, self.signer, version=self.version, action=self.action
        )

    def headers_for(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        *,
        action: str | None = None,
        version: str | Default | None = Default.SAME,
        extra_headers: dict[str, str] | None = None,
        sign: bool = True,
        body: bytes = b"",
        content_md5: bool = False,
        unsigned: tuple[str, ...] = (),
    ) -> dict[str, str]:
        """The headers the SDK would send, `authorization` included when `sign`.

        A `body` is sent as JSON; `content_md5` adds its MD5 (which ROA HMAC-SHA1 then signs).
        The headers named in `unsigned` are left out of the signature, as if added on the way.
        """
        headers = {
            "host": HOST,
            "x-acs-action": action or self.action,
            "accept": "application/json",
        }
        version = self.version if version is Default.SAME else version
        if version is not None:
            headers["x-acs-version"] = version
        if body:
            headers["content-type"] = JSON
        if content_md5:
            headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324
        nonce = uuid.uuid4().hex
        if self.signer == "acs3":
            headers |= {
                "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "x-acs-signature-nonce": nonce,
                "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
            }
        else:
            headers |= {
                "date": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
                "x-acs-signature-nonce": nonce,
                "x-acs-signature-method": "HMAC-SHA1",
                "x-acs-signature-version": "1.0",
            }
        headers |= extra_headers or {}
        if sign:
            signed = {k: v for k, v in headers.items() if k not in unsigned}
            request = SimpleNamespace(method=method, pathname=path, query=query, headers=signed)
            if self.signer == "acs3":
                headers["authorization"] = Utils.get_authorization(
                    request, ACS3, headers["x-acs-content-sha256"], self.access_key_id, self.secret
                )
            else:
                signature = Utils.get_roasignature(Utils.get_string_to_sign(request), self.secret)
                headers["authorization"] = f"acs {self.access_key_id}:{signature}"
        return headers

    async def call(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        *,
        version: str | Default | None = Default.SAME,
        extra_headers: dict[str, str] | None = None,
        sign: bool = True,
        body: bytes = b"",
        content_md5: bool = False,
    ) -> httpx.Response:
        """`method path?query` with `body`, `path` already encoded as the SDK sends it."""
        pairs = {k: str(v) for k, v in (query or {}).items() if v is not None}
        headers = self.headers_for(
            method,
            path,
            pairs,
            version=version,
            extra_headers=extra_headers,
            sign=sign,
            body=body,
            content_md5=content_md5,
        )
        return await send(self.app, method, path, urlencode(pairs), headers, body)

    async def ok(self, method: str, path: str, query: dict[str, Any] | None = None) -> Any:
        """A call that must succeed; its JSON body (with the request id checked)."""
        response = await self.call(method, path, query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["requestId"] == response.headers["x-request-id"]
        return body
