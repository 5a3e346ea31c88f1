"""Planning a service's gray release from a stack: what is compared, and which change
(create, update, drop or none) a declared candidate and an open one make."""

from __future__ import annotations

from typing import Any

from modelplane.client import ConfigCandidate
from modelplane.stack import parse
from modelplane.stack.changes import Action, FieldDiff, Plan
from modelplane.stack.plan_candidates import plan_candidate
from modelplane.stack.spec import ConfigsSpec


def entry(candidate: dict[str, Any] | None, **fields: Any) -> ConfigsSpec:
    spec: dict[str, Any] = {"cluster": "cn", "service": "svc", "values": {"mode": "fast"}}
    if candidate is not None:
        spec["candidate"] = candidate
    (configs,) = parse({"configs": [{**spec, **fields}]}).configs
    return configs


def open_one(*items: tuple[str, str, str | None, str | None], labels: list[str]) -> ConfigCandidate:
    return ConfigCandidate.model_validate(
        {
            "candidateId": "c1",
            "version": 4,
            "labels": labels,
            "items": [{"key": k, "op": op, "value": v, "format": f} for k, op, v, f in items],
            "baseRevision": 2,
            "createdBy": "p",
            "createdAt": 1,
            "updatedAt": 1,
        }
    )


CANARY = {"labels": ["canary", "beta"], "values": {"mode": "slow"}, "delete": ["old"]}
OPEN = open_one(
    ("mode", "set", "slow", "text"), ("old", "delete", None, None), labels=["beta", "canary"]
)


def planned(current: ConfigCandidate | None, spec: ConfigsSpec, *, prune: bool = False) -> Plan:
    plan = Plan()
    plan_candidate(current, spec, plan, prune=prune)
    return plan


def test_a_declared_candidate_that_is_not_open_is_created_with_what_it_holds() -> None:
    (change,) = planned(None, entry(CANARY)).changes
    assert (change.action, change.kind, change.name) == (
        Action.CREATE,
        "config-candidate",
        "cn/svc",
    )
    assert change.fields == (
        FieldDiff("labels", None, ["beta", "canary"]),
        FieldDiff("values", None, {"mode": "slow"}),
        FieldDiff("delete", None, ["old"]),
    )


def test_the_same_candidate_in_another_order_is_no_change() -> None:
    reordered = {**CANARY, "labels": ["beta", "canary"]}
    assert planned(OPEN, entry(reordered)).changes == []
    assert planned(OPEN, entry(CANARY), prune=True).changes == []


def test_a_changed_value_label_or_deleted_key_is_one_update_naming_each_field() -> None:
    changed = {"labels": ["canary"], "values": {"mode": "slower"}, "delete": ["old", "older"]}
    (change,) = planned(OPEN, entry(changed)).changes
    assert change.action is Action.UPDATE
    assert change.fields == (
        FieldDiff("labels", ["beta", "canary"], ["canary"]),
        FieldDiff("values", {"mode": "slow"}, {"mode": "slower"}),
        FieldDiff("delete", ["old"], ["old", "older"]),
    )


def test_formats_are_compared_only_where_the_stack_manages_them() -> None:
    held_json = open_one(("mode", "set", '"slow"', "json"), labels=["canary"])
    unmanaged = {"labels": ["canary"], "values": {"mode": '"slow"'}}
    assert planned(held_json, entry(unmanaged)).changes == []

    # The entry manages formats: a key it does not name is text, so json differs.
    (change,) = planned(held_json, entry(unmanaged, formats={})).changes
    assert change.fields == (FieldDiff("formats", {"mode": "json"}, {}),)
    # The candidate names the format itself, or the entry does: no change.
    as_json = {**unmanaged, "formats": {"mode": "json"}}
    assert planned(held_json, entry(as_json, formats={})).changes == []
    assert (
        planned(
            held_json, entry(unmanaged, values={"mode": "{}"}, formats={"mode": "json"})
        ).changes
        == []
    )
    # Declared yaml over a held json.
    (change,) = planned(held_json, entry({**unmanaged, "formats": {"mode": "yaml"}})).changes
    assert change.fields == (FieldDiff("formats", {"mode": "json"}, {"mode": "yaml"}),)


def test_an_undeclared_open_candidate_is_left_and_dropped_only_with_prune() -> None:
    assert planned(OPEN, entry(None)).changes == []
    (change,) = planned(OPEN, entry(None), prune=True).changes
    assert (change.action, change.kind, change.name) == (
        Action.DELETE,
        "config-candidate",
        "cn/svc",
    )
    assert planned(None, entry(None), prune=True).changes == []
