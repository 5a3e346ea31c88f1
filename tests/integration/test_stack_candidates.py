"""Gray releases in stacks, on SQLite and PostgreSQL: apply opens, replaces or leaves a
service's candidate as declared, refuses to overwrite one changed since the plan, drops
undeclared ones with prune, and export writes them so that an instance emptied and given
the export again exports the same document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane import stack
from modelplane.client import AlreadyExists, Client, FailedPrecondition, NotFound
from tests.conftest import ADMIN_TOKEN, new_member
from tests.integration.test_configs_api import acting_as
from tests.support.in_process import served

ROUTER: dict[str, Any] = {
    "cluster": "cn",
    "service": "router",
    "values": {"model": "qwen-max", "limits": '{"rpm": 60}', "legacy": "on"},
    "formats": {"limits": "json"},
    "candidate": {
        "labels": ["canary"],
        "values": {"model": "qwen-plus", "limits": '{"rpm": 120}'},
        "delete": ["legacy"],
    },
}


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


def with_candidate(**candidate: Any) -> dict[str, Any]:
    return {"configs": [{**ROUTER, "candidate": {**ROUTER["candidate"], **candidate}}]}


def applied(client: Client, document: dict[str, Any], *, prune: bool = False) -> stack.Plan:
    changes = stack.plan(client, stack.parse(document), prune=prune)
    stack.apply(client, changes)
    assert stack.plan(client, stack.parse(document), prune=prune).changes == []
    return changes


def shown(changes: stack.Plan) -> list[str]:
    return [f"{c.action.value} {c.kind} {c.name}" for c in changes.changes]


async def test_apply_opens_replaces_and_prunes_a_services_candidate(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            changes = applied(client, {"configs": [ROUTER]})
            assert changes.counts() == {"create": 4, "update": 0, "delete": 0, "replace": 0}
            assert shown(changes)[-1] == "create config-candidate cn/router"
            assert client.configs.get_namespace("cn", "router").values == ROUTER["values"]
            canary = client.configs.get_namespace("cn", "router", client_label="canary")
            assert canary.values == {"model": "qwen-plus", "limits": '{"rpm": 120}'}
            held = client.configs.candidate("cn", "router")
            assert {i.key: i.format for i in held.items if i.op == "set"} == {
                "model": "text",
                "limits": "json",
            }

            changes = applied(client, with_candidate(labels=["canary", "beta"]))
            assert shown(changes) == ["update config-candidate cn/router"]
            (labels,) = changes.changes[0].fields
            assert (labels.name, labels.old, labels.new) == (
                "labels",
                ["canary"],
                ["beta", "canary"],
            )
            assert client.configs.candidate("cn", "router").version == held.version + 1

            # Not declared: left alone, and dropped with prune; the parameters stay.
            plain = {"configs": [{k: v for k, v in ROUTER.items() if k != "candidate"}]}
            assert stack.plan(client, stack.parse(plain)).changes == []
            changes = applied(client, plain, prune=True)
            assert shown(changes) == ["delete config-candidate cn/router"]
            with pytest.raises(NotFound):
                client.configs.candidate("cn", "router")
            assert client.configs.get_namespace("cn", "router").values == ROUTER["values"]

            # An undeclared service's candidate goes before its keys.
            client.configs.put("cn", "other", "k", "v")
            client.configs.set_candidate("cn", "other", {"k": "w"}, labels=["canary"])
            changes = stack.plan(client, stack.parse(plain), prune=True)
            assert shown(changes) == [
                "delete config-candidate cn/other",
                "delete config cn/other/k",
            ]
            stack.apply(client, changes)
            with pytest.raises(NotFound):
                client.configs.candidate("cn", "other")

    await asyncio.to_thread(scenario)


async def test_a_candidate_changed_since_the_plan_is_not_overwritten(live_url: str) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            applied(client, {"configs": [ROUTER]})
            changes = stack.plan(client, stack.parse(with_candidate(values={"model": "qwen"})))
            by_hand = client.configs.set_candidate(
                "cn", "router", {"model": "by-hand"}, labels=["canary"]
            )
            with pytest.raises(stack.ApplyError) as caught:
                stack.apply(client, changes)
            assert isinstance(caught.value.cause, FailedPrecondition)
            assert caught.value.change.kind == "config-candidate"
            assert client.configs.candidate("cn", "router").version == by_hand.version

            # Planned again, the same file replaces it; and a candidate opened by hand
            # after a plan that creates one is not replaced either.
            applied(client, with_candidate(values={"model": "qwen"}))
            client.configs.drop_candidate("cn", "router")
            changes = stack.plan(client, stack.parse({"configs": [ROUTER]}))
            client.configs.set_candidate("cn", "router", {"model": "by-hand"}, labels=["x"])
            with pytest.raises(stack.ApplyError) as created:
                stack.apply(client, changes)
            assert created.value.change.kind == "config-candidate"
            assert isinstance(created.value.cause, AlreadyExists)
            assert client.configs.candidate("cn", "router").labels == ("x",)

    await asyncio.to_thread(scenario)


async def test_an_exported_candidate_applied_to_an_emptied_instance_exports_the_same(
    live_url: str,
) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            applied(client, {"configs": [ROUTER]})
            # By hand: a yaml candidate over a text key, and one on a service with no keys.
            client.configs.put("cn", "hand", "doc", "a: 1")
            client.configs.set_candidate(
                "cn", "hand", {"doc": "a: 2"}, labels=["b", "a"], formats={"doc": "yaml"}
            )
            client.configs.set_candidate("cn", "fresh", {"flag": "on"}, labels=["canary"])
            document = stack.export_stack(client).document
            hand, router = [e for e in document["configs"] if e["service"] in ("hand", "router")]
            assert hand["candidate"] == {
                "labels": ["a", "b"],
                "values": {"doc": "a: 2"},
                "formats": {"doc": "yaml"},
            }
            assert router["candidate"] == {
                "labels": ["canary"],
                "values": {"limits": '{"rpm": 120}', "model": "qwen-plus"},
                "delete": ["legacy"],
            }
            (fresh,) = [e for e in document["configs"] if e["service"] == "fresh"]
            assert fresh == {
                "cluster": "cn",
                "service": "fresh",
                "owner": "bootstrap-admin",
                "values": {},
                "candidate": {"labels": ["canary"], "values": {"flag": "on"}},
            }
            assert stack.plan(client, stack.parse(document), prune=True).changes == []

            applied(client, {}, prune=True)
            assert stack.export_stack(client).document["configs"] == []
            applied(client, document)
            assert stack.export_stack(client).document == document

    await asyncio.to_thread(scenario)


async def test_a_candidate_delete_of_a_key_deleted_since_is_left_out_of_the_export(
    live_url: str,
) -> None:
    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as client:
            applied(client, {"configs": [ROUTER]})
            client.configs.batch("cn", "router", delete=["legacy"])
            client.configs.put("cn", "only-delete", "gone", "x")
            client.configs.set_candidate("cn", "only-delete", delete=["gone"], labels=["canary"])
            client.configs.batch("cn", "only-delete", delete=["gone"])
            document = stack.export_stack(client).document
            (router,) = [e for e in document["configs"] if e["service"] == "router"]
            assert "delete" not in router["candidate"]
            assert [e for e in document["configs"] if e["service"] == "only-delete"] == []

            applied(client, {}, prune=True)
            applied(client, document)
            assert stack.export_stack(client).document == document

    await asyncio.to_thread(scenario)


async def test_an_admin_opens_a_candidate_in_a_members_service_only_naming_its_owner(
    app: FastAPI, client: httpx.AsyncClient, live_url: str
) -> None:
    alice_id, alice_token = await new_member(client, "alice")
    async with acting_as(app, alice_token) as alice:
        assert (await alice.put("/v1/configs/cn/service/alices/k", json={"value": "v"})).is_success
    gray = {"labels": ["canary"], "values": {"k": "gray"}}
    entry = {"cluster": "cn", "service": "alices", "values": {"k": "v"}, "candidate": gray}

    def scenario() -> None:
        with Client(live_url, ADMIN_TOKEN, timeout=10) as admin:
            changes = stack.plan(admin, stack.parse({"configs": [entry]}))
            with pytest.raises(stack.ApplyError) as caught:
                stack.apply(admin, changes)
            assert isinstance(caught.value.cause, FailedPrecondition)
            assert "ownerId" in str(caught.value)
            applied(admin, {"configs": [{**entry, "ownerId": alice_id}]})
            found = admin.configs.get_namespace("cn", "alices", client_label="canary")
            assert found.values == {"k": "gray"}

    await asyncio.to_thread(scenario)
