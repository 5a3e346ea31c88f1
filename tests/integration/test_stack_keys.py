"""Principals, their limits and their API keys in stacks, on SQLite and PostgreSQL: apply
creates missing principals, issues declared keys (handing each token over once), sets,
updates and clears limits, refuses a changed scope unless told to replace the key, revokes
undeclared keys with prune (never its own), and export writes them so that an instance
emptied and given the export again exports the same document."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from modelplane import stack
from modelplane.client import ApiKey, Client, PermissionDenied
from modelplane.stack.changes import Action
from tests.conftest import ADMIN_TOKEN
from tests.support.in_process import served

ADMIN = "bootstrap-admin"  # the principal of ADMIN_TOKEN, its key labelled "bootstrap"
LATER = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86_400))
GROUP: dict[str, Any] = {
    "name": "assistants",
    "providers": [
        {
            "providerName": "provider-p",
            "name": "P",
            "providerType": "Custom",
            "baseUrl": "https://llm.example/v1",
            "api": "openai-completions",
            "models": [{"llmCode": "gpt-4o", "name": "GPT-4o"}],
        }
    ],
}
BILLING: dict[str, Any] = {
    "name": "billing",
    "role": "member",
    "limits": {"rpm": 600, "budget": 25, "period": "month"},
    "apiKeys": [
        {
            "label": "billing-app",
            "gatewayOnly": True,
            "expiresAt": LATER,
            "limits": {"rpm": 60, "budget": 0.5, "period": "day"},
        }
    ],
}
OPS: dict[str, Any] = {
    "name": "ops",
    "role": "admin",
    "apiKeys": [
        {"label": "router", "gatewayOnly": True, "models": ["assistants", "assistants/gpt-4o"]}
    ],
}
OWN = {"name": ADMIN, "apiKeys": [{"label": "bootstrap"}]}


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


def document(*principals: dict[str, Any]) -> dict[str, Any]:
    return {"modelGroups": [GROUP], "principals": list(principals)}


def planned(client: Client, doc: dict[str, Any], **options: Any) -> stack.Plan:
    return stack.plan(client, stack.parse(doc), **options)


def applied(
    client: Client, doc: dict[str, Any], **options: Any
) -> tuple[list[str], dict[str, str]]:
    changes = planned(client, doc, **options)
    tokens = stack.apply(client, changes)
    assert planned(client, doc, **options).changes == []
    return shown(changes), tokens


def shown(changes: stack.Plan) -> list[str]:
    return [f"{c.action.value} {c.kind} {c.name}" for c in changes.changes]


def principal_id(client: Client, name: str) -> str:
    (found,) = [p for p in client.principals.list() if p.name == name]
    return found.principal_id


def live_keys(client: Client, name: str) -> dict[str | None, ApiKey]:
    keys = client.principals.list_api_keys(principal_id(client, name))
    return {k.label: k for k in keys if k.revoked_at is None}


def emptied(client: Client) -> None:
    """Back to a fresh instance: nothing declared, the stack's principals deleted."""
    stack.apply(client, planned(client, {"principals": [OWN]}, prune=True))
    stack.apply(client, planned(client, {}, prune=True))
    for principal in client.principals.list():
        if principal.name != ADMIN:
            client.principals.delete(principal.principal_id)


async def test_apply_creates_principals_issues_keys_and_sets_limits(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            changes, tokens = applied(client, document(BILLING, OPS))
            assert changes == [
                "create principal billing",
                "create limits billing",
                "create principal ops",
                "create model-group assistants",
                "create provider assistants/provider-p",
                "create model assistants/provider-p/gpt-4o",
                "create api-key billing/billing-app",
                "create limits billing/billing-app",
                "create api-key ops/router",
            ]
            assert set(tokens) == {"billing/billing-app", "ops/router"}
            billing, ops = live_keys(client, "billing"), live_keys(client, "ops")
            key = billing["billing-app"]
            assert (key.gateway_only, key.models) == (True, None)
            assert (
                key.expires_at
                == stack.parse(document(BILLING)).principals[0].api_keys[0].expires_at_ms
            )
            assert sorted(m.name for m in ops["router"].models or ()) == [
                "assistants",
                "assistants/gpt-4o",
            ]
            # The tokens are the keys': gateway-only, the management API refuses them.
            for token in tokens.values():
                with Client(live_url, token) as app, pytest.raises(PermissionDenied):
                    app.llms.list()
            mine = client.limits.get(principal_id(client, "billing")).limits
            assert mine is not None and (mine.rpm, mine.budget_nanos, mine.period) == (
                600,
                25 * 10**9,
                "month",
            )
            theirs = client.limits.get(key.principal_id, api_key_id=key.api_key_id).limits
            assert theirs is not None
            assert (theirs.rpm, theirs.budget_nanos, theirs.period) == (60, 5 * 10**8, "day")

            # Limits changed: an update showing each field; `{}`: cleared.
            less = {
                **BILLING,
                "limits": {},
                "apiKeys": [{**BILLING["apiKeys"][0], "limits": {"rpm": 120}}],
            }
            changes_now = planned(client, document(less, OPS))
            assert shown(changes_now) == [
                "delete limits billing",
                "update limits billing/billing-app",
            ]
            update = changes_now.changes[1]
            assert [(d.name, d.old, d.new) for d in update.fields] == [
                ("rpm", 60, 120),
                ("budget", 0.5, None),
                ("period", "day", None),
            ]
            stack.apply(client, changes_now)
            assert client.limits.get(principal_id(client, "billing")).limits is None
            assert planned(client, document(less, OPS)).changes == []
            # Left out, limits are not managed; with prune they are cleared.
            bare = {
                **less,
                "apiKeys": [{k: v for k, v in less["apiKeys"][0].items() if k != "limits"}],
            }
            assert planned(client, document(bare, OPS)).changes == []
            assert shown(planned(client, document(bare, OPS), prune=True)) == [
                "delete limits billing/billing-app"
            ]

    await asyncio.to_thread(scenario)


async def test_a_changed_scope_is_a_conflict_unless_the_key_is_replaced(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            _, tokens = applied(client, document(BILLING, OPS))
            old = live_keys(client, "ops")["router"]
            narrower = {**OPS, "apiKeys": [{**OPS["apiKeys"][0], "models": ["assistants"]}]}
            with pytest.raises(stack.StackError) as caught:
                planned(client, document(BILLING, narrower))
            message = str(caught.value)
            assert message.startswith("principals[1].apiKeys[0]: the scope of API key ops/router")
            assert 'models: ["assistants", "assistants/gpt-4o"] -> ["assistants"]' in message
            assert "--replace-keys" in message

            changes = planned(client, document(BILLING, narrower), replace_keys=True)
            (replace,) = changes.changes
            assert (replace.action, replace.kind, replace.name) == (
                Action.REPLACE,
                "api-key",
                "ops/router",
            )
            assert changes.summary() == "0 to create, 0 to update, 0 to delete, 1 to replace"
            new_tokens = stack.apply(client, changes)
            assert new_tokens["ops/router"] != tokens["ops/router"]
            keys = client.principals.list_api_keys(old.principal_id)
            assert [k.revoked_at is not None for k in keys if k.api_key_id == old.api_key_id] == [
                True
            ]
            new = live_keys(client, "ops")["router"]
            assert [m.name for m in new.models or ()] == ["assistants"]

            # A replaced key gets its declared limits again; a group named by its id is
            # the same scope as by its name.
            (group,) = client.model_groups.iter()
            by_id = {**OPS, "apiKeys": [{**OPS["apiKeys"][0], "models": [group.model_template_id]}]}
            assert planned(client, document(BILLING, by_id)).changes == []
            later = {**BILLING, "apiKeys": [{**BILLING["apiKeys"][0], "gatewayOnly": False}]}
            changes = planned(client, document(later, OPS), replace_keys=True)
            assert shown(changes) == [
                "replace api-key billing/billing-app",
                "create limits billing/billing-app",
                "replace api-key ops/router",
            ]

            # Its own key is never replaced.
            own = {"name": ADMIN, "apiKeys": [{"label": "bootstrap", "gatewayOnly": True}]}
            with pytest.raises(stack.StackError, match="the API key this apply calls with"):
                planned(client, {"principals": [own]}, replace_keys=True)

    await asyncio.to_thread(scenario)


async def test_prune_revokes_undeclared_labelled_keys_but_never_its_own(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            applied(client, document(BILLING, OPS))
            billing = principal_id(client, "billing")
            scratch = client.principals.issue_api_key(billing, label="scratch").api_key
            client.principals.issue_api_key(billing)  # no label: not a stack's
            assert planned(client, document(BILLING, OPS)).changes == []
            changes = planned(client, document(BILLING, OPS, OWN), prune=True)
            assert shown(changes) == [f"delete api-key billing/scratch ({scratch.key_prefix}…)"]
            stack.apply(client, changes)
            assert "scratch" not in live_keys(client, "billing")
            assert None in live_keys(client, "billing")

            with pytest.raises(stack.StackError) as caught:
                planned(client, document(BILLING, OPS, {"name": ADMIN}), prune=True)
            assert str(caught.value) == (
                "principals[2].apiKeys: --prune would revoke the API key this apply calls with "
                "('bootstrap', mp_test_ad…); declare it, or apply with another key"
            )

    await asyncio.to_thread(scenario)


async def test_what_a_stack_cannot_make_so_is_refused_before_anything_is_written(
    live_url: str,
) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            applied(client, document(BILLING))
            billing = principal_id(client, "billing")
            with pytest.raises(
                stack.StackError,
                match=r"principals\[0\]\.role: principal 'billing' is member, not admin",
            ):
                planned(client, document({**BILLING, "role": "admin"}))
            for _ in range(2):
                client.principals.issue_api_key(billing, label="twice")
            twice = {**BILLING, "apiKeys": [{"label": "twice"}]}
            with pytest.raises(
                stack.StackError,
                match=r"principals\[0\]\.apiKeys\[0\]: principal 'billing' has 2 API keys "
                r"labelled 'twice'",
            ):
                planned(client, document(twice))
            past = {**BILLING, "apiKeys": [{"label": "late", "expiresAt": "2020-01-01T00:00:00Z"}]}
            with pytest.raises(
                stack.StackError,
                match=r"principals\[0\]\.apiKeys\[0\]\.expiresAt: 2020-01-01T00:00:00Z has passed",
            ):
                planned(client, document(past))
            assert [p.name for p in client.principals.list()] == [ADMIN, "billing"]

    await asyncio.to_thread(scenario)


async def test_exported_principals_applied_to_an_emptied_instance_export_the_same(
    live_url: str,
) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            applied(client, document(BILLING, OPS))
            billing = principal_id(client, "billing")
            client.principals.issue_api_key(billing)  # no label: left out, noted
            exported = stack.export_stack(client)
            assert exported.document["principals"] == [
                {
                    "name": "billing",
                    "role": "member",
                    "limits": {"rpm": 600, "budget": 25, "period": "month"},
                    "apiKeys": [
                        {
                            "label": "billing-app",
                            "gatewayOnly": True,
                            "expiresAt": LATER,
                            "limits": {"rpm": 60, "budget": 0.5, "period": "day"},
                        }
                    ],
                },
                {"name": ADMIN, "role": "admin", "apiKeys": [{"label": "bootstrap"}]},
                {"name": "ops", "role": "admin", "apiKeys": [OPS["apiKeys"][0]]},
            ]
            assert exported.notes == ["principal 'billing': 1 API key without a label"]
            assert planned(client, exported.document, prune=True).changes == []

            emptied(client)
            assert [p["name"] for p in stack.export_stack(client).document["principals"]] == [ADMIN]
            _, tokens = applied(client, exported.document)
            assert set(tokens) == {"billing/billing-app", "ops/router"}
            assert stack.export_stack(client).document == exported.document

    await asyncio.to_thread(scenario)
