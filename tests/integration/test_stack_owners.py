"""Owners, members, runtime bindings and template history in stacks, on SQLite and
PostgreSQL: apply creates what principals own (creating the principals first), keeps
members' roles and runtime bindings as declared (removing the others with prune), refuses
what it cannot make so (another owner, a field set at creation), and writes a template's
history when it is created or continues it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from modelplane import stack
from modelplane.client import Client
from tests.conftest import ADMIN_TOKEN
from tests.support.in_process import served

ADMIN = "bootstrap-admin"
PRINCIPALS = [
    {"name": ADMIN, "apiKeys": [{"label": "bootstrap"}]},
    {"name": "alice"},
    {"name": "bob"},
]


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


def applied(client: Client, document: dict[str, Any], **options: Any) -> list[str]:
    changes = stack.plan(client, stack.parse(document), **options)
    stack.apply(client, changes)
    assert stack.plan(client, stack.parse(document), **options).changes == []
    return [f"{c.action.value} {c.kind} {c.name}" for c in changes.changes]


def workspace(members: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "principals": PRINCIPALS,
        "workspaces": [
            {"workspaceId": "alice-ws", "name": "A", "owner": "alice", "members": members}
        ],
        "modelGroups": [{"name": "g", "owner": "alice", "runtimes": [{"runtimeId": "r1"}]}],
    }


async def test_owners_members_and_bindings_are_kept_as_declared(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            made = applied(client, workspace([{"principal": "bob", "role": "reader"}]))
            assert made == [
                "create principal alice",
                "create principal bob",
                "create model-group g",
                "create runtime-binding g/Default/r1",
                "create workspace alice-ws",
                "create workspace-member alice-ws/bob",
            ]
            ids = {p.name: p.principal_id for p in client.principals.list()}
            assert client.workspaces.get("alice-ws").owner_id == ids["alice"]
            (group,) = client.model_groups.iter()
            assert group.owner_id == ids["alice"]
            assert client.model_groups.runtime_config("Default", "r1").model_template_id == (
                group.model_template_id
            )
            (member,) = client.workspaces.members("alice-ws")
            assert (member.principal_id, member.role) == (ids["bob"], "reader")

            assert applied(client, workspace([{"principal": "bob", "role": "editor"}])) == [
                "update workspace-member alice-ws/bob"
            ]
            assert applied(client, workspace([])) == []  # without prune: kept
            assert applied(client, workspace([]), prune=True) == [
                "delete workspace-member alice-ws/bob"
            ]
            moved = workspace([])
            moved["modelGroups"][0]["runtimes"] = [{"runtimeId": "r2", "runtimeType": "Desk"}]
            assert applied(client, moved) == ["create runtime-binding g/Desk/r2"]
            assert applied(client, moved, prune=True) == ["delete runtime-binding g/Default/r1"]
            bound = client.model_groups.iter_runtimes(group.model_template_id)
            assert [(r.runtime_type, r.runtime_id) for r in bound] == [("Desk", "r2")]

    await asyncio.to_thread(scenario)


async def test_what_a_stack_cannot_change_stops_the_plan_naming_the_field(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            llm = {"displayName": "L", "modelIdentifier": "gpt-4o", "owner": "alice"}
            base = {
                "principals": PRINCIPALS,
                "llms": [llm],
                "modelGroups": [{"name": "g", "owner": "alice", "bizType": 1}],
            }
            applied(client, base)
            llm_id = client.llms.list()[0].llm_id
            for change, message in (
                (
                    {"llms": [{"llmId": llm_id, **llm, "owner": "bob"}]},
                    f"llms[0].owner: LLM {llm_id} is owned by 'alice', not 'bob'",
                ),
                (
                    {"modelGroups": [{"name": "g", "owner": "alice", "bizType": 2}]},
                    "modelGroups[0].bizType: cannot change 1 to 2",
                ),
                (
                    {"modelGroups": [{"name": "g", "owner": "bob"}]},
                    "",  # another owner's group of that name is another group: created
                ),
            ):
                document = {**base, **change}
                if message:
                    with pytest.raises(stack.StackError, match=re.escape(message)):
                        stack.plan(client, stack.parse(document))
                else:
                    assert applied(client, document) == ["create model-group g"]
            groups = sorted((g.name, g.owner_id) for g in client.model_groups.iter())
            assert len(groups) == 2

    await asyncio.to_thread(scenario)


def history(*versions: dict[str, Any]) -> dict[str, Any]:
    *earlier, current = versions
    template = {"name": "t", **current, "history": list(earlier)}
    return {"workspaces": [{"workspaceId": "ws1", "name": "W", "promptTemplates": [template]}]}


async def test_a_templates_history_is_written_when_it_continues_the_template(
    live_url: str,
) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            client.workspaces.create("W", workspace_id="ws1")
            client.prompts.create("ws1", "t", "one")
            declared = history(
                {"content": "one", "labels": ["stable"]},
                {"content": "two", "config": {"temperature": 0}},
                {"content": "three", "labels": ["production"]},
            )
            changes = stack.plan(client, stack.parse(declared))
            assert [line.strip() for line in changes.describe().splitlines()] == [
                "~ prompt-template ws1/t",
                'content: "one" -> "three"',
                'history: (none) -> "1 versions appended"',
                'labels@1: [] -> ["stable"]',
                'labels: [] -> ["production"]',
            ]
            stack.apply(client, changes)
            assert stack.plan(client, stack.parse(declared)).changes == []
            versions = client.prompts.versions("ws1", "t")
            assert [(v.content, v.config) for v in versions] == [
                ("one", None),
                ("two", {"temperature": 0}),
                ("three", None),
            ]
            labels = {x.label: x.version for x in client.prompts.labels("ws1", "t")}
            assert labels == {"latest": 3, "stable": 1, "production": 3}

            # Changed by hand since: the history went another way and stays; only the
            # current version is compared, and the labels of the versions still the same.
            client.prompts.update("ws1", "t", content="by hand")
            changes = stack.plan(client, stack.parse(declared))
            assert [line.strip() for line in changes.describe().splitlines()] == [
                "~ prompt-template ws1/t",
                'content: "by hand" -> "three"',
                'labels: [] -> ["production"]',
            ]
            stack.apply(client, changes)
            assert stack.plan(client, stack.parse(declared)).changes == []
            assert client.prompts.get("ws1", "t", label="production").version == 5
            assert client.prompts.get("ws1", "t", label="stable").version == 1

    await asyncio.to_thread(scenario)


async def test_a_group_and_a_template_found_by_id_are_renamed(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            template = {"promptTemplateId": "ab" * 16, "name": "hello", "content": "Hi"}
            document: dict[str, Any] = {
                "modelGroups": [{"modelTemplateId": "mt-support", "name": "support"}],
                "workspaces": [{"workspaceId": "ws1", "name": "W", "promptTemplates": [template]}],
            }
            applied(client, document)
            document["modelGroups"][0]["name"] = "helpdesk"
            template["name"] = "greeting"
            assert applied(client, document) == [
                "update model-group helpdesk",
                "update prompt-template ws1/greeting",
            ]
            assert client.model_groups.get("mt-support").name == "helpdesk"
            renamed = client.prompts.get("ws1", "ab" * 16)
            assert (renamed.name, renamed.version, renamed.content) == ("greeting", 2, "Hi")

    await asyncio.to_thread(scenario)
