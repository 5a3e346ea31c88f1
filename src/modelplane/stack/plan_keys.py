"""Planning the API keys of a stack's principals (`principals[].apiKeys`): a key is found
by its principal and its `label`, among the principal's keys that are not revoked.

A declared key that is missing is issued with its scope (its token is handed over once,
in `Ids.tokens`), then given its limits. A key's scope is fixed when it is issued, so one
that differs from the declaration is a conflict, or with `replace_keys` a replacement: a
new key is issued, then the old one revoked. With `prune`, a declared principal's labelled
keys that the stack does not declare are revoked. Never the key the client calls with:
replacing or revoking it is refused (the rest of the apply would run without a key). Keys
without a label and those the server keeps for runtime bindings are not a stack's.

Models are compared as the gateway reads them: an entry that names a whole model group
(by id or name) is that group, whatever it is called; any other name is itself.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from modelplane.client import ApiKey, Client, ModelGroup, Principal
from modelplane.client.models import ScopedModel
from modelplane.stack.changes import Action, Change, FieldDiff, Ids, Plan, Run, created, show
from modelplane.stack.plan_limits import Subject, plan_limits
from modelplane.stack.spec import (
    RUNTIME_KEY_LABEL,
    KeySpec,
    PrincipalSpec,
    StackError,
    iso_time,
)

KIND = "api-key"
ADMIN = "admin"


class Groups:
    """The model groups a key's models may name, to compare models as the gateway does."""

    def __init__(self, groups: Iterable[ModelGroup]) -> None:
        self.groups = list(groups)
        self.names = {g.model_template_id: g.name for g in self.groups}
        counted: dict[str, int] = defaultdict(int)
        for group in self.groups:
            counted[group.name] += 1
        self.unique = {name for name, count in counted.items() if count == 1}

    def visible(self, principal: Principal | None) -> dict[str, str]:
        """Group ids by id and by name, of the groups `principal` may call (None: a
        principal made by this apply, which owns none yet); a name of two is left out."""
        if principal is None:
            return {}
        mine = [
            g
            for g in self.groups
            if principal.role == ADMIN or g.owner_id == principal.principal_id
        ]
        by_key: dict[str, list[str]] = defaultdict(list)
        for group in mine:
            by_key[group.model_template_id].append(group.model_template_id)
            by_key[group.name].append(group.model_template_id)
        return {key: ids[0] for key, ids in by_key.items() if len(ids) == 1}

    def shown(self, entry: ScopedModel) -> str:
        """An entry as a stack writes it: a whole group by its name (by its id when two
        groups share the name), any other name as listed."""
        group_id = entry.model_template_id
        if group_id is None:
            return entry.name
        name = self.names.get(group_id)
        return name if name is not None and name in self.unique else group_id


def _held_models(key: ApiKey) -> frozenset[str] | None:
    if key.models is None:
        return None
    return frozenset(
        f"group:{m.model_template_id}" if m.model_template_id else f"name:{m.name}"
        for m in key.models
    )


def _declared_models(spec: KeySpec, visible: dict[str, str]) -> frozenset[str] | None:
    if spec.models is None:
        return None
    return frozenset(
        f"group:{visible[name]}" if "/" not in name and name in visible else f"name:{name}"
        for name in spec.models
    )


def shown_models(key: ApiKey, groups: Groups) -> list[str] | None:
    """A key's models as a stack writes them, sorted (None: every model)."""
    return None if key.models is None else sorted(groups.shown(m) for m in key.models)


def scope(spec: KeySpec) -> dict[str, Any]:
    """A declared key's scope as a plan shows it."""
    return {
        "gatewayOnly": spec.gateway_only,
        "models": None if spec.models is None else sorted(spec.models),
        "expiresAt": None if spec.expires_at_ms is None else iso_time(spec.expires_at_ms),
    }


def scope_diffs(
    key: ApiKey, spec: KeySpec, groups: Groups, visible: dict[str, str]
) -> tuple[FieldDiff, ...]:
    """How the key's scope differs from the declared one."""
    wanted = scope(spec)
    diffs = []
    if key.gateway_only != spec.gateway_only:
        diffs.append(FieldDiff("gatewayOnly", key.gateway_only, spec.gateway_only))
    if _held_models(key) != _declared_models(spec, visible):
        diffs.append(FieldDiff("models", shown_models(key, groups), wanted["models"]))
    if key.expires_at != spec.expires_at_ms:
        held = None if key.expires_at is None else iso_time(key.expires_at)
        diffs.append(FieldDiff("expiresAt", held, wanted["expiresAt"]))
    return tuple(diffs)


def _issue(principal: str, found: Principal | None, spec: KeySpec, name: str) -> Run:
    """Issue the declared key and keep its id and token."""

    def run(client: Client, ids: Ids) -> None:
        principal_id = found.principal_id if found is not None else ids.principals[principal]
        issued = client.principals.issue_api_key(
            principal_id,
            label=spec.label,
            gateway_only=spec.gateway_only,
            models=spec.models,
            expires_at=spec.expires_at_ms,
        )
        ids.keys[(principal, spec.label)] = issued.api_key.api_key_id
        ids.tokens[name] = issued.token

    return run


def _replace(principal: Principal, spec: KeySpec, name: str, old: ApiKey) -> Run:
    """Issue the declared key, then revoke the old one (a failed issue revokes nothing)."""
    issue = _issue(principal.name, principal, spec, name)

    def run(client: Client, ids: Ids) -> None:
        issue(client, ids)
        client.principals.revoke_api_key(principal.principal_id, old.api_key_id)

    return run


def _revoke(principal: Principal, key: ApiKey) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.principals.revoke_api_key(principal.principal_id, key.api_key_id)

    return Change(Action.DELETE, KIND, f"{principal.name}/{key.label} ({key.key_prefix}…)", run)


def _new_key(principal: str, found: Principal | None, label: str) -> Subject:
    """The subject of the limits of a key this apply issues."""

    def subject(ids: Ids) -> tuple[str, str | None]:
        principal_id = found.principal_id if found is not None else ids.principals[principal]
        return principal_id, ids.keys[(principal, label)]

    return subject


def _stored_key(principal: Principal, key: ApiKey) -> Subject:
    def subject(_ids: Ids) -> tuple[str, str | None]:
        return principal.principal_id, key.api_key_id

    return subject


def _not_expired(spec: KeySpec, place: str, now_ms: int) -> None:
    expiry = spec.expires_at_ms
    if expiry is not None and expiry <= now_ms:
        raise StackError(
            f"{place}.expiresAt: {iso_time(expiry)} has passed: a key cannot be issued expired"
        )


def stack_keys(keys: Iterable[ApiKey]) -> dict[str, list[ApiKey]]:
    """The keys a stack may declare, by label: not revoked, labelled, not a runtime's."""
    by_label: dict[str, list[ApiKey]] = defaultdict(list)
    for key in keys:
        if key.revoked_at is None and key.label and not key.label.startswith(RUNTIME_KEY_LABEL):
            by_label[key.label].append(key)
    return by_label


class _Planner:
    """The keys of one plan: what it reads once, and the conflicts it collects."""

    def __init__(self, client: Client, plan: Plan, *, prune: bool, replace_keys: bool) -> None:
        self.client, self.plan = client, plan
        self.prune, self.replace_keys = prune, replace_keys
        self.groups = Groups(client.model_groups.iter())
        self.own = client.key_prefix
        self.now_ms = time.time_ns() // 1_000_000
        self.conflicts: list[str] = []

    def principal(self, i: int, spec: PrincipalSpec, found: Principal | None) -> None:
        keys = stack_keys(self.client.principals.list_api_keys(found.principal_id) if found else ())
        visible = self.groups.visible(found)
        for j, key_spec in enumerate(spec.api_keys):
            place = f"principals[{i}].apiKeys[{j}]"
            matches = keys.pop(key_spec.label, [])
            if len(matches) > 1:
                prefixes = ", ".join(f"{k.key_prefix}…" for k in matches)
                raise StackError(
                    f"{place}: principal {spec.name!r} has {len(matches)} API keys labelled "
                    f"{key_spec.label!r} ({prefixes}); a stack finds a key by its label, so "
                    "revoke all but one"
                )
            self.key(place, spec.name, found, key_spec, matches[0] if matches else None, visible)
        if self.prune and found is not None:
            for label in sorted(keys):
                for key in keys[label]:
                    if key.key_prefix == self.own:
                        self.conflicts.append(
                            f"principals[{i}].apiKeys: --prune would revoke the API key this "
                            f"apply calls with ({label!r}, {key.key_prefix}…); declare it, or "
                            "apply with another key"
                        )
                    else:
                        self.plan.add(_revoke(found, key))

    def key(
        self,
        place: str,
        principal: str,
        found: Principal | None,
        spec: KeySpec,
        current: ApiKey | None,
        visible: dict[str, str],
    ) -> None:
        name = f"{principal}/{spec.label}"
        if current is None or found is None:
            fields = created({k: v for k, v in scope(spec).items() if v is not None})
            change = Change(Action.CREATE, KIND, name, _issue(principal, found, spec, name), fields)
        else:
            diffs = scope_diffs(current, spec, self.groups, visible)
            if not diffs:
                self.stored(name, found, current, spec)
                return
            if not self.replace_keys:
                shown = "; ".join(f"{d.name}: {show(d.old)} -> {show(d.new)}" for d in diffs)
                self.conflicts.append(
                    f"{place}: the scope of API key {name} differs ({shown}) and is fixed when "
                    "a key is issued; apply with --replace-keys to issue a new key and revoke "
                    "this one"
                )
                return
            if current.key_prefix == self.own:
                self.conflicts.append(
                    f"{place}: --replace-keys would revoke the API key this apply calls with "
                    f"({current.key_prefix}…); replace it with another key"
                )
                return
            change = Change(Action.REPLACE, KIND, name, _replace(found, spec, name, current), diffs)
        _not_expired(spec, place, self.now_ms)
        self.plan.add(change)
        subject = _new_key(principal, found, spec.label)
        plan_limits(None, spec.limits, name, subject, self.plan, prune=False)

    def stored(self, name: str, found: Principal, current: ApiKey, spec: KeySpec) -> None:
        """The limits of a key that stays."""
        limits = None
        if spec.limits is not None or self.prune:
            got = self.client.limits.get(found.principal_id, api_key_id=current.api_key_id)
            limits = got.limits
        subject = _stored_key(found, current)
        plan_limits(limits, spec.limits, name, subject, self.plan, prune=self.prune)


def plan_keys(
    client: Client,
    specs: list[PrincipalSpec],
    found: dict[str, Principal],
    plan: Plan,
    *,
    prune: bool,
    replace_keys: bool,
) -> None:
    """Add the changes that make the declared principals' API keys match `specs`;
    StackError names every key that cannot be made so."""
    if not specs:
        return
    planner = _Planner(client, plan, prune=prune, replace_keys=replace_keys)
    for i, spec in enumerate(specs):
        planner.principal(i, spec, found.get(spec.name))
    if planner.conflicts:
        raise StackError("; ".join(planner.conflicts))
