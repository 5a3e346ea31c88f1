"""The rules of a runtime's config through the gateway: where the gateway is, the names and
the scope of the key a binding keeps, who may be handed it, and when it no longer fits."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from modelplane.domain.catalog import (
    BatchItem,
    LlmTemplate,
    ModelGroup,
    ProviderConfig,
    ProviderTemplate,
    new_group,
    new_provider,
    plan_batch,
)
from modelplane.domain.errors import FailedPrecondition, PermissionDenied
from modelplane.domain.gateway import ApiFamily
from modelplane.domain.key_scopes import UNSCOPED, KeyScope, ScopedModel
from modelplane.domain.principals import Principal, Role
from modelplane.domain.runtimes import (
    KEY_LABEL_MAX,
    RuntimeKey,
    gateway_access,
    gateway_base,
    gateway_scope,
    key_label,
    require_may_receive,
)
from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings

Providers = list[tuple[ProviderTemplate, list[LlmTemplate]]]
ADMIN = Principal("admin-id", "admin", Role.ADMIN, 1)
OWNER = Principal("owner-id", "owner", Role.MEMBER, 1)


def group_with_models() -> tuple[ModelGroup, Providers]:
    group = new_group(owner_id=OWNER.principal_id, name="team", now_ms=1)
    offered: Providers = []
    for name, api in (("provider-acme", "openai"), ("provider-claude", "anthropic")):
        provider = new_provider(
            group=group,
            owner_id=OWNER.principal_id,
            name=name,
            provider_name=name,
            provider_type="Custom",
            config=ProviderConfig(base_url="https://api.test/v1", api=api, api_key="k"),
            now_ms=1,
        )
        items = [BatchItem("a", is_default_model=name == "provider-acme"), BatchItem("b")]
        plan = plan_batch(items, provider=provider, existing_codes=set(), now_ms=1)
        offered.append((provider, plan.create))
    return group.with_default("provider-acme/a", now_ms=2), offered


def test_the_gateway_is_where_the_public_url_says_without_a_trailing_slash() -> None:
    assert gateway_base("https://mp.example.com/base/") == "https://mp.example.com/base"
    with pytest.raises(FailedPrecondition) as refused:
        gateway_base(None)
    assert "MODELPLANE_PUBLIC_URL" in str(refused.value)


def test_a_runtime_calls_its_groups_models_by_their_gateway_names() -> None:
    group, offered = group_with_models()
    access = gateway_access("https://mp.test", group, offered, ("key-id", "mp_token"))
    gid = group.model_template_id
    assert access.openai_base_url == "https://mp.test/openai/v1"
    assert access.anthropic_base_url == "https://mp.test/anthropic"
    assert (access.api_key_id, access.token, access.default_model) == ("key-id", "mp_token", gid)
    assert [(m.name, m.api) for m in access.models] == [
        (f"{gid}/provider-acme/a", ApiFamily.OPENAI),
        (f"{gid}/provider-acme/b", ApiFamily.OPENAI),
        (f"{gid}/provider-claude/a", ApiFamily.ANTHROPIC),
        (f"{gid}/provider-claude/b", ApiFamily.ANTHROPIC),
    ]
    without_default = group.with_default(None, now_ms=3)
    assert gateway_access("https://mp.test", without_default, [], ("k", "t")).default_model is None


def test_a_bindings_key_is_for_the_gateway_and_the_group_only_and_never_expires() -> None:
    scope = gateway_scope("mt-1")
    assert scope == KeyScope(gateway_only=True, models=(ScopedModel("mt-1", "mt-1"),))
    assert scope.allows("mt-1/provider-acme/a", "mt-1")
    assert not scope.allows("mt-2", "mt-2") and not scope.allows("local-model", None)
    assert scope.expires_at is None


def test_a_keys_label_names_the_runtime_within_the_label_limit() -> None:
    assert key_label("Default", "r1") == "runtime Default/r1"
    long = key_label("T" * 64, "r" * 128)
    assert len(long) == KEY_LABEL_MAX and long.endswith("…")


def test_admins_and_members_within_their_key_are_handed_the_key() -> None:
    require_may_receive(ADMIN, KeyScope(models=(ScopedModel("other"),), expires_at=5), "mt-1")
    require_may_receive(OWNER, UNSCOPED, "mt-1")
    require_may_receive(OWNER, KeyScope(models=(ScopedModel("team", "mt-1"),)), "mt-1")


@pytest.mark.parametrize(
    ("scope", "says"),
    [
        (KeyScope(models=(ScopedModel("other-model"),)), "may not call the models of mt-1"),
        (KeyScope(models=(ScopedModel("mt-1/provider-acme/a"),)), "may not call the models"),
        (KeyScope(expires_at=10**13), "expires"),
    ],
)
def test_a_member_whose_key_reaches_less_is_not_handed_the_key(scope: KeyScope, says: str) -> None:
    with pytest.raises(PermissionDenied) as refused:
        require_may_receive(OWNER, scope, "mt-1")
    assert says in str(refused.value)


def test_a_kept_key_stops_fitting_when_revoked_expired_moved_or_owned_by_another() -> None:
    group, _ = group_with_models()
    kept = RuntimeKey(
        api_key_id="k",
        runtime_type="Default",
        runtime_id="r1",
        model_template_id=group.model_template_id,
        token_sealed="mp1.…",
        principal_id=OWNER.principal_id,
        revoked_at=None,
        expires_at=None,
    )
    assert kept.runtime == "Default/r1"
    assert kept.stale(group, now=10) is None
    assert kept.stale(replace(group, model_template_id="mt-other"), now=10) == (
        "the runtime is bound to mt-other now"
    )
    assert replace(kept, revoked_at=5).stale(group, now=10) == "the key was revoked"
    assert replace(kept, expires_at=10).stale(group, now=10) == "the key expired"
    assert replace(kept, principal_id="someone").stale(group, now=10) == (
        "the model group has another owner"
    )


def test_the_public_url_setting_is_an_http_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_master_key_text()
    assert Settings(secret_key=key).public_url is None
    assert Settings(secret_key=key, public_url="").public_url is None
    assert (
        Settings(secret_key=key, public_url="https://mp.test/x/").public_url == "https://mp.test/x"
    )
    monkeypatch.setenv("MODELPLANE_PUBLIC_URL", "http://10.0.0.1:8080")
    assert Settings(secret_key=key).public_url == "http://10.0.0.1:8080"
    for bad in ("mp.test", "ftp://mp.test", "https://u:p@mp.test", "https://mp.test/?a=1"):
        with pytest.raises(ValidationError) as refused:
            Settings(secret_key=key, public_url=bad)
        assert "public_url" in str(refused.value)
        assert "absolute http(s) URL" in str(refused.value)
