"""Planning a service's gray release (`configs[].candidate`): created when the service has
none open, replaced when the open one differs from the one declared, left when it is the
same; with `--prune`, an open one the stack does not declare is dropped.

Labels and deleted keys are compared as sets, values as a mapping, and the format of a
set key only where the stack manages it (`ConfigsSpec.candidate_format_of`). Each write
names the candidate version the plan read (`if_version`, `version`), so one changed
between plan and apply is refused, not overwritten.
"""

from __future__ import annotations

from typing import Any

from modelplane.client import Client, ConfigCandidate, NotFound
from modelplane.stack.changes import (
    Action,
    Change,
    FieldDiff,
    Ids,
    Plan,
    Run,
    created,
    differences,
)
from modelplane.stack.owners import OwnerOf, fixed
from modelplane.stack.spec import ConfigsSpec

KIND = "config-candidate"
SET, DELETE = "set", "delete"
TEXT = "text"


def open_candidate(client: Client, cluster: str, service: str) -> ConfigCandidate | None:
    """The service's open gray release; None when there is none."""
    try:
        return client.configs.candidate(cluster, service)
    except NotFound:
        return None


def declared(candidate: ConfigCandidate) -> dict[str, Any]:
    """An open candidate as a stack declares one (the format of every key it sets)."""
    sets = [item for item in candidate.items if item.op == SET]
    return {
        "labels": sorted(candidate.labels),
        "values": {item.key: item.value for item in sets},
        "formats": {item.key: item.format for item in sets},
        "delete": sorted(item.key for item in candidate.items if item.op == DELETE),
    }


def wanted(spec: ConfigsSpec) -> dict[str, Any]:
    """The candidate `spec` declares, with the formats it manages."""
    assert spec.candidate is not None
    candidate = spec.candidate
    formats = {}
    for key in candidate.values:
        fmt = spec.candidate_format_of(key)
        if fmt is not None:
            formats[key] = fmt
    return {
        "labels": sorted(candidate.labels),
        "values": dict(candidate.values),
        "formats": formats,
        "delete": sorted(candidate.delete),
    }


def _shown(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as a plan shows and compares them: formats other than `text` only (over
    the same keys, two sets of formats differ exactly when these differ)."""
    formats = {k: f for k, f in fields["formats"].items() if f != TEXT}
    return {**fields, "formats": formats}


def candidate_diffs(current: ConfigCandidate, spec: ConfigsSpec) -> tuple[FieldDiff, ...]:
    """The fields of the open candidate that differ from the one `spec` declares."""
    want = wanted(spec)
    held = declared(current)
    held["formats"] = {k: f for k, f in held["formats"].items() if k in want["formats"]}
    return differences(_shown(held), _shown(want))


def _put(spec: ConfigsSpec, if_version: int, owner: OwnerOf) -> Run:
    """Write the declared candidate: create it (`if_version` 0) or replace that version."""
    assert spec.candidate is not None
    want, labels, delete = wanted(spec), list(spec.candidate.labels), list(spec.candidate.delete)

    def run(client: Client, ids: Ids) -> None:
        client.configs.set_candidate(
            spec.cluster,
            spec.service,
            want["values"],
            labels=labels,
            delete=delete,
            formats=want["formats"],
            if_version=if_version,
            owner_id=owner(ids),
        )

    return run


def dropped(cluster: str, service: str, current: ConfigCandidate, owner: OwnerOf) -> Change:
    """The change that drops the open candidate (nothing changes for any client)."""

    def run(client: Client, ids: Ids) -> None:
        client.configs.drop_candidate(
            cluster, service, version=current.version, owner_id=owner(ids)
        )

    return Change(Action.DELETE, KIND, f"{cluster}/{service}", run)


def plan_candidate(
    current: ConfigCandidate | None,
    spec: ConfigsSpec,
    plan: Plan,
    *,
    prune: bool,
    owner: OwnerOf | None = None,
) -> None:
    """Add the change that makes the service's open candidate the one `spec` declares;
    writes name `owner` (default: the entry's `ownerId`)."""
    owner = owner or fixed(spec.owner_id)
    name = f"{spec.cluster}/{spec.service}"
    if spec.candidate is None:
        if prune and current is not None:
            plan.add(dropped(spec.cluster, spec.service, current, owner))
        return
    if current is None:
        fields = created({k: v for k, v in _shown(wanted(spec)).items() if v})
        plan.add(Change(Action.CREATE, KIND, name, _put(spec, 0, owner), fields))
        return
    diffs = candidate_diffs(current, spec)
    if diffs:
        plan.add(Change(Action.UPDATE, KIND, name, _put(spec, current.version, owner), diffs))
