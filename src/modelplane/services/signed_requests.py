"""Authenticating requests signed with an access-key pair (the Alibaba faces)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from modelplane.domain.errors import Unauthenticated
from modelplane.domain.principals import Principal
from modelplane.security.secretbox import SecretBox
from modelplane.security.signatures import (
    MAX_SKEW_SECONDS,
    SignatureError,
    SignedRequest,
    read_claim,
    verify,
)
from modelplane.services.clock import now_ms
from modelplane.services.principals import access_key_secret
from modelplane.store.uow import Store

NONCE_MAX = 128
_PURGE_CHANCE = 0.01  # about one request in a hundred clears out expired nonces


async def authenticate_signed(
    *,
    store: Store,
    secrets: SecretBox,
    request: SignedRequest,
    now: datetime | None = None,
    admit: Callable[[Principal], None] | None = None,
) -> Principal:
    """The principal whose active access key signed `request`; else `SignatureError`.

    The nonce is recorded in the store (kept until the request date could no longer pass
    the 15-minute check), so a replay is refused on every replica. `admit` (the rate
    limit) runs once the signature and the nonce are found good, before the nonce is
    kept: a request it refuses keeps no nonce and may be sent again as it is.
    """
    claim = read_claim(request)
    try:
        principal, secret = await access_key_secret(
            store=store, secrets=secrets, access_key_id=claim.access_key_id
        )
    except Unauthenticated:
        raise SignatureError(
            "InvalidAccessKeyId.NotFound", f"access key {claim.access_key_id!r} does not exist"
        ) from None
    verify(request, claim, secret, now=now or datetime.now(UTC))
    nonce = claim.nonce or ""
    if len(nonce) > NONCE_MAX:
        raise SignatureError("InvalidParameter", f"the signature nonce exceeds {NONCE_MAX} chars")
    current = now_ms()
    async with store.writer(invalidates=False) as uow:  # no cached read holds nonces
        if random.random() < _PURGE_CHANCE:  # noqa: S311 - load spreading, not security
            await uow.principals.forget_nonces_before(current)
        fresh = await uow.principals.remember_nonce(
            claim.access_key_id, nonce, expires_at=current + 2 * MAX_SKEW_SECONDS * 1000
        )
        if not fresh:
            raise SignatureError("SignatureNonceUsed", "the signature nonce was used before")
        if admit is not None:
            admit(principal)  # raising here rolls the nonce back
        await uow.commit()
    return principal
