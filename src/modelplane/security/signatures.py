"""Alibaba Cloud request signatures: ACS3-HMAC-SHA256 (the SDK default) and RPC HMAC-SHA1.

Pure functions over a `SignedRequest`; the faces build one from the wire, the service
looks up the secret of the claimed access key, `verify` decides. Replayed nonces are
refused by the store, which remembers them until they are too old to pass `verify`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal
from urllib.parse import quote, quote_plus

ACS3: Final = "ACS3-HMAC-SHA256"
RPC_SHA1: Final = "HMAC-SHA1"
MAX_SKEW_SECONDS = 15 * 60
Scheme = Literal["ACS3-HMAC-SHA256", "HMAC-SHA1"]


class SignatureError(Exception):
    """A request whose signature cannot be accepted; `code` is the Alibaba error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What signatures cover, as received.

    `raw_path` is the path still percent-encoded as sent; `query` and `form` are decoded
    pairs; `headers` maps lower-case names to their values.
    """

    method: str
    raw_path: str
    query: Sequence[tuple[str, str]]
    headers: dict[str, list[str]]
    body: bytes = b""
    form: Sequence[tuple[str, str]] = ()

    def header(self, name: str) -> str | None:
        """The first value of a header, if present."""
        values = self.headers.get(name)
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class Claim:
    """Who says they signed the request, how, when, and with which nonce."""

    scheme: Scheme
    access_key_id: str
    signature: str
    signed_headers: tuple[str, ...]
    timestamp: str | None
    nonce: str | None


def _encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def read_claim(request: SignedRequest) -> Claim:
    """Find the signature scheme and its parameters, or raise `SignatureError`."""
    authorization = request.header("authorization")
    if authorization is not None and authorization.startswith(ACS3 + " "):
        fields = {}
        for part in authorization[len(ACS3) + 1 :].split(","):
            key, sep, value = part.strip().partition("=")
            if sep:
                fields[key] = value
        if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
            raise SignatureError(
                "IncompleteSignature",
                "Authorization needs Credential, SignedHeaders and Signature",
            )
        return Claim(
            scheme=ACS3,
            access_key_id=fields["Credential"],
            signature=fields["Signature"],
            signed_headers=tuple(h for h in fields["SignedHeaders"].split(";") if h),
            timestamp=request.header("x-acs-date"),
            nonce=request.header("x-acs-signature-nonce"),
        )
    params = dict(request.query)
    if "Signature" in params:
        method = params.get("SignatureMethod", RPC_SHA1)
        if method != RPC_SHA1:
            raise SignatureError("InvalidParameter", f"SignatureMethod {method!r} is not supported")
        if not params.get("AccessKeyId"):
            raise SignatureError("MissingParameter", "AccessKeyId is required")
        return Claim(
            scheme=RPC_SHA1,
            access_key_id=params["AccessKeyId"],
            signature=params["Signature"],
            signed_headers=(),
            timestamp=params.get("Timestamp"),
            nonce=params.get("SignatureNonce"),
        )
    raise SignatureError(
        "MissingParameter", "the request is not signed (no ACS3 Authorization, no Signature)"
    )


def acs3_canonical_request(request: SignedRequest, signed_headers: Sequence[str]) -> str:
    """The canonical request of ACS3-HMAC-SHA256, as the SDK builds it."""
    pairs = sorted((k, _encode(v)) for k, v in request.query)
    query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = []
    for name in sorted(h.lower() for h in signed_headers):
        values = sorted(v.strip() for v in request.headers.get(name, []))
        lines.append(f"{name}:{','.join(values)}\n")
    payload = request.header("x-acs-content-sha256") or hashlib.sha256(request.body).hexdigest()
    return (
        f"{request.method.upper()}\n{request.raw_path or '/'}\n{query}\n"
        f"{''.join(lines)}\n{';'.join(sorted(h.lower() for h in signed_headers))}\n{payload}"
    )


def acs3_signature(request: SignedRequest, signed_headers: Sequence[str], secret: str) -> str:
    """Hex HMAC-SHA256 over the string to sign."""
    digest = hashlib.sha256(acs3_canonical_request(request, signed_headers).encode()).hexdigest()
    to_sign = f"{ACS3}\n{digest}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def rpc_signature(request: SignedRequest, secret: str) -> str:
    """Base64 HMAC-SHA1 of the RPC scheme over query and form parameters."""
    params = {k: v for k, v in (*request.query, *request.form) if k != "Signature"}
    canonical = "&".join(f"{_encode(k)}={_encode(params[k])}" for k in sorted(params))
    to_sign = f"{request.method.upper()}&%2F&{quote_plus(canonical, safe='~')}"
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def parse_timestamp(text: str | None) -> datetime:
    """An ISO 8601 UTC time such as `2026-11-21T10:00:00Z`."""
    if not text:
        raise SignatureError(
            "MissingParameter", "the request date (x-acs-date/Timestamp) is missing"
        )
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError(
            "InvalidTimeStamp.Format", f"{text!r} is not an ISO 8601 time"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def verify(
    request: SignedRequest,
    claim: Claim,
    secret: str,
    *,
    now: datetime,
    max_skew_seconds: int = MAX_SKEW_SECONDS,
) -> datetime:
    """Check the signature, the body hash and the date window; return the request time."""
    if claim.scheme == ACS3:
        required = {"host", "x-acs-date", "x-acs-signature-nonce"}
        missing = required - {h.lower() for h in claim.signed_headers}
        if missing:
            raise SignatureError(
                "IncompleteSignature", f"SignedHeaders must include {sorted(missing)}"
            )
        declared = request.header("x-acs-content-sha256")
        if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
            raise SignatureError(
                "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the body"
            )
        expected = acs3_signature(request, claim.signed_headers, secret)
    else:
        expected = rpc_signature(request, secret)
    if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
        raise SignatureError(
            "SignatureDoesNotMatch", "the request signature does not match the computed one"
        )
    if not claim.nonce:
        raise SignatureError("MissingParameter", "the signature nonce is missing")
    signed_at = parse_timestamp(claim.timestamp)
    if abs((now - signed_at).total_seconds()) > max_skew_seconds:
        raise SignatureError(
            "InvalidTimeStamp.Expired",
            f"the request time {claim.timestamp} is more than {max_skew_seconds // 60} minutes "
            "from the server's",
        )
    return signed_at
