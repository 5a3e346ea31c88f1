"""Planning the `configs` of a stack: each service's parameters, key by key.

An entry's `ownerId` is sent with every write into its namespace (and names the owner of
one never written), so that an admin may write into a member's namespace; a namespace
owned by someone else than the `ownerId` declared stops the plan. Pruning an undeclared
namespace names the owner it was listed with.
"""

from __future__ import annotations

from modelplane.client import Client
from modelplane.stack.changes import Action, Change, FieldDiff, Ids, Plan, Run
from modelplane.stack.spec import ConfigsSpec, StackError


def _put(cluster: str, service: str, key: str, value: str, owner_id: str | None) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        client.configs.put(cluster, service, key, value, owner_id=owner_id)

    return run


def _delete(cluster: str, service: str, key: str, owner_id: str | None) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.configs.delete(cluster, service, key, owner_id=owner_id)

    return Change(Action.DELETE, "config", f"{cluster}/{service}/{key}", run)


def plan_configs(client: Client, specs: list[ConfigsSpec], plan: Plan, *, prune: bool) -> None:
    """Add the changes that make each declared service's parameters match `specs`."""
    owners = {(n.cluster, n.name): n.owner_id for n in client.configs.namespaces()}
    declared = set()
    for i, spec in enumerate(specs):
        where = (spec.cluster, spec.service)
        declared.add(where)
        owner = owners.get(where)
        if spec.owner_id is not None and owner is not None and owner != spec.owner_id:
            raise StackError(
                f"configs[{i}].ownerId: {spec.cluster}/{spec.service} is owned by {owner}, "
                f"not {spec.owner_id}"
            )
        now = client.configs.get_namespace(spec.cluster, spec.service).values
        for key, value in spec.values.items():
            label = f"{spec.cluster}/{spec.service}/{key}"
            run = _put(spec.cluster, spec.service, key, value, spec.owner_id)
            if key not in now:
                plan.add(
                    Change(Action.CREATE, "config", label, run, (FieldDiff("value", None, value),))
                )
            elif now[key] != value:
                diff = (FieldDiff("value", now[key], value),)
                plan.add(Change(Action.UPDATE, "config", label, run, diff))
        if prune:
            for key in sorted(set(now) - set(spec.values)):
                plan.add(_delete(spec.cluster, spec.service, key, spec.owner_id))
    if prune:
        for (cluster, name), owner_id in owners.items():
            if (cluster, name) in declared:
                continue
            values = client.configs.get_namespace(cluster, name).values
            for key in sorted(values):
                plan.add(_delete(cluster, name, key, owner_id))
