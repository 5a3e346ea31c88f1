"""The settings object refuses unsafe values and wires the key ring."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from modelplane.app import secret_box
from modelplane.security.secretbox import SecretBox, new_master_key_text, parse_master_key
from modelplane.settings import KeyVariables, Settings


def test_defaults_are_embedded_sqlite_on_loopback_8080(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODELPLANE_DATABASE_URL", "MODELPLANE_HOST", "MODELPLANE_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///./modelplane.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.effective_key_file == Path("modelplane.db.key")


def test_postgres_without_a_master_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="MODELPLANE_SECRET_KEY"):
        Settings(database_url="postgresql://postgres@127.0.0.1/x")


def test_weak_bootstrap_token_and_half_an_access_key_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 20"):
        Settings(bootstrap_token="short")
    with pytest.raises(ValidationError, match="set together"):
        Settings(bootstrap_access_key_id="MPAKX")


def test_previous_keys_from_the_environment_still_open_old_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = new_master_key_text(), new_master_key_text()
    sealed = SecretBox(parse_master_key(old)).seal(b"v", aad="a")
    monkeypatch.setenv("MODELPLANE_SECRET_KEY", new)
    monkeypatch.setenv("MODELPLANE_PREVIOUS_SECRET_KEYS", f'["{old}"]')
    box = secret_box(Settings())
    assert box.open(sealed, aad="a") == b"v"
    assert box.key_id == SecretBox(parse_master_key(new)).key_id


def test_connection_and_watch_limits_have_safe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEAD_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS", "KEEP_ALIVE_TIMEOUT_SECONDS"):
        monkeypatch.delenv(f"MODELPLANE_{name}", raising=False)
    for name in ("MAX_CONNECTIONS", "MAX_WATCHES", "MAX_WATCHES_PER_PRINCIPAL"):
        monkeypatch.delenv(f"MODELPLANE_{name}", raising=False)
    settings = Settings()
    timeouts = (
        settings.head_timeout_seconds,
        settings.body_timeout_seconds,
        settings.keep_alive_timeout_seconds,
    )
    assert timeouts == (10.0, 30.0, 5)
    limits = (settings.max_connections, settings.max_watches, settings.max_watches_per_principal)
    assert limits == (1000, 800, 100)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"MODELPLANE_HEAD_TIMEOUT_SECONDS": "0"}, "greater than 0"),
        ({"MODELPLANE_BODY_TIMEOUT_SECONDS": "inf"}, "finite"),
        ({"MODELPLANE_BODY_TIMEOUT_SECONDS": "3601"}, "less than or equal to 3600"),
        ({"MODELPLANE_KEEP_ALIVE_TIMEOUT_SECONDS": "0"}, "greater than or equal to 1"),
        ({"MODELPLANE_MAX_CONNECTIONS": "0"}, "greater than or equal to 1"),
        ({"MODELPLANE_MAX_WATCHES_PER_PRINCIPAL": "0"}, "greater than or equal to 1"),
        (
            {"MODELPLANE_MAX_WATCHES": "10", "MODELPLANE_MAX_WATCHES_PER_PRINCIPAL": "11"},
            "MAX_WATCHES_PER_PRINCIPAL must not exceed MODELPLANE_MAX_WATCHES",
        ),
        (
            {"MODELPLANE_MAX_CONNECTIONS": "800"},
            "MODELPLANE_MAX_WATCHES must be below MODELPLANE_MAX_CONNECTIONS",
        ),
    ],
)
def test_unsafe_connection_and_watch_limits_are_refused(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_the_render_limit_is_1_mib_by_default_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELPLANE_MAX_RENDERED_BYTES", raising=False)
    assert Settings().max_rendered_bytes == 1024 * 1024
    monkeypatch.setenv("MODELPLANE_MAX_RENDERED_BYTES", "65536")
    assert Settings().max_rendered_bytes == 65536
    for unsafe in ("0", "1023", str(16 * 1024 * 1024 + 1)):
        monkeypatch.setenv("MODELPLANE_MAX_RENDERED_BYTES", unsafe)
        with pytest.raises(ValidationError, match="max_rendered_bytes"):
            Settings()


def test_a_master_key_that_is_not_32_bytes_is_refused_naming_the_setting() -> None:
    good = new_master_key_text()
    assert Settings(secret_key=good, previous_secret_keys=[good]).secret_key is not None
    with pytest.raises(ValidationError, match=r"secret_key\n.*a master key is 32 bytes"):
        Settings(secret_key="0123456789abcdef")
    with pytest.raises(ValidationError, match="key 2 of 2: a master key is 32 bytes"):
        Settings(previous_secret_keys=[good, "not a key"])


def test_the_gateway_reads_only_the_listed_key_variables_and_never_modelplanes_own() -> None:
    environ = {
        "OPENAI_API_KEY": "sk-a",
        "ANTHROPIC_API_KEY": "sk-b",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "MODELPLANE_SECRET_KEY": "master",
    }
    listed = KeyVariables("OPENAI_API_KEY, ANTHROPIC_*", environ)
    assert dict(listed) == {"OPENAI_API_KEY": "sk-a", "ANTHROPIC_API_KEY": "sk-b"}
    assert listed.get("AWS_SECRET_ACCESS_KEY") is None
    assert KeyVariables("*", environ).get("MODELPLANE_SECRET_KEY") is None
    assert "AWS_SECRET_ACCESS_KEY" in KeyVariables("*", environ)
    assert dict(KeyVariables("", environ)) == {}


@pytest.mark.parametrize("listed", ["MODELPLANE_SECRET_KEY", "modelplane_*", "OPENAI-KEY", "A*B"])
def test_gateway_env_keys_refuses_modelplanes_own_variables_and_bad_names(listed: str) -> None:
    with pytest.raises(ValidationError, match="gateway_env_keys"):
        Settings(gateway_env_keys=listed)
