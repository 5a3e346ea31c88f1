"""Principals, limits and API keys in a stack file: every broken rule is refused with its
place named; limits plan as set, update or clear, and a key's scope compares as the
gateway reads it (a group by id or by name is the same group)."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane.client import ApiKey, ModelGroup, Principal, SpendLimits
from modelplane.stack import Plan, StackError, load, parse
from modelplane.stack.changes import Action, Change, FieldDiff
from modelplane.stack.plan_keys import Groups, plan_keys, scope_diffs, shown_models, stack_keys
from modelplane.stack.plan_limits import plan_limits
from modelplane.stack.plan_principals import plan_principals
from modelplane.stack.spec import KeySpec, LimitsSpec, iso_time


def principals(entry: str) -> str:
    return "principals:\n  - " + entry + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (principals("{role: member}"), "principals[0].name: required"),
        (principals("{name: ' '}"), "principals[0].name: must be 1..128 characters"),
        (principals("{name: a, role: owner}"), "principals[0].role: Input should be 'admin' or"),
        (principals("{name: a, key: []}"), "principals[0].key: unknown field"),
        (
            "principals:\n  - {name: a}\n  - {name: a}\n",
            "principals: name 'a' is declared twice",
        ),
        (
            principals("{name: a, limits: {rpm: 0}}"),
            "principals[0].limits.rpm: must be a whole number from 1 to 10000000",
        ),
        (
            principals("{name: a, limits: {tpm: 1.5}}"),
            "principals[0].limits.tpm: must be a whole number from 1 to 10000000000",
        ),
        (
            principals("{name: a, limits: {budget: 5}}"),
            "principals[0].limits: budget and period go together",
        ),
        (
            principals("{name: a, limits: {budget: 0.0000000001, period: day}}"),
            "principals[0].limits.budget: must be an amount of money above 0 and at most "
            "1000000, with at most 9 decimals",
        ),
        (
            principals("{name: a, limits: {budget: 5, period: week}}"),
            "principals[0].limits.period: Input should be 'day' or 'month'",
        ),
        (
            principals("{name: a, limits: {rpm: 5, burst: 2}}"),
            "principals[0].limits.burst: unknown field",
        ),
        (
            principals("{name: a, apiKeys: [{gatewayOnly: true}]}"),
            "principals[0].apiKeys[0].label: required",
        ),
        (
            principals("{name: a, apiKeys: [{label: app}, {label: b}, {label: app}]}"),
            "principals[0].apiKeys: label 'app' is declared twice",
        ),
        (
            principals("{name: a, apiKeys: [{label: 'runtime Default/r1'}]}"),
            "principals[0].apiKeys[0].label: a label starting with 'runtime ' names a key the "
            "server keeps for a runtime binding",
        ),
        (
            principals("{name: a, apiKeys: [{label: app, models: []}]}"),
            "principals[0].apiKeys[0].models: must list 1..100 model names or groups",
        ),
        (
            principals("{name: a, apiKeys: [{label: app, models: [m, m]}]}"),
            "principals[0].apiKeys[0].models: a model is listed twice",
        ),
        (
            principals("{name: a, apiKeys: [{label: app, expiresAt: soon}]}"),
            "principals[0].apiKeys[0].expiresAt: must be an ISO 8601 time such as",
        ),
        (
            principals("{name: a, apiKeys: [{label: app, expiresAt: 1900000000000}]}"),
            "principals[0].apiKeys[0].expiresAt: must be an ISO 8601 time such as",
        ),
        (
            principals("{name: a, apiKeys: [{label: app, limits: {rpm: -1}}]}"),
            "principals[0].apiKeys[0].limits.rpm: must be a whole number",
        ),
        (
            principals("{name: a, apiKeys: [{label: app, token: mp_x}]}"),
            "principals[0].apiKeys[0].token: unknown field",
        ),
    ],
)
def test_a_bad_principals_section_is_refused_with_the_place_named(text: str, message: str) -> None:
    with pytest.raises(StackError) as caught:
        load(text)
    assert message in str(caught.value)


def test_an_expiry_is_a_utc_time_however_it_is_written() -> None:
    at = 1_801_828_800_000  # 2027-02-05T12:00:00Z
    for written in ("2027-02-05T12:00:00Z", "'2027-02-05T12:00:00Z'", "2027-02-05T14:00:00+02:00"):
        (principal,) = load(
            principals(f"{{name: a, apiKeys: [{{label: k, expiresAt: {written}}}]}}")
        ).principals
        assert principal.api_keys[0].expires_at_ms == at
    (principal,) = load(
        principals("{name: a, apiKeys: [{label: k, expiresAt: 2027-02-05}]}")
    ).principals
    assert principal.api_keys[0].expires_at_ms == at - 12 * 3_600_000
    assert iso_time(at) == "2027-02-05T12:00:00Z"
    assert iso_time(at + 250) == "2027-02-05T12:00:00.250Z"


def limits(**fields: Any) -> LimitsSpec:
    return LimitsSpec.model_validate(fields)


def stored(**fields: Any) -> SpendLimits:
    return SpendLimits.model_validate(fields)


def planned(current: SpendLimits | None, spec: LimitsSpec | None, *, prune: bool = False) -> Plan:
    plan = Plan()
    plan_limits(current, spec, "billing", lambda _ids: ("p1", None), plan, prune=prune)
    return plan


def test_declared_limits_are_set_updated_cleared_or_left() -> None:
    (create,) = planned(None, limits(rpm=60, budget="0.5", period="day")).changes
    assert (create.action, create.kind, create.name) == (Action.CREATE, "limits", "billing")
    assert create.fields == (
        FieldDiff("rpm", None, 60),
        FieldDiff("budget", None, 0.5),
        FieldDiff("period", None, "day"),
    )
    held = stored(rpm=60, budget=0.5, budgetNanos=500_000_000, period="day")
    assert planned(held, limits(rpm=60, budget=0.5, period="day")).changes == []
    (update,) = planned(held, limits(rpm=60, tpm=1000)).changes
    assert update.action is Action.UPDATE
    assert update.fields == (
        FieldDiff("tpm", None, 1000),
        FieldDiff("budget", 0.5, None),
        FieldDiff("period", "day", None),
    )
    (clear,) = planned(held, limits()).changes
    assert (clear.action, clear.fields) == (Action.DELETE, ())
    assert planned(held, None).changes == []
    assert [c.action for c in planned(held, None, prune=True).changes] == [Action.DELETE]
    assert planned(None, None, prune=True).changes == []
    assert planned(None, limits()).changes == []


def test_a_budget_compares_exactly_in_nano_units() -> None:
    held = stored(budget=25.0, budgetNanos=25_000_000_000, period="month")
    assert planned(held, limits(budget=25, period="month")).changes == []
    assert planned(held, limits(budget="25.000000000", period="month")).changes == []
    (update,) = planned(held, limits(budget="25.000000001", period="month")).changes
    assert update.fields == (FieldDiff("budget", 25, 25.000000001),)


GROUP = ModelGroup.model_validate(
    {
        "modelTemplateId": "mt-1",
        "ownerId": "admin-id",
        "name": "assistants",
        "config": {},
        "createdAt": 1,
        "updatedAt": 1,
    }
)
ADMIN = Principal(principal_id="admin-id", name="ops", role="admin", created_at=1)
MEMBER = Principal(principal_id="member-id", name="billing", role="member", created_at=1)


def api_key(label: str | None = "app", **fields: Any) -> ApiKey:
    base = {"apiKeyId": f"k-{label}", "principalId": "admin-id", "keyPrefix": "mp_abcdefg"}
    return ApiKey.model_validate({**base, "label": label, "createdAt": 1, **fields})


def key_spec(**fields: Any) -> KeySpec:
    return KeySpec.model_validate({"label": "app", **fields})


def test_a_group_named_by_id_or_by_name_is_the_same_scope() -> None:
    groups = Groups([GROUP])
    visible = groups.visible(ADMIN)
    held = api_key(models=[{"name": "mt-1", "modelTemplateId": "mt-1"}, {"name": "llm-x"}])
    assert shown_models(held, groups) == ["assistants", "llm-x"]
    for names in (["assistants", "llm-x"], ["llm-x", "mt-1"]):
        assert scope_diffs(held, key_spec(models=names), groups, visible) == ()
    assert scope_diffs(held, key_spec(models=["assistants/gpt-4o", "llm-x"]), groups, visible) == (
        FieldDiff("models", ["assistants", "llm-x"], ["assistants/gpt-4o", "llm-x"]),
    )
    # A member may name only its own groups: another's name is a plain name to it.
    assert groups.visible(MEMBER) == {}
    assert scope_diffs(held, key_spec(models=["assistants", "llm-x"]), groups, {}) != ()


def test_every_scope_field_that_differs_is_shown() -> None:
    groups = Groups([])
    held = api_key(gatewayOnly=True, expiresAt=1_801_828_800_000)
    wanted = key_spec(models=["m"], expiresAt="2027-02-06T12:00:00Z")
    assert scope_diffs(held, wanted, groups, {}) == (
        FieldDiff("gatewayOnly", True, False),
        FieldDiff("models", None, ["m"]),
        FieldDiff("expiresAt", "2027-02-05T12:00:00Z", "2027-02-06T12:00:00Z"),
    )


def test_only_live_labelled_keys_that_are_not_a_runtimes_are_a_stacks() -> None:
    keys = [
        api_key("app"),
        api_key("app", apiKeyId="k-2"),
        api_key(None),
        api_key("gone", revokedAt=5),
        api_key("runtime Default/r1"),
    ]
    found = stack_keys(keys)
    assert {label: [k.api_key_id for k in ks] for label, ks in found.items()} == {
        "app": ["k-app", "k-2"]
    }


def test_a_replacement_reads_as_one_change_and_counts_apart() -> None:
    plan = Plan()
    plan.add(
        Change(
            Action.REPLACE,
            "api-key",
            "ops/router",
            lambda _c, _i: None,
            (FieldDiff("gatewayOnly", True, False),),
        )
    )
    plan.add(Change(Action.CREATE, "limits", "ops/router", lambda _c, _i: None))
    assert (
        plan.describe()
        == "-/+ api-key ops/router\n    gatewayOnly: true -> false\n+ limits ops/router"
    )
    assert plan.counts() == {"create": 1, "update": 0, "delete": 0, "replace": 1}
    assert plan.summary() == "1 to create, 0 to update, 0 to delete, 1 to replace"
    plan.changes.pop(0)
    assert plan.summary() == "1 to create, 0 to update, 0 to delete"


def test_a_stack_without_principals_reads_none() -> None:
    """So that a member's stack, which may not list principals, plans as before."""

    class NoCalls:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} was called")

    plan = Plan()
    client: Any = NoCalls()
    assert plan_principals(client, parse({}).principals, plan, prune=True) == {}
    plan_keys(client, [], {}, plan, prune=True, replace_keys=True)
    assert plan.changes == []


def test_a_client_knows_the_prefix_listings_show_of_its_own_key() -> None:
    """How a stack tells the key it applies with among its principal's keys."""
    from modelplane.client import Client
    from modelplane.security.tokens import display_prefix

    token = "mp_" + "x" * 40
    with Client("http://127.0.0.1:9", token) as client:
        assert client.key_prefix == display_prefix(token)
