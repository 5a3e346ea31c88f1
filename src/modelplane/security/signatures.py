"""Alibaba Cloud request signatures: ACS3-HMAC-SHA256 (the SDK default) and the older HMAC-SHA1
ones, RPC (`Signature` in the query) and ROA (`Authorization: acs <AccessKeyId>:<Signature>`).

Pure functions over a `SignedRequest`; the faces build one from the wire, the service
looks up the secret of the claimed access key, `verify` decides. Replayed nonces are
refused by the store, which remembers them until they are too old to pass `verify`.

What each scheme covers (a face may act only on that, see `Claim.covers_header`):

- ACS3-HMAC-SHA256: the method, the path as sent, the query (names and values encoded),
  the headers named in `SignedHeaders` and the body's SHA-256. `SignedHeaders` must name
  `host`, `x-acs-date`, `x-acs-signature-nonce`, and every other `x-acs-*` header and
  `content-type` that is sent (as the SDKs do).
- RPC HMAC-SHA1: the method and the query and form parameters; no header, and the path
  only as `/` (its string to sign holds `%2F`), so it is good for `/` alone.
- ROA HMAC-SHA1 (what the SDK sends with `Config(signature_algorithm='v2')` to an ROA
  API): the method, the `accept`, `content-md5`, `content-type` and `date` headers,
  every `x-acs-*` header, the path as sent and the query (names encoded, values as
  decoded: the SDK's form); the body only when the client sends `content-md5` (then
  checked here). A face that reads the body of such a request must keep that in mind
  (see `Claim.covers_body`).

A header that a signature covers, or that says who signed, when or how, may be sent once
only (`SINGLE_HEADERS`, every `x-acs-*`): the schemes join repeated values with commas,
so two values and one value holding a comma would otherwise sign alike, and which of
them counts (the nonce, the action) would be the server's guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final, Literal
from urllib.parse import quote, quote_plus

ACS3: Final = "ACS3-HMAC-SHA256"
RPC_SHA1: Final = "HMAC-SHA1"
ROA_SHA1: Final = "ROA-HMAC-SHA1"
ROA_PREFIX: Final = "acs "
MAX_SKEW_SECONDS = 15 * 60
ACS3_REQUIRED = frozenset({"host", "x-acs-date", "x-acs-signature-nonce"})
ROA_SIGNED_HEADERS = frozenset({"accept", "content-md5", "content-type", "date"})
SINGLE_HEADERS = frozenset({"authorization", "host", "content-type", "content-md5", "date"})
Scheme = Literal["ACS3-HMAC-SHA256", "HMAC-SHA1", "ROA-HMAC-SHA1"]


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

    def covers_body(self, request: SignedRequest) -> bool:
        """Whether a valid signature of this claim vouches for the request body."""
        return self.scheme != ROA_SHA1 or request.header("content-md5") is not None

    def covers_header(self, name: str) -> bool:
        """Whether a valid signature of this claim vouches for the header `name` (lower-case)."""
        if self.scheme == ACS3:
            return name in {h.lower() for h in self.signed_headers}
        if self.scheme == ROA_SHA1:
            return name.startswith("x-acs-") or name in ROA_SIGNED_HEADERS
        return False


def _encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def _refuse_repeated_headers(request: SignedRequest) -> None:
    for name, values in request.headers.items():
        if len(values) > 1 and (name in SINGLE_HEADERS or name.startswith("x-acs-")):
            raise SignatureError(
                "InvalidParameter",
                f"the header {name[:64]} is sent {len(values)} times; send it once",
            )


def read_claim(request: SignedRequest) -> Claim:
    """Find the signature scheme and its parameters, or raise `SignatureError`.

    A header of `SINGLE_HEADERS` or `x-acs-*` sent more than once is refused first.
    """
    _refuse_repeated_headers(request)
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
    if authorization is not None and authorization.startswith(ROA_PREFIX):
        access_key_id, sep, signature = authorization[len(ROA_PREFIX) :].strip().partition(":")
        if not sep or not access_key_id or not signature:
            raise SignatureError(
                "IncompleteSignature", "Authorization must be `acs <AccessKeyId>:<Signature>`"
            )
        method = request.header("x-acs-signature-method") or RPC_SHA1
        if method != RPC_SHA1:
            raise SignatureError(
                "InvalidParameter", f"x-acs-signature-method {method!r} is not supported"
            )
        return Claim(
            scheme=ROA_SHA1,
            access_key_id=access_key_id,
            signature=signature,
            signed_headers=(),
            timestamp=request.header("date"),
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
        "MissingParameter",
        "the request is not signed (no ACS3 or acs Authorization, no Signature parameter)",
    )


def acs3_canonical_request(request: SignedRequest, signed_headers: Sequence[str]) -> str:
    """The canonical request of ACS3-HMAC-SHA256, as the SDK builds it.

    Query names are encoded as well as values (the SDK's names need no encoding), so that
    a name holding `=` or `&` cannot pass for several parameters.
    """
    pairs = [(_encode(k), _encode(v)) for k, v in sorted(request.query)]
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


def roa_string_to_sign(request: SignedRequest) -> str:
    """The string to sign of ROA HMAC-SHA1, as the SDK builds it (`Utils.get_string_to_sign`).

    The method, then `accept`, `content-md5`, `content-type` and `date` (empty when not
    sent), one line each; every `x-acs-*` header as `name:value` lines sorted by name; and
    the path as sent followed by the query sorted by name (`k=v`, or `k` alone for an empty
    value). Values are decoded, as the SDK signs them; names are encoded (the SDK's need no
    encoding), so that a name holding `=` or `&` cannot pass for several parameters.
    """

    def value(name: str) -> str:
        return ",".join(request.headers.get(name, []))

    head = "".join(
        f"{part}\n"
        for part in (
            request.method.upper(),
            value("accept"),
            value("content-md5"),
            value("content-type"),
            value("date"),
        )
    )
    acs = "".join(
        f"{name}:{value(name)}\n" for name in sorted(request.headers) if name.startswith("x-acs-")
    )
    resource = request.raw_path or "/"
    params = dict(request.query)
    if params:
        resource += "?" + "&".join(
            f"{_encode(k)}={params[k]}" if params[k] else _encode(k) for k in sorted(params)
        )
    return head + acs + resource


def roa_signature(request: SignedRequest, secret: str) -> str:
    """Base64 HMAC-SHA1 of the ROA scheme over `roa_string_to_sign`."""
    mac = hmac.new(secret.encode(), roa_string_to_sign(request).encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def parse_timestamp(text: str | None) -> datetime:
    """An ISO 8601 UTC time such as `2026-11-21T10:00:00Z`, or an HTTP date (ROA's `date`)."""
    if not text:
        raise SignatureError(
            "MissingParameter", "the request date (x-acs-date/Timestamp/date) is missing"
        )
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise SignatureError(
                "InvalidTimeStamp.Format", f"{text[:64]!r} is not an ISO 8601 time or HTTP date"
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
        sent = {h for h in request.headers if h.startswith("x-acs-") or h == "content-type"}
        missing = (ACS3_REQUIRED | sent) - {h.lower() for h in claim.signed_headers}
        if missing:
            raise SignatureError(
                "IncompleteSignature",
                f"SignedHeaders must include {sorted(missing)}: host, x-acs-date, "
                "x-acs-signature-nonce, and every x-acs-* header and content-type sent",
            )
        declared = request.header("x-acs-content-sha256")
        if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
            raise SignatureError(
                "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the body"
            )
        expected = acs3_signature(request, claim.signed_headers, secret)
    elif claim.scheme == ROA_SHA1:
        declared = request.header("content-md5")
        actual = base64.b64encode(hashlib.md5(request.body).digest()).decode()  # noqa: S324
        if declared is not None and declared != actual:
            raise SignatureError("SignatureDoesNotMatch", "content-md5 does not match the body")
        expected = roa_signature(request, secret)
    else:
        if (request.raw_path or "/") != "/":
            raise SignatureError(
                "IncompleteSignature",
                "an HMAC-SHA1 Signature parameter covers the path / only: sign requests to "
                "other paths with ACS3-HMAC-SHA256 or ROA HMAC-SHA1",
            )
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
