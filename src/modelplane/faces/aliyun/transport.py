"""The Alibaba Cloud transport shared by the RPC face and the ROA faces.

A request as its signature sees it: the body (read within the app's limit), the headers
by lower-case name, the path still percent-encoded and the query decoded into pairs
(`+` is a space). `authenticate` checks the access-key signature (see
`services/signed_requests.py`) and records who signed. A face takes a setting that
changes what it does from signed input only (`signed_setting`). Signature errors keep
their own Alibaba code on every face, with the same status (`signature_status`).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote_plus

from starlette.types import Scope

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.principals import Principal
from modelplane.domain.text import UTF8_RULE, check_text
from modelplane.security.signatures import SignatureError, SignedRequest, read_claim
from modelplane.services.signed_requests import authenticate_signed

# The credentials are wrong: sending the request again cannot help. Every other signature
# error (MissingParameter, IncompleteSignature, InvalidTimeStamp.*, SignatureNonceUsed,
# InvalidParameter) means the request itself is incomplete, stale or replayed: 400.
SIGNATURE_401 = frozenset({"InvalidAccessKeyId.NotFound", "SignatureDoesNotMatch"})


def signature_status(code: str) -> int:
    """The HTTP status of a signature error with this Alibaba code."""
    return 401 if code in SIGNATURE_401 else 400


def received_headers(scope: Scope) -> dict[str, list[str]]:
    """Header values by lower-case name, in the order sent."""
    headers: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


def first(headers: dict[str, list[str]], name: str) -> str | None:
    """The first value of a header, if sent."""
    values = headers.get(name)
    return values[0] if values else None


def raw_path(scope: Scope) -> str:
    """The path as sent, still percent-encoded, without the query."""
    raw = scope.get("raw_path") or scope["path"].encode()
    return bytes(raw).partition(b"?")[0].decode("latin-1")


def parse_pairs(text: str, where: str) -> list[tuple[str, str]]:
    """Decode `a=1&b=x+y` (a query string or a form body) into pairs, in order; every name
    and value must be UTF-8 text without NUL (`domain/text.py`)."""
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, sep, value = field.partition("=")
        if not sep:
            raise InvalidArgument.of(where, f"malformed: {name[:40]!r} has no '='")
        try:
            key = unquote_plus(name, errors="strict")
        except UnicodeDecodeError:
            raise InvalidArgument.of(where, f"malformed: {name[:40]!r} is not UTF-8") from None
        check_text(key, where)
        try:
            text = unquote_plus(value, errors="strict")
        except UnicodeDecodeError:
            raise InvalidArgument.of(key, UTF8_RULE) from None
        check_text(text, key)
        pairs.append((key, text))
    return pairs


def query_pairs(scope: Scope) -> list[tuple[str, str]]:
    """The decoded pairs of the URL query."""
    return parse_pairs(scope.get("query_string", b"").decode("latin-1"), "Query")


def single_values(*sources: Iterable[tuple[str, str]]) -> dict[str, str]:
    """One value per name from pairs (of the query, of a form, …).

    A name given twice with different values is refused, since either reading would guess
    (and a signature may cover only one of them).
    """
    values: dict[str, str] = {}
    for pairs in sources:
        for name, value in pairs:
            if values.get(name, value) != value:
                raise InvalidArgument.of(name, "given twice with different values")
            values[name] = value
    return values


def signed_request(
    scope: Scope,
    headers: dict[str, list[str]],
    query: list[tuple[str, str]],
    body: bytes,
    form: list[tuple[str, str]] | None = None,
) -> SignedRequest:
    """What the signature of this request covers, as received."""
    return SignedRequest(
        method=scope["method"],
        raw_path=raw_path(scope),
        query=query,
        headers=headers,
        body=body,
        form=form or [],
    )


async def authenticate(
    scope: Scope, request: SignedRequest, *, reads_body: bool = True
) -> Principal:
    """The principal whose access key signed `request` (recorded for the access log).

    A principal over its rate limit gets `ResourceExhausted` (after the signature and
    nonce checks, so only a known principal spends its tokens, and before the nonce is
    kept, so the refused request may be sent again as it is).

    A face that takes parameters from the body (`reads_body`) refuses a signature that
    does not cover it (ROA HMAC-SHA1 without `content-md5`).
    """
    if reads_body and request.body and not read_claim(request).covers_body(request):
        raise SignatureError(
            "IncompleteSignature",
            "this signature does not cover the body: send content-md5 or sign with "
            "ACS3-HMAC-SHA256",
        )
    state = scope["app"].state

    def admit(actor: Principal) -> None:
        scope.setdefault("state", {})["principal_id"] = actor.principal_id
        state.rate_limits.check(actor.principal_id)  # Throttling.User with x-acs-retry-after

    return await authenticate_signed(
        store=state.store, secrets=state.secrets, request=request, admit=admit
    )


def signed_setting(
    request: SignedRequest, header: str, param: str = "", value: str | None = None
) -> str | None:
    """A setting sent as the header `header`, as the signed parameter `param` (`value`), or
    as both; from signed input only.

    Both sent must agree. The header alone counts only when the signature covers it (the
    RPC HMAC-SHA1 signature covers no header): else `IncompleteSignature`.
    """
    sent = first(request.headers, header)
    if sent is None:
        return value
    if value is not None:
        if sent != value:
            raise SignatureError(
                "InvalidParameter",
                f"the header {header} {sent[:64]!r} disagrees with the signed parameter "
                f"{param} {value[:64]!r}",
            )
        return value
    claim = read_claim(request)
    if not claim.covers_header(header):
        alternative = f"send the parameter {param} or " if param else ""
        raise SignatureError(
            "IncompleteSignature",
            f"the header {header} is not covered by the {claim.scheme} signature: "
            f"{alternative}sign it with ACS3-HMAC-SHA256",
        )
    return sent
