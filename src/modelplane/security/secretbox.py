"""Encryption at rest: AES-256-GCM under a versioned key id.

Sealed form: `mp1.<key id>.<base64url(nonce || ciphertext+tag)>`. The associated data
binds a ciphertext to the row it belongs to, so it cannot be moved to another row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PREFIX = "mp1"
_NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A sealed value cannot be opened (unknown key id, tampering, wrong row)."""


def parse_master_key(text: str) -> bytes:
    """Accept 64 hex characters or base64 (standard or url-safe) of 32 bytes."""
    text = text.strip()
    try:
        if len(text) == 64:
            return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("a master key is 32 bytes, given as 64 hex or base64 characters")
    return raw


def new_master_key_text() -> str:
    """A fresh random master key, base64url encoded."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, creating it with mode 0600 when it does not exist yet."""
    try:
        return parse_master_key(path.read_text())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    text = new_master_key_text()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another replica created it first
        return parse_master_key(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    return parse_master_key(text)


def key_id_of(master_key: bytes) -> str:
    """A short public id of a master key (not reversible)."""
    return hashlib.sha256(b"modelplane-key-id:" + master_key).hexdigest()[:12]


def _data_key(master_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"modelplane secretbox v1"
    ).derive(master_key)


class SecretBox:
    """Seals and opens secrets; knows the current key and older ones for reading."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self.key_id = key_id_of(current)
        self._current = AESGCM(_data_key(current))
        self._keys = {key_id_of(k): AESGCM(_data_key(k)) for k in (*previous, current)}

    def seal(self, plaintext: bytes, *, aad: str) -> str:
        """Encrypt under the current key; `aad` names the owning row."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        body = self._current.encrypt(nonce, plaintext, aad.encode())
        encoded = base64.urlsafe_b64encode(nonce + body).decode().rstrip("=")
        return f"{_PREFIX}.{self.key_id}.{encoded}"

    def open(self, sealed: str, *, aad: str) -> bytes:
        """Decrypt a value sealed by `seal` under any known key."""
        try:
            prefix, key_id, encoded = sealed.split(".", 2)
        except ValueError:
            raise SecretBoxError("not a sealed value") from None
        aead = self._keys.get(key_id)
        if prefix != _PREFIX or aead is None:
            raise SecretBoxError(f"sealed under unknown key id {key_id!r}")
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        try:
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad.encode())
        except Exception as exc:  # cryptography raises InvalidTag without a message
            raise SecretBoxError("sealed value failed authentication") from exc
