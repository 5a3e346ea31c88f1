"""Copying an instance with a stack, on SQLite and PostgreSQL: an instance where several
principals own LLMs (the same connection twice), model groups (of one name), workspaces
and parameters, with members, runtime bindings and templates of several versions and
labels, is exported, applied to an empty instance of its own database, and exported
again: the same document (secrets aside), and a second plan is empty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from modelplane import stack
from modelplane.app import create_app
from modelplane.client import Client
from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.support.databases import copied_sqlite, postgres_database
from tests.support.in_process import served

ADMIN = "bootstrap-admin"
TEMPLATE_ID = "0123456789abcdef0123456789abcdef"
LLM_KEY = "sk-llm-0123456789"
PROVIDER_KEY = "sk-provider-0123456789"
GROUP: dict[str, Any] = {
    "name": "assistants",
    "defaultModel": "provider-p/gpt-4o",
    "providers": [
        {
            "providerName": "provider-p",
            "name": "P",
            "providerType": "Custom",
            "baseUrl": "https://llm.example/v1",
            "api": "openai-completions",
            "apiKey": "env://PROVIDER_KEY",
            "models": [{"llmCode": "gpt-4o", "name": "GPT-4o"}, {"llmCode": "gpt-4o-mini"}],
        }
    ],
}


@contextmanager
def empty_database(settings: Settings, tmp_path: Path, template: Path) -> Iterator[str]:
    """Another database of the same kind as the test's, with no rows."""
    if settings.database_url.startswith("postgres"):
        with postgres_database() as url:
            yield url
    else:
        directory = tmp_path / "copy"
        directory.mkdir()
        yield copied_sqlite(template, directory)


@pytest.fixture
async def urls(
    app: FastAPI, settings: Settings, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[tuple[str, str]]:
    """The test's instance and an empty one (its own database and master key), served."""
    with empty_database(settings, tmp_path, sqlite_template) as url:
        other = Settings(
            database_url=url,
            secret_key=new_master_key_text(),
            bootstrap_token=ADMIN_TOKEN,
            access_log=False,
            rate_limit_per_second=0,
        )
        copy = create_app(other)
        async with (
            copy.router.lifespan_context(copy),
            served(app) as source,
            served(copy) as target,
        ):
            yield source, target


def build(client: Client) -> None:
    """An instance of several principals, each owning things, made through the API."""
    document = {
        "principals": [
            {"name": ADMIN},
            {"name": "alice", "apiKeys": [{"label": "alice-app", "gatewayOnly": True}]},
            {"name": "bob"},
            {"name": "carol"},
        ],
        "modelGroups": [
            {**GROUP, "owner": "alice", "runtimes": [{"runtimeId": "desk-1"}]},
            {
                **GROUP,
                "owner": "bob",
                "agentPlatform": "wuying",
                "bizType": 2,
                "config": {"note": {"team": "bob"}},
                "runtimes": [{"runtimeId": "i-bob", "runtimeType": "Sandbox"}],
            },
        ],
    }
    env = {"PROVIDER_KEY": PROVIDER_KEY}
    stack.apply(client, stack.plan(client, stack.parse(document), environ=env))
    ids = {p.name: p.principal_id for p in client.principals.list()}
    credentials = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": LLM_KEY}}
    for owner in ("alice", "bob"):  # the same connection, owned twice
        client.llms.create("GPT-4o", "gpt-4o", owner_id=ids[owner], credentials=credentials)
    client.workspaces.create("Alice's", workspace_id="alice-ws", owner_id=ids["alice"])
    client.workspaces.add_member("alice-ws", ids["bob"], role="author")
    client.workspaces.add_member("alice-ws", ids["carol"], role="reader")
    client.workspaces.create("Bob's", workspace_id="bob-ws", owner_id=ids["bob"])
    alice, bob = ids["alice"], ids["bob"]
    made = client.prompts.create(
        "alice-ws", "hello", "Hi ${who}", owner_id=alice, template_id=TEMPLATE_ID
    )
    tid = made.prompt_template_id
    client.prompts.update("alice-ws", tid, content="Hello ${who}", owner_id=alice)
    client.prompts.update(
        "alice-ws",
        tid,
        name="greeting",
        messages=[{"role": "system", "content": "Greet ${who}."}],
        config={"temperature": 0.2},
        owner_id=alice,
    )
    client.prompts.set_label("alice-ws", tid, "production", version=2, owner_id=alice)
    client.prompts.set_label("alice-ws", tid, "staging", version=3, owner_id=alice)
    client.prompts.create("bob-ws", "notes", "Notes on ${topic}", owner_id=bob)
    client.configs.batch(
        "cn",
        "alice-svc",
        {"mode": "fast", "limits": '{"rpm": 5}'},
        formats={"limits": "json"},
        owner_id=alice,
    )
    client.configs.put("cn", "bob-svc", "model", "qwen-max", owner_id=bob)
    client.configs.set_candidate(
        "cn", "bob-svc", {"model": "qwen-plus"}, labels=["canary"], owner_id=bob
    )


async def test_an_export_applied_to_an_empty_instance_exports_the_same_document(
    urls: tuple[str, str],
) -> None:
    source_url, target_url = urls

    def scenario() -> None:
        with Client(source_url, ADMIN_TOKEN, timeout=10) as source:
            build(source)
            bob = next(p for p in source.principals.list() if p.name == "bob")
            source.principals.issue_access_key(bob.principal_id)
            exported = stack.export_stack(source)
            document = exported.document
            assert exported.notes == [
                "principal 'bob': 1 access key (a secret pair a stack cannot make again: "
                "issue it anew)"
            ]
            env = {  # the secrets the source holds, by the variables the export names
                name: LLM_KEY if name.startswith("MODELPLANE_LLM_") else PROVIDER_KEY
                for name in exported.variables
            }
            assert len(env) == 4
            assert stack.plan(source, stack.parse(document), environ=env, prune=True).changes == []
        (alices, bobs) = sorted(document["modelGroups"], key=lambda g: g["owner"])
        assert alices["runtimes"] == [{"runtimeId": "desk-1"}]
        assert bobs["runtimes"] == [{"runtimeId": "i-bob", "runtimeType": "Sandbox"}]
        assert (bobs["agentPlatform"], bobs["bizType"], bobs["config"]) == (
            "wuying",
            2,
            {"note": {"team": "bob"}},
        )
        assert sorted(llm["owner"] for llm in document["llms"]) == ["alice", "bob"]
        alice_ws = next(w for w in document["workspaces"] if w["workspaceId"] == "alice-ws")
        assert alice_ws["owner"] == "alice"
        assert alice_ws["members"] == [
            {"principal": "bob", "role": "author"},
            {"principal": "carol", "role": "reader"},
        ]
        (greeting,) = alice_ws["promptTemplates"]
        assert greeting == {
            "promptTemplateId": TEMPLATE_ID,
            "name": "greeting",
            "messages": [{"role": "system", "content": "Greet ${who}."}],
            "config": {"temperature": 0.2},
            "labels": ["staging"],
            "history": [
                {"name": "hello", "content": "Hi ${who}"},
                {"name": "hello", "content": "Hello ${who}", "labels": ["production"]},
            ],
        }

        with Client(target_url, ADMIN_TOKEN, timeout=10) as target:
            declared = stack.parse(document)
            changes = stack.plan(target, declared, environ=env)
            # The server's all-or-nothing apply, dry: no conflict, the same changes, nothing kept.
            dry = target.stacks.apply(document, secrets=env, dry_run=True)
            assert [(c["action"], c["kind"], c["name"]) for c in dry.changes] == [
                (c.action.value, c.kind, c.name) for c in changes.changes
            ]
            assert [p.name for p in target.principals.list()] == [ADMIN]
            tokens = stack.apply(target, changes)
            assert set(tokens) == {"alice/alice-app"}
            assert stack.plan(target, declared, environ=env, prune=True).changes == []
            again = stack.export_stack(target)
            assert again.document == document
            assert again.variables == exported.variables
            bound = target.model_groups.runtime_config("Default", "desk-1")
            assert bound.model_template_id == alices["modelTemplateId"]
            assert target.prompts.get("alice-ws", TEMPLATE_ID, label="production").version == 2

    await asyncio.to_thread(scenario)
