"""`POST /v1/stack:apply` on SQLite and PostgreSQL: the server plans and applies a stack in
one transaction, so a failing change leaves nothing of the changes before it, a dry-run
reports every conflict and writes nothing (no cache, no audit event), works without the
secrets, prune refuses a document that would delete everything, and the tokens of the
keys it issues are shown once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane import stack_endpoint
from modelplane.security.rate_limits import RateLimit, RateLimiter
from modelplane.stack_endpoint import StackApplyOut, StackConflictOut
from tests.support.declared_fields import DeclaredFields

APPLY = "/v1/stack:apply"
SECRET = "sk-endpoint-0123456789abcdef"


def llm(name: str, model: str = "m1") -> dict[str, Any]:
    return {
        "displayName": name,
        "modelIdentifier": model,
        "providerType": "OPENAI",
        "endpointUrl": "http://127.0.0.1:9/v1",
    }


def group(name: str, base_url: str = "https://llm.example/v1") -> dict[str, Any]:
    return {
        "name": name,
        "providers": [
            {
                "providerName": "provider-p",
                "name": "P",
                "providerType": "Custom",
                "baseUrl": base_url,
                "api": "openai-completions",
                "models": [{"llmCode": "m", "name": "M"}],
            }
        ],
    }


WORKSPACE = {
    "workspaceId": "ws-apply",
    "name": "W",
    "promptTemplates": [{"name": "t", "content": "hi"}],
}
CONFIG = {"cluster": "c1", "service": "chat", "values": {"temperature": "0.5"}}


def doc(**sections: Any) -> dict[str, Any]:
    return {"apiVersion": "modelplane/v1", **sections}


async def nothing_exists(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/llms")).json()["llms"] == []
    assert (await client.get("/v1/model-groups")).json()["modelGroups"] == []
    assert (await client.get("/v1/workspaces/ws-apply")).status_code == 404
    assert (await client.get("/v1/configs/c1/service/chat")).json()["configs"] == []


async def test_a_conflict_at_change_n_leaves_the_changes_before_it_unapplied(
    client: httpx.AsyncClient,
) -> None:
    # Change 1 creates LLM `one`; change 2, LLM `two` on the same connection, is refused;
    # the workspace, its template and the parameter after it would succeed.
    stack = doc(llms=[llm("one"), llm("two")], workspaces=[WORKSPACE], configs=[CONFIG])
    answer = await client.post(APPLY, json={"document": stack})
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["code"] == "ALREADY_EXISTS"
    assert "1 of 5 changes failed; nothing was applied" in body["message"]
    assert [(c["action"], c["kind"], c["name"], c["status"]) for c in body["conflicts"]] == [
        ("create", "llm", "two", 409)
    ]
    assert body["details"][0]["field"] == "create llm two"
    assert body["details"][0]["rule"].startswith("ALREADY_EXISTS: an LLM with the same connection")
    await nothing_exists(client)
    events = (await client.get("/v1/audit-events")).json()["auditEvents"]
    assert not [e for e in events if e["resourceType"] in ("llm", "workspace", "config")]

    # Without the conflict, all of it is applied, once.
    fixed = doc(llms=[llm("one"), llm("two", "m2")], workspaces=[WORKSPACE], configs=[CONFIG])
    answer = await client.post(APPLY, json={"document": fixed})
    assert answer.status_code == 200, answer.text
    assert answer.json()["create"] == 5
    names = sorted(x["displayName"] for x in (await client.get("/v1/llms")).json()["llms"])
    assert names == ["one", "two"]
    assert (await client.get("/v1/configs/c1/service/chat/temperature")).json()["value"] == "0.5"
    again = (await client.post(APPLY, json={"document": fixed})).json()
    assert again["changes"] == []


async def test_a_dry_run_reports_every_conflict_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    stack = doc(
        llms=[llm("one"), llm("two")],
        modelGroups=[group("g1", "ftp://bad.example"), group("g2")],
        workspaces=[WORKSPACE],
        configs=[CONFIG],
    )
    answer = await client.post(APPLY, json={"document": stack, "dryRun": True})
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["dryRun"] is True and "would fail" in body["message"]
    failing = [(c["kind"], c["name"], c["code"]) for c in body["conflicts"]]
    assert failing == [
        ("llm", "two", "ALREADY_EXISTS"),
        ("provider", "g1/provider-p", "INVALID_ARGUMENT"),
        ("model", "g1/provider-p/m", "FAILED_PRECONDITION"),  # needs the provider that failed
    ]
    assert "baseUrl" in body["conflicts"][1]["message"]
    assert len(body["changes"]) == 11  # the whole plan, for the record
    await nothing_exists(client)

    # The same dry-run of a stack without conflicts answers the plan, and still writes
    # nothing; the real apply then does it.
    clean = doc(llms=[llm("one")], modelGroups=[group("g2")], workspaces=[WORKSPACE])
    answer = await client.post(APPLY, json={"document": clean, "dryRun": True})
    assert answer.status_code == 200, answer.text
    assert answer.json()["create"] == 6 and answer.json()["dryRun"] is True
    await nothing_exists(client)
    events = (await client.get("/v1/audit-events")).json()["auditEvents"]
    assert not [e for e in events if e["resourceType"] in ("llm", "model_template", "workspace")]
    assert (await client.post(APPLY, json={"document": clean})).json()["create"] == 6


async def test_a_dry_run_never_leaves_its_writes_in_the_read_cache(
    client: httpx.AsyncClient,
) -> None:
    made = await client.post(APPLY, json={"document": doc(llms=[llm("one")])})
    assert made.status_code == 200, made.text
    (found,) = (await client.get("/v1/llms")).json()["llms"]
    path = f"/v1/llms/{found['llmId']}"
    assert (await client.get(path)).json()["description"] in (None, "")  # now cached
    changed = doc(llms=[{**llm("one"), "description": "changed"}])
    answer = await client.post(APPLY, json={"document": changed, "dryRun": True})
    assert answer.json()["update"] == 1
    assert (await client.get(path)).json().get("description") in (None, "")
    assert (await client.post(APPLY, json={"document": changed})).status_code == 200
    assert (await client.get(path)).json()["description"] == "changed"


async def test_a_changed_model_is_updated_in_place_keeping_its_id_and_the_default(
    client: httpx.AsyncClient,
) -> None:
    declared = {**group("g"), "defaultModel": "provider-p/m"}
    assert (await client.post(APPLY, json={"document": doc(modelGroups=[declared])})).is_success
    (before,) = (await client.get("/v1/llm-templates")).json()["llmTemplates"]
    assert before["isDefaultModel"] is True

    model = {"llmCode": "m", "name": "M2", "description": "d", "config": {"t": 1}}
    declared["providers"] = [{**declared["providers"][0], "models": [model]}]
    answer = await client.post(APPLY, json={"document": doc(modelGroups=[declared])})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["create"], body["update"], body["delete"], body["replace"]) == (0, 1, 0, 0)
    (change,) = body["changes"]
    assert (change["action"], change["kind"], change["name"]) == (
        "update",
        "model",
        "g/provider-p/m",
    )
    assert [f["name"] for f in change["fields"]] == ["name", "description", "config"]

    (after,) = (await client.get("/v1/llm-templates")).json()["llmTemplates"]
    assert after == {**before, "name": "M2", "description": "d", "config": {"t": 1}}
    assert (await client.get("/v1/model-groups")).json()["modelGroups"][0][
        "defaultModel"
    ] == "provider-p/m"
    events = await client.get("/v1/audit-events", params={"resourceType": "llm_template"})
    assert [e["action"] for e in events.json()["auditEvents"]] == ["update", "create"]
    again = (await client.post(APPLY, json={"document": doc(modelGroups=[declared])})).json()
    assert again["changes"] == []


async def test_a_dry_run_plans_without_secrets_and_a_real_apply_names_each(
    client: httpx.AsyncClient,
) -> None:
    secret_llm = {**llm("one"), "credentials": {"apiKey": {"secret": "env://OPENAI_KEY"}}}
    secret_group = group("g")
    secret_group["providers"][0]["apiKey"] = "env://PROVIDER_KEY"
    stack = doc(llms=[secret_llm], modelGroups=[secret_group])
    answer = await client.post(APPLY, json={"document": stack, "dryRun": True})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["missingSecrets"] == [
        "llms[0].credentials.apiKey.secret: environment variable OPENAI_KEY is not set",
        "modelGroups[0].providers[0].apiKey: environment variable PROVIDER_KEY is not set",
    ]
    assert body["create"] == 4
    await nothing_exists(client)

    refused = await client.post(APPLY, json={"document": stack, "secrets": {"OPENAI_KEY": SECRET}})
    assert refused.status_code == 400
    assert "PROVIDER_KEY is not set" in refused.text and "OPENAI_KEY" not in refused.text
    await nothing_exists(client)

    secrets = {"OPENAI_KEY": SECRET, "PROVIDER_KEY": SECRET}
    done = await client.post(APPLY, json={"document": stack, "secrets": secrets})
    assert done.status_code == 200 and done.json()["missingSecrets"] == []
    assert SECRET not in done.text
    (made,) = (await client.get("/v1/llms")).json()["llms"]
    check = {"credentials": {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": SECRET}}}
    verified = await client.post(f"/v1/llms/{made['llmId']}/credentials:verify", json=check)
    assert verified.status_code == 200 and verified.json()["matches"] is True


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ({"workspaces": [WORKSPACE]}, "apiVersion: required with prune"),
        ({"apiVersion": "modelplane/v1"}, "with prune the stack must declare something"),
        ({"apiVersion": "modelplane/v1", "llms": [], "configs": []}, "must declare something"),
    ],
)
async def test_prune_refuses_a_document_that_would_delete_everything(
    client: httpx.AsyncClient, document: dict[str, Any], rule: str
) -> None:
    await client.post(APPLY, json={"document": doc(workspaces=[WORKSPACE])})
    for dry_run in (True, False):
        answer = await client.post(
            APPLY, json={"document": document, "prune": True, "dryRun": dry_run}
        )
        assert answer.status_code == 400
        (detail,) = answer.json()["details"]
        assert detail["field"] == "document" and rule in detail["rule"]
    assert (await client.get("/v1/workspaces/ws-apply")).status_code == 200


async def test_the_token_of_an_issued_key_is_shown_once_and_works(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    stack = doc(principals=[{"name": "billing", "apiKeys": [{"label": "app"}]}])
    dry = (await client.post(APPLY, json={"document": stack, "dryRun": True})).json()
    assert [c["kind"] for c in dry["changes"]] == ["principal", "api-key"]
    assert all("token" not in c for c in dry["changes"])  # a dry-run issues nothing
    answer = await client.post(APPLY, json={"document": stack})
    assert answer.status_code == 200, answer.text
    (key,) = [c for c in answer.json()["changes"] if c["kind"] == "api-key"]
    token = key["token"]
    assert key["name"] == "billing/app" and token.startswith("mp_")
    used = await anon.get("/v1/llms", headers={"Authorization": f"Bearer {token}"})
    assert used.status_code == 200
    names = {p["name"] for p in (await client.get("/v1/principals")).json()["principals"]}
    assert "billing" in names
    again = (await client.post(APPLY, json={"document": stack})).json()
    assert again["changes"] == [] and token not in str(again)


async def test_every_call_of_an_apply_is_the_callers_and_names_the_apply_in_the_audit(
    client: httpx.AsyncClient,
) -> None:
    (me,) = [
        p["principalId"]
        for p in (await client.get("/v1/principals")).json()["principals"]
        if p["name"] == "bootstrap-admin"
    ]
    answer = await client.post(
        APPLY, json={"document": doc(workspaces=[WORKSPACE])}, headers={"x-request-id": "apply-1"}
    )
    assert answer.status_code == 200
    events = (await client.get("/v1/audit-events")).json()["auditEvents"]
    mine = [e for e in events if e["requestId"] == "apply-1"]
    assert {e["resourceType"] for e in mine} >= {"workspace", "prompt_template"}
    assert {e["actorId"] for e in mine} == {me}


async def test_a_plan_over_the_bound_is_refused_before_anything_is_applied(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack_endpoint, "CHANGES_MAX", 2)
    answer = await client.post(
        APPLY, json={"document": doc(workspaces=[WORKSPACE], configs=[CONFIG])}
    )
    assert answer.status_code == 400
    assert "the stack makes 3 changes; at most 2 per apply" in answer.json()["details"][0]["rule"]
    await nothing_exists(client)


async def test_a_bad_document_names_its_place(client: httpx.AsyncClient) -> None:
    answer = await client.post(APPLY, json={"document": {"llms": [{"displayName": "x"}]}})
    assert answer.status_code == 400
    assert "llms[0].modelIdentifier: required" in answer.json()["details"][0]["rule"]
    unknown = await client.post(APPLY, json={"document": {}, "dryrun": True})
    assert unknown.status_code == 400 and unknown.json()["details"][0]["field"] == "dryrun"


async def test_other_writes_during_an_apply_wait_for_it_and_both_land(
    client: httpx.AsyncClient,
) -> None:
    many = doc(
        configs=[{**CONFIG, "values": {f"k{i}": str(i) for i in range(30)}}], workspaces=[WORKSPACE]
    )
    other = {"workspaceId": "ws-other", "name": "Other"}
    applied, made = await asyncio.gather(
        client.post(APPLY, json={"document": many}),
        client.post("/v1/workspaces", json=other),
    )
    assert applied.status_code == 200, applied.text
    assert made.status_code in (200, 201), made.text
    ids = {w["workspaceId"] for w in (await client.get("/v1/workspaces")).json()["workspaces"]}
    assert ids == {"ws-apply", "ws-other"}


async def test_the_calls_an_apply_makes_count_once_against_the_rate_limit(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.rate_limits = RateLimiter(RateLimit(0.001, 2), {})  # two requests, then 429
    answer = await client.post(
        APPLY, json={"document": doc(workspaces=[WORKSPACE], configs=[CONFIG])}
    )
    assert answer.status_code == 200, answer.text  # a dozen calls inside, counted as one
    assert (await client.get("/v1/workspaces")).status_code == 200
    assert (await client.get("/v1/workspaces")).status_code == 429


async def test_every_answer_has_exactly_the_fields_of_its_declared_model(
    client: httpx.AsyncClient,
) -> None:
    # The route lives outside the native face, so tests/unit/test_native_answers.py leaves
    # its answers to this test: a dry-run, an apply issuing a key, a conflict.
    fields = DeclaredFields()
    stack = doc(
        llms=[llm("one")],
        principals=[{"name": "shaped", "apiKeys": [{"label": "app"}]}],
        configs=[CONFIG],
    )
    dry = await client.post(APPLY, json={"document": stack, "dryRun": True})
    done = await client.post(APPLY, json={"document": stack})
    refused = await client.post(APPLY, json={"document": doc(llms=[llm("two")])})
    unplanned = await client.post(APPLY, json={})  # refused before any plan: a plain error
    assert (dry.status_code, done.status_code, refused.status_code) == (200, 200, 409)
    assert unplanned.status_code == 400
    problems = [
        *fields.check(dry.json(), StackApplyOut),
        *fields.check(done.json(), StackApplyOut),
        *fields.check(refused.json(), StackConflictOut),
        *fields.check(unplanned.json(), StackConflictOut),
    ]
    assert not problems, "\n".join(problems)
