"""Writing the principals of an instance as a stack declares them: each by name with its
role and limits, and its API keys by label with their scope and limits, never a token.

A key a stack cannot find again is left out and named in a note: one without a label, one
sharing its label with another of its principal's keys; so are expired keys (they cannot
be issued again), and access-key pairs (their secret is shown once, when issued). Revoked
keys and the keys the server keeps for runtime bindings are not a stack's. Listing
principals needs an admin's token: with another, they are left out.
"""

from __future__ import annotations

import time
from typing import Any

from modelplane.client import ApiKey, Client, PermissionDenied, Principal
from modelplane.stack.plan_keys import Groups, shown_models, stack_keys
from modelplane.stack.plan_limits import held, written
from modelplane.stack.spec import RUNTIME_KEY_LABEL, iso_time


def _limits(client: Client, principal_id: str, api_key_id: str | None = None) -> dict[str, Any]:
    found = held(client.limits.get(principal_id, api_key_id=api_key_id).limits)
    return {} if found is None else {"limits": written(found)}


def _key(client: Client, key: ApiKey, groups: Groups) -> dict[str, Any]:
    entry: dict[str, Any] = {"label": key.label}
    if key.gateway_only:
        entry["gatewayOnly"] = True
    models = shown_models(key, groups)
    if models is not None:
        entry["models"] = models
    if key.expires_at is not None:
        entry["expiresAt"] = iso_time(key.expires_at)
    return {**entry, **_limits(client, key.principal_id, key.api_key_id)}


def _keys(
    client: Client, principal: Principal, groups: Groups, notes: list[str], now_ms: int
) -> list[dict[str, Any]]:
    listed = client.principals.list_api_keys(principal.principal_id)
    live = [k for k in listed if k.revoked_at is None]
    unlabelled = [k for k in live if not k.label]
    expired = [k for k in live if k.label and k.expires_at is not None and k.expires_at <= now_ms]
    gone = {k.api_key_id for k in expired}
    entries = []
    for label, keys in sorted(stack_keys(k for k in live if k.api_key_id not in gone).items()):
        if len(keys) > 1:
            notes.append(
                f"principal {principal.name!r}: {len(keys)} API keys labelled {label!r} (a "
                "stack finds a key by its label)"
            )
        else:
            entries.append(_key(client, keys[0], groups))
    for keys, why in ((unlabelled, "without a label"), (expired, "expired")):
        runtime = [k for k in keys if (k.label or "").startswith(RUNTIME_KEY_LABEL)]
        if len(keys) > len(runtime):
            count = len(keys) - len(runtime)
            noun = "API key" if count == 1 else "API keys"
            notes.append(f"principal {principal.name!r}: {count} {noun} {why}")
    return entries


def export_principals(client: Client, notes: list[str]) -> list[dict[str, Any]] | None:
    """Every principal as a stack declares it, by name (None: the token may not list them)."""
    try:
        principals = client.principals.list()
    except PermissionDenied:
        notes.append("principals (listing them needs an admin's token)")
        return None
    groups = Groups(client.model_groups.iter())
    now_ms = time.time_ns() // 1_000_000
    entries = []
    for principal in sorted(principals, key=lambda p: p.name):
        entry: dict[str, Any] = {"name": principal.name, "role": principal.role}
        entry.update(_limits(client, principal.principal_id))
        keys = _keys(client, principal, groups, notes, now_ms)
        if keys:
            entry["apiKeys"] = keys
        pairs = [
            k
            for k in client.principals.list_access_keys(principal.principal_id)
            if k.revoked_at is None
        ]
        if pairs:
            noun = "access key" if len(pairs) == 1 else "access keys"
            notes.append(
                f"principal {principal.name!r}: {len(pairs)} {noun} (a secret pair a stack "
                "cannot make again: issue it anew)"
            )
        entries.append(entry)
    return entries
