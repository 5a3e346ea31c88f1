"""Planning the `configs` of a stack: each service's parameters, key by key.

The changes of one service are listed key by key but run as one batch (`client.configs.
batch`): one revision, so that its watchers never see a half-applied service.

A service's open gray release (`candidate`) is planned after its parameters, so that it
is checked against the parameters the stack declares (`plan_candidates`); pruning drops
an open one the stack does not declare, before the keys of an undeclared service go.

An entry's `ownerId` is sent with every write into its namespace (and names the owner of
one never written), so that an admin may write into a member's namespace; a namespace
owned by someone else than the `ownerId` declared stops the plan. Pruning an undeclared
namespace names the owner it was listed with.
"""

from __future__ import annotations

from typing import Any

from modelplane.client import Client
from modelplane.stack.changes import Action, Batch, Change, FieldDiff, Ids, Plan, Run
from modelplane.stack.owners import Owner, OwnerOf, Principals, fixed
from modelplane.stack.plan_candidates import dropped, open_candidate, plan_candidate
from modelplane.stack.spec import ConfigsSpec, StackError


def _put(cluster: str, service: str, key: str, value: str, fmt: str | None, owner: OwnerOf) -> Run:
    def run(client: Client, ids: Ids) -> None:
        client.configs.put(cluster, service, key, value, owner_id=owner(ids), format=fmt)

    return run


def _batch(cluster: str, service: str, owner: Owner) -> Batch:
    """The batch of one service's changes: items `(key, value, format)` to set,
    `(key, None, None)` to delete."""

    def run(client: Client, items: list[Any]) -> None:
        values = {key: value for key, value, _ in items if value is not None}
        formats = {key: fmt for key, value, fmt in items if value is not None and fmt}
        deleted = [key for key, value, _ in items if value is None]
        client.configs.batch(
            cluster,
            service,
            values,
            delete=deleted,
            formats=formats,
            owner_id=owner.at_apply(client),
        )

    return Batch(run)


def _delete(cluster: str, service: str, key: str, owner: OwnerOf, batch: Batch) -> Change:
    def run(client: Client, ids: Ids) -> None:
        client.configs.delete(cluster, service, key, owner_id=owner(ids))

    label = f"{cluster}/{service}/{key}"
    return Change(Action.DELETE, "config", label, run, batch=batch, item=(key, None, None))


def plan_configs(client: Client, specs: list[ConfigsSpec], plan: Plan, *, prune: bool) -> None:
    """Add the changes that make each declared service's parameters match `specs`."""
    owners = {(n.cluster, n.name): n.owner_id for n in client.configs.namespaces()}
    principals = Principals(client, needed=any(spec.owner for spec in specs))
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
        place = f"configs[{i}].owner"
        if owner is not None:
            where_named = f"{spec.cluster}/{spec.service}"
            principals.check_owner(place, where_named, owner, spec.owner)
        writer = principals.owner_of(place, spec.owner, spec.owner_id)
        held = {c.key: c for c in client.configs.get_namespace(spec.cluster, spec.service).configs}
        now = {key: c.value for key, c in held.items()}
        batch = _batch(
            spec.cluster, spec.service, principals.owner(place, spec.owner, spec.owner_id)
        )
        for key, value in spec.values.items():
            label = f"{spec.cluster}/{spec.service}/{key}"
            fmt = spec.format_of(key)
            run = _put(spec.cluster, spec.service, key, value, fmt, writer)
            if key not in held:
                diff: tuple[FieldDiff, ...] = (FieldDiff("value", None, value),)
                if fmt not in (None, "text"):
                    diff += (FieldDiff("format", None, fmt),)
                action = Action.CREATE
            else:
                diff = tuple(
                    FieldDiff(name, was, wanted)
                    for name, was, wanted in (
                        ("value", held[key].value, value),
                        ("format", held[key].format, fmt or held[key].format),
                    )
                    if was != wanted
                )
                if not diff:
                    continue
                action = Action.UPDATE
            plan.add(Change(action, "config", label, run, diff, batch, (key, value, fmt)))
        if prune:
            for key in sorted(set(now) - set(spec.values)):
                plan.add(_delete(spec.cluster, spec.service, key, writer, batch))
        current = open_candidate(client, *where) if owner is not None else None
        plan_candidate(current, spec, plan, prune=prune, owner=writer)
    if prune:
        for (cluster, name), owner_id in owners.items():
            if (cluster, name) in declared:
                continue
            gray = open_candidate(client, cluster, name)
            if gray is not None:
                plan.add(dropped(cluster, name, gray, fixed(owner_id)))
            values = client.configs.get_namespace(cluster, name).values
            batch = _batch(cluster, name, Owner(owner_id))
            for key in sorted(values):
                plan.add(_delete(cluster, name, key, fixed(owner_id), batch))
