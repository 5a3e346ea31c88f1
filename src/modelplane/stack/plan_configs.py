"""Planning the `configs` of a stack: each service's parameters, key by key."""

from __future__ import annotations

from modelplane.client import Client
from modelplane.stack.changes import Action, Change, FieldDiff, Ids, Plan, Run
from modelplane.stack.spec import ConfigsSpec


def _put(cluster: str, service: str, key: str, value: str) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        client.configs.put(cluster, service, key, value)

    return run


def _delete(cluster: str, service: str, key: str) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.configs.delete(cluster, service, key)

    return Change(Action.DELETE, "config", f"{cluster}/{service}/{key}", run)


def plan_configs(client: Client, specs: list[ConfigsSpec], plan: Plan, *, prune: bool) -> None:
    """Add the changes that make each declared service's parameters match `specs`."""
    declared = set()
    for spec in specs:
        declared.add((spec.cluster, spec.service))
        now = client.configs.get_namespace(spec.cluster, spec.service).values
        for key, value in spec.values.items():
            label = f"{spec.cluster}/{spec.service}/{key}"
            run = _put(spec.cluster, spec.service, key, value)
            if key not in now:
                plan.add(
                    Change(Action.CREATE, "config", label, run, (FieldDiff("value", None, value),))
                )
            elif now[key] != value:
                diff = (FieldDiff("value", now[key], value),)
                plan.add(Change(Action.UPDATE, "config", label, run, diff))
        if prune:
            for key in sorted(set(now) - set(spec.values)):
                plan.add(_delete(spec.cluster, spec.service, key))
    if prune:
        for namespace in client.configs.namespaces():
            if (namespace.cluster, namespace.name) in declared:
                continue
            values = client.configs.get_namespace(namespace.cluster, namespace.name).values
            for key in sorted(values):
                plan.add(_delete(namespace.cluster, namespace.name, key))
