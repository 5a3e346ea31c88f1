"""API tokens and access-key pairs: generation and the hash kept in the store."""

from __future__ import annotations

import base64
import hashlib
import secrets

TOKEN_PREFIX = "mp_"  # noqa: S105 - a prefix, not a secret
DISPLAY_PREFIX_LENGTH = 10


def new_api_token() -> str:
    """A fresh API token, shown once to its owner."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token: what the store keeps and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    """The first characters of a token, safe to show in listings."""
    return token[:DISPLAY_PREFIX_LENGTH]


def new_access_key_id() -> str:
    """An access-key id in the style of the Alibaba Cloud ones (`MPAK…`)."""
    return "MPAK" + base64.b32encode(secrets.token_bytes(10)).decode()


def new_access_key_secret() -> str:
    """A fresh access-key secret (30 characters), shown once."""
    return secrets.token_urlsafe(23)[:30]
