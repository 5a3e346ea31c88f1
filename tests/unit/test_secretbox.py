"""AES-256-GCM sealing with key ids."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from modelplane.security.secretbox import (
    SecretBox,
    SecretBoxError,
    load_or_create_key_file,
    new_master_key_text,
    parse_master_key,
)


def box() -> SecretBox:
    return SecretBox(parse_master_key(new_master_key_text()))


def test_seal_and_open_round_trip_without_plaintext_in_the_sealed_form() -> None:
    secrets = box()
    sealed = secrets.seal(b"sk-plain", aad="llms/1/credentials")
    assert b"sk-plain" not in sealed.encode()
    assert sealed.startswith(f"mp1.{secrets.key_id}.")
    assert secrets.open(sealed, aad="llms/1/credentials") == b"sk-plain"


def test_sealing_twice_gives_different_ciphertexts() -> None:
    secrets = box()
    assert secrets.seal(b"x", aad="a") != secrets.seal(b"x", aad="a")


def test_a_ciphertext_moved_to_another_row_does_not_open() -> None:
    secrets = box()
    sealed = secrets.seal(b"x", aad="llms/1/credentials")
    with pytest.raises(SecretBoxError):
        secrets.open(sealed, aad="llms/2/credentials")


def test_tampering_is_detected() -> None:
    secrets = box()
    sealed = secrets.seal(b"secret", aad="a")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SecretBoxError):
        secrets.open(tampered, aad="a")


def test_previous_keys_still_open_old_values_and_unknown_keys_do_not() -> None:
    old_key, new_key = (parse_master_key(new_master_key_text()) for _ in range(2))
    sealed = SecretBox(old_key).seal(b"v", aad="a")
    assert SecretBox(new_key, previous=[old_key]).open(sealed, aad="a") == b"v"
    with pytest.raises(SecretBoxError):
        SecretBox(new_key).open(sealed, aad="a")


def test_master_key_accepts_hex_and_base64_and_refuses_short_keys() -> None:
    raw = os.urandom(32)
    assert parse_master_key(raw.hex()) == raw
    with pytest.raises(ValueError, match="32 bytes"):
        parse_master_key("c2hvcnQ=")


def test_key_file_is_created_with_mode_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "modelplane.db.key"
    first = load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(path) == first
