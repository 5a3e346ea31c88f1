"""Opening a secret at rest for a request: a value the master keys cannot open is refused
with a clear 503 (the operator must give the key it was sealed with), never a 500."""

from __future__ import annotations

import re

from modelplane.domain.errors import Unavailable
from modelplane.security.secretbox import SecretBox, SecretBoxError

# `mp1.<key id>.<data>`; a key id is 12 hex characters (security.secretbox.key_id_of).
# Anything else is not shown in messages: it might be a secret stored unsealed.
SEALED_FORM = re.compile(r"mp1\.([0-9a-f]{12})\.")


def sealed_key_id(sealed: str) -> str | None:
    """The key id a value names, or None when it is not in the sealed form."""
    form = SEALED_FORM.match(sealed)
    return form.group(1) if form else None


def why_unopenable(secrets: SecretBox, sealed: str, *, aad: str) -> str | None:
    """None when `sealed` opens with the configured keys, else why not (never the secret)."""
    if sealed_key_id(sealed) is None:
        return "not a sealed value"
    try:
        secrets.open(sealed, aad=aad)
    except SecretBoxError as exc:  # its message names at most the (checked) key id
        return str(exc)
    except ValueError:  # the data part is not base64
        return "the sealed data is malformed"
    return None


def open_sealed(secrets: SecretBox, sealed: str, *, aad: str, what: str) -> bytes:
    """Decrypt `sealed`; `Unavailable` naming `what` (e.g. "access key 'X'") when the
    configured master keys cannot open it."""
    try:
        return secrets.open(sealed, aad=aad)
    except (SecretBoxError, ValueError):
        key_id = sealed_key_id(sealed)
        key = f"key id {key_id!r}" if key_id else "not in the sealed form"
        raise Unavailable(
            f"the stored secret of {what} cannot be decrypted with this server's master keys "
            f"({key}); the operator must give the key it was sealed with "
            "(MODELPLANE_PREVIOUS_SECRET_KEYS)"
        ) from None
