"""The rules of an API key's scope: which names and routes it allows, when it expires,
what a request may ask for, and what a member's key may issue."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from modelplane.cli.keys import expiry_ms
from modelplane.cli.remote import CommandError
from modelplane.domain.errors import PermissionDenied, ViolationCollector
from modelplane.domain.gateway import ApiFamily, Route, Target
from modelplane.domain.key_scopes import (
    MODELS_MAX,
    UNSCOPED,
    KeyScope,
    ScopedModel,
    check_expiry,
    check_model_names,
)

NOW = 1_800_000_000_000


def route(name: str, *members: str) -> Route:
    targets = tuple(Target(m, ApiFamily.OPENAI, "http://up.test/v1", "m") for m in members)
    return Route(name, targets)


SCOPE = KeyScope(
    models=(ScopedModel("apps", "mt-apps"), ScopedModel("team/gpt"), ScopedModel("conn-model"))
)


def test_an_unscoped_key_allows_every_name_and_limits_nothing() -> None:
    assert not UNSCOPED.limited
    assert UNSCOPED.allows("anything", None)
    assert UNSCOPED.allows_route(route("x", "llm/1"))
    UNSCOPED.require_management()
    assert not UNSCOPED.expired(NOW)


def test_a_group_covers_every_name_through_it_and_other_names_only_as_listed() -> None:
    assert SCOPE.limited
    assert SCOPE.allows("apps-renamed/provider/code", "mt-apps")
    assert SCOPE.allows("team/gpt", "mt-team") and not SCOPE.allows("team", "mt-team")
    assert SCOPE.allows("conn-model", None) and not SCOPE.allows("other-model", None)
    # A group's name alone is no connection's name: "apps" as a connection identifier.
    assert not SCOPE.allows("apps", None)


def test_a_route_is_allowed_by_its_name_or_when_every_member_is_in_a_listed_group() -> None:
    assert SCOPE.allows_route(route("mt-apps/p/code", "mt-apps/p/code", "mt-apps/q/code"))
    assert SCOPE.allows_route(route("conn-model", "llm/1", "llm/2"))
    assert not SCOPE.allows_route(route("other", "llm/3"))
    assert not SCOPE.allows_route(route("team", "mt-team/p/gpt"))
    assert not KeyScope(models=(ScopedModel("x"),)).allows_route(route("y", "mt-y/p/c"))
    with pytest.raises(PermissionDenied, match="may not call model 'other': its scope lists 3"):
        SCOPE.require_route(route("other", "llm/3"))


def test_a_key_expires_at_its_expiry_and_says_when() -> None:
    scope = KeyScope(expires_at=NOW)
    assert not scope.expired(NOW - 1) and scope.expired(NOW)
    assert scope.expiry_message() == "the API key expired at 2027-01-15T08:00:00+00:00 (expiresAt)"


def test_a_gateway_only_key_may_not_manage() -> None:
    with pytest.raises(PermissionDenied, match=r"limited to the gateway \(gatewayOnly\)"):
        KeyScope(gateway_only=True).require_management()


@pytest.mark.parametrize(
    ("models", "field", "rule"),
    [
        ([], "models", "at least one"),
        ([f"m{i}" for i in range(MODELS_MAX + 1)], "models", f"at most {MODELS_MAX}"),
        ([""], "models.0", "must not be empty"),
        (["ok", "a\tb"], "models.1", "no spaces"),
        (["/x"], "models.0", "no empty part"),
        (["x/"], "models.0", "no empty part"),
        (["a" * 257], "models.0", "at most 256"),
        (["a", "b", "a"], "models.2", "listed twice"),
    ],
)
def test_a_bad_model_list_names_the_entry_and_the_rule(
    models: list[str], field: str, rule: str
) -> None:
    errors = ViolationCollector()
    check_model_names(models, errors)
    assert [(v.field, rule in v.rule) for v in errors.violations] == [(field, True)]


def test_good_model_lists_and_expiries_pass() -> None:
    errors = ViolationCollector()
    check_model_names(None, errors)
    check_model_names(["apps", "apps/code", "apps/p/code", "meta/llama-3", "a" * 256], errors)
    check_expiry(None, NOW, errors)
    check_expiry(NOW + 1, NOW, errors)
    check_expiry(NOW + 3650 * 86_400_000, NOW, errors)
    assert errors.violations == []


@pytest.mark.parametrize(
    ("expires_at", "rule"),
    [(NOW, "must be in the future"), (NOW + 3650 * 86_400_000 + 1, "at most 3650 days")],
)
def test_an_expiry_now_or_too_far_is_refused(expires_at: int, rule: str) -> None:
    errors = ViolationCollector()
    check_expiry(expires_at, NOW, errors)
    [violation] = errors.violations
    assert violation.field == "expiresAt" and rule in violation.rule


def test_a_members_new_key_stays_within_the_key_it_calls_with() -> None:
    issuer = KeyScope(models=(ScopedModel("apps", "mt-apps"), ScopedModel("conn")), expires_at=NOW)
    within = KeyScope(models=(ScopedModel("apps/code"), ScopedModel("conn")), expires_at=NOW)
    within.require_within(issuer, ["mt-apps", None])
    UNSCOPED.require_within(UNSCOPED, [])
    cases: list[tuple[KeyScope, list[str | None], str]] = [
        (KeyScope(expires_at=NOW), [], "models: required"),
        (KeyScope(models=(ScopedModel("other"),), expires_at=NOW), [None], "models.0"),
        (KeyScope(models=(ScopedModel("t", "mt-t"),), expires_at=NOW), ["mt-t"], "models.0"),
        (KeyScope(models=(ScopedModel("conn"),)), [None], "expiresAt: required"),
        (KeyScope(models=(ScopedModel("conn"),), expires_at=NOW + 1), [None], "at most"),
    ]
    for scope, groups, message in cases:
        with pytest.raises(PermissionDenied, match=re.escape(message)):
            scope.require_within(issuer, groups)
    # A whole group is wider than one of its names.
    narrow = KeyScope(models=(ScopedModel("apps/code"),))
    with pytest.raises(PermissionDenied, match=r"models\.0"):
        KeyScope(models=(ScopedModel("apps", "mt-apps"),)).require_within(narrow, ["mt-apps"])


def test_the_cli_reads_an_expiry_as_a_duration_or_an_iso_time() -> None:
    before = time.time_ns() // 1_000_000
    in_30_days = expiry_ms("30d", None)
    assert in_30_days is not None
    assert before + 30 * 86_400_000 <= in_30_days <= before + 30 * 86_400_000 + 5_000
    moment = datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert expiry_ms(None, "2027-01-31T12:00:00Z") == moment.timestamp() * 1000
    local = datetime(2027, 1, 31, 12).astimezone()  # without an offset: local time
    assert expiry_ms(None, "2027-01-31T12:00:00") == local.timestamp() * 1000
    assert expiry_ms(None, "2027-01-31T14:00:00+02:00") == moment.timestamp() * 1000
    assert expiry_ms(None, None) is None
    for expires_in, expires_at, message in (
        ("30", None, "--expires-in takes"),
        ("0d", None, "--expires-in takes"),
        ("3y", None, "--expires-in takes"),
        (None, "next week", "--expires-at takes"),
        ("1d", "2027-01-01", "not both"),
    ):
        with pytest.raises(CommandError, match=message):
            expiry_ms(expires_in, expires_at)
