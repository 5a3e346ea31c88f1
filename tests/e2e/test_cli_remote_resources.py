"""`modelplane principals|keys|llms|model-groups|workspaces|prompts|configs` round trips.

Each test runs the commands against a live server and checks what they print in the three
output formats and their exit codes. On SQLite each command is a child process
(`python -m modelplane`), as a user runs it; on PostgreSQL the same commands run in this
process through typer's CliRunner (same code, same kind of server, no interpreter
start-up), which keeps the module fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from modelplane.client import Client
from tests.support.cli import Cli, assert_error, clean_env
from tests.support.databases import database
from tests.support.server import Server, instance_env

ADMIN_TOKEN = "mp_cli_admin_token_0123456789abcdef"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`modelplane serve` with a known admin token."""
    directory: Path = tmp_path_factory.mktemp(f"cli-{request.param}")
    with database(request.param, directory) as url:
        env = instance_env(url, ADMIN_TOKEN)
        with Server(cwd=directory, env=env) as live:
            yield live


@pytest.fixture
def cli(server: Server, tmp_path: Path, request: pytest.FixtureRequest) -> Cli:
    in_process = "postgres" in request.node.callspec.id
    return Cli(url=server.url, token=ADMIN_TOKEN, cwd=tmp_path, in_process=in_process)


@pytest.fixture
def sdk(server: Server) -> Iterator[Client]:
    with Client(server.url, api_key=ADMIN_TOKEN) as client:
        yield client


def test_principals_round_trip(cli: Cli) -> None:
    made = cli.json("principals", "create", "--name", "cli-ops", "--role", "admin")
    assert made["name"] == "cli-ops" and made["role"] == "admin"
    pid = made["principalId"]

    shown = cli.ok("principals", "get", pid)
    assert "field" in shown and pid in shown and "cli-ops" in shown
    listed = yaml.safe_load(cli.ok("principals", "list", "-o", "yaml"))
    assert pid in {p["principalId"] for p in listed}
    assert_error(cli("principals", "create", "--name", "cli-ops"), 4, "already exists", "cli-ops")

    assert cli.json("principals", "delete", pid) == {"deleted": True, "id": pid}
    assert_error(cli("principals", "get", pid), 3, "error: not found: ")


def test_principals_delete_refuses_an_owner_and_hands_over_with_transfer_to(cli: Cli) -> None:
    pid = cli.json("principals", "create", "--name", "cli-leaver")["principalId"]
    heir = cli.json("principals", "create", "--name", "cli-heir")["principalId"]
    made = cli.json(
        "llms", "create", "--display-name", "Left", "--model-identifier", "gpt-4o-mini",
        "--owner-id", pid,
    )  # fmt: skip
    llm = made["llm"]["llmId"]

    refused = cli("principals", "delete", pid)
    assert_error(refused, 4, "failed precondition: ", f"principal {pid} still owns 1 llm;")
    assert_error(cli("principals", "delete", pid, "--transfer-to", pid), 6, "transferTo")
    assert cli("principals", "delete", pid, "--transfer-to", "").returncode == 2
    assert (
        cli.ok("principals", "delete", pid, "--transfer-to", heir) == f"deleted principal {pid}\n"
    )
    assert cli.json("llms", "get", llm)["ownerId"] == heir
    assert_error(cli("principals", "get", pid), 3, "error: not found: ")
    cli.ok("llms", "delete", llm)
    cli.ok("principals", "delete", heir)


def test_api_keys_and_access_keys(cli: Cli, server: Server) -> None:
    pid = cli.json("principals", "create", "--name", "cli-bot")["principalId"]
    issued = cli.json("keys", "create", pid, "--label", "ci")
    key_id, token = issued["apiKey"]["apiKeyId"], issued["token"]
    assert token.startswith("mp_") and issued["apiKey"]["label"] == "ci"

    as_bot = Cli(url=server.url, token=token, cwd=cli.cwd, in_process=cli.in_process)
    assert_error(as_bot("principals", "list"), 5, "permission denied")

    listed = cli.ok("keys", "list", pid)
    assert key_id in listed and "ci" in listed
    revoked = yaml.safe_load(cli.ok("keys", "revoke", pid, key_id, "-o", "yaml"))
    assert revoked["apiKeyId"] == key_id and revoked["revokedAt"] is not None
    assert_error(as_bot("llms", "list"), 5, "unauthenticated")

    pair = cli.json("keys", "create", pid, "--kind", "access")
    assert pair["accessKeyId"].startswith("MPAK") and len(pair["accessKeySecret"]) >= 20
    assert pair["accessKeyId"] in cli.ok("keys", "list", pid, "--kind", "access")
    gone = cli.json("keys", "revoke", pid, pair["accessKeyId"], "--kind", "access")
    assert gone["revokedAt"] is not None


def test_llms_round_trip_keeps_secrets_out_of_the_output(cli: Cli, sdk: Client) -> None:
    secret = "sk-cli-test-" + "s3cr3t" * 4
    cli.env["CLI_TEST_KEY"] = secret
    result = cli(
        "llms", "create", "--display-name", "GPT-4o", "--model-identifier", "gpt-4o",
        "--api-key-from-env", "CLI_TEST_KEY", "--label", "team=search", "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    created = json.loads(result.stdout)
    llm = created["llm"]
    assert llm["hasCredentials"] is True and llm["labels"] == {"team": "search"}
    assert created["statuses"][0]["code"] == "LLM_CAPABILITY_INFERRED"
    assert sdk.llms.verify_credentials(
        llm["llmId"], {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": secret}}
    )
    llm_id = llm["llmId"]

    table = cli.ok("llms", "get", llm_id)
    assert "capabilities.supportsChat" in table and "GPT-4o" in table and secret not in table
    assert llm_id in cli.ok("llms", "list", "--label", "team=search")

    merged = cli.json("llms", "update", llm_id, "--label", "env=prod", "--description", "d")
    assert merged["labels"] == {"team": "search", "env": "prod"} and merged["description"] == "d"
    replaced = cli.json("llms", "update", llm_id, "--replace-labels", "--label", "a=b")
    assert replaced["labels"] == {"a": "b"}

    again = cli(
        "llms", "create", "--display-name", "Same", "--model-identifier", "gpt-4o",
        "--api-key-from-env", "CLI_TEST_KEY",
    )  # fmt: skip
    assert_error(again, 4, "already exists")
    assert secret not in again.stdout + again.stderr

    assert cli.json("llms", "delete", llm_id) == {"deleted": True, "id": llm_id}
    assert_error(cli("llms", "get", llm_id), 3, "not found", llm_id)


def test_llm_from_a_body_file_with_a_secret_reference(cli: Cli, sdk: Client) -> None:
    (cli.cwd / "llm.yaml").write_text(
        "displayName: From a file\nmodelIdentifier: my-model\nproviderType: OPENAI\n"
        "endpointUrl: https://llm.example.com/v1\nmaxContextLength: 4096\n"
    )
    made = cli.json("llms", "create", "-f", str(cli.cwd / "llm.yaml"), "--api-key-env", "MY_KEY")
    llm = made["llm"]
    assert llm["displayName"] == "From a file" and llm["maxContextLength"] == 4096
    stored = sdk.llms.credentials(llm["llmId"])
    assert stored is not None and stored["apiKey"]["secretRef"]["uri"] == "env://MY_KEY"

    piped = cli(
        "llms", "update", llm["llmId"], "--api-key-stdin", "--max-context-length", "8192",
        "-o", "yaml", input="sk-from-stdin-0123456789\n",
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert "sk-from-stdin" not in piped.stdout
    assert yaml.safe_load(piped.stdout)["maxContextLength"] == 8192

    bad = cli("llms", "create", "--display-name", "x", "--model-identifier", "m",
              "--endpoint-url", "ftp://x")  # fmt: skip
    assert_error(bad, 6, "invalid argument", "endpointUrl")


def test_model_groups_round_trip(cli: Cli, sdk: Client) -> None:
    group = cli.json("model-groups", "create", "--name", "cli-demo", "--description", "x",
                     "--agent-platform", "Wuying", "--biz-type", "7")  # fmt: skip
    gid = group["modelTemplateId"]
    assert gid.startswith("mt-") and (group["agentPlatform"], group["bizType"]) == ("Wuying", 7)
    assert "cli-demo" in cli.ok("model-groups", "get", gid)
    listed = cli.json("model-groups", "list", "--page-size", "1")  # every page, one by one
    assert gid in {g["modelTemplateId"] for g in listed}

    provider = sdk.provider_templates.create(
        gid, "Bailian", "provider-bailian", "Custom",
        config={"baseUrl": "https://dashscope.aliyuncs.com/compatible-mode/v1", "apiKey": "sk-1"},
    )  # fmt: skip
    sdk.llm_templates.batch_create(provider.provider_template_id, [{"llmCode": "qwen-max"}])
    assert "provider-bailian" in cli.ok("model-groups", "providers", "list", gid)
    (model,) = cli.json("model-groups", "models", "list", gid)
    assert model["llmCode"] == "qwen-max"
    renamed = cli.json("model-groups", "models", "update", model["llmTemplateId"], "--name", "Max")
    assert renamed == {**model, "name": "Max"}

    default = "provider-bailian/qwen-max"
    changed = cli.ok("model-groups", "update", gid, "--name", "g2", "--default-model", default,
                     "-o", "yaml")  # fmt: skip
    updated = yaml.safe_load(changed)
    assert updated["defaultModel"] == default and updated["name"] == "g2"
    assert_error(cli("model-groups", "update", gid, "--default-model", "nope/x"), 6, "defaultModel")
    config = "defaults:\n  model:\n    primary: provider-bailian/qwen-max\n  temperature: 0.2\n"
    replaced = cli.json("model-groups", "update", gid, "--config", "-", input=config)
    assert replaced["config"]["defaults"]["temperature"] == 0.2

    assert "deleted model group" in cli.ok("model-groups", "delete", gid)
    assert_error(cli("model-groups", "get", gid), 3, "not found")


def test_a_catalog_is_built_and_changed_from_the_cli(cli: Cli, sdk: Client) -> None:
    # Many commands: in this process on both stores (the round trip above runs them as
    # child processes on SQLite).
    cli = Cli(url=cli.url, token=cli.token, cwd=cli.cwd, in_process=True)
    gid = cli.json("model-groups", "create", "--name", "cli-catalog")["modelTemplateId"]
    assert_error(cli("model-groups", "update", gid, "--config", "-", input="[1]"), 2, "object")
    assert_error(cli("model-groups", "update", gid), 2, "nothing to change")
    bad = cli("model-groups", "create", "--name", "x", "--ref-scope", "EVERYONE")
    assert_error(bad, 6, "refScope")
    secret = "sk-cli-provider-SECRET-4f1a"
    url = "https://acme.test/v1"
    add = ("model-groups", "providers", "add", gid, "--provider-name", "provider-acme",
           "--name", "Acme", "--base-url", url, "--api", "openai-completions")  # fmt: skip
    made = cli(*add, "--api-key-from-env", "ACME_KEY", "-o", "json", env={"ACME_KEY": secret})
    assert made.returncode == 0, made.stderr
    provider = json.loads(made.stdout)
    pid = provider["providerTemplateId"]
    assert pid.startswith("mpt-") and provider["hasApiKey"] is True and secret not in made.stdout
    assert provider["config"] == {"baseUrl": "https://acme.test/v1", "api": "openai-completions",
                                  "apiKey": "sk-****4f1a"}  # fmt: skip
    assert sdk.provider_templates.verify_api_key(pid, secret) is True
    assert_error(cli(*add), 4, "already exists")
    assert_error(cli(*add[:5], "acme"), 6, "providerName", "provider-")
    assert_error(cli(*add[:5], "provider-b", "--api-key-from-env", "NOT_SET_ANYWHERE"), 2,
                 "NOT_SET_ANYWHERE")  # fmt: skip
    assert cli(*add[:5], "provider-b", "--type", "Other").returncode == 2
    table = cli.ok("model-groups", "providers", "list", gid)
    assert table.splitlines()[0].split() == [
        "providerTemplateId", "providerName", "providerType", "name", "hasApiKey"
    ]  # fmt: skip
    assert f"{pid}  provider-acme" in table

    changed = cli.json("model-groups", "providers", "update", pid, "--description", "d",
                       "--base-url", "", "--clear-api-key")  # fmt: skip
    assert (changed["description"], changed["hasApiKey"]) == ("d", False)
    assert changed["config"] == {"baseUrl": None, "api": "openai-completions", "apiKey": None}
    rekeyed = cli.json("model-groups", "providers", "update", pid, "--api-key-stdin",
                       input=secret + "\n")  # fmt: skip
    assert rekeyed["hasApiKey"] is True and sdk.provider_templates.verify_api_key(pid, secret)
    assert_error(cli("model-groups", "providers", "update", pid), 2, "nothing to change")
    bad_url = cli("model-groups", "providers", "update", pid, "--base-url", "ftp://x")
    assert_error(bad_url, 6, "config.baseUrl")

    # One model, then a batch from stdin: new codes created, the rest skipped and listed.
    one = cli.json("model-groups", "models", "add", pid, "qwen-max", "--name", "Max", "--default")
    assert (one["llmCode"], one["name"], one["isDefaultModel"]) == ("qwen-max", "Max", True)
    assert sdk.model_groups.get(gid).default_model == "provider-acme/qwen-max"
    assert_error(cli("model-groups", "models", "add", pid, "qwen-max"), 4, "already exists",
                 "qwen-max")  # fmt: skip
    batch = (
        "- qwen-plus\n- {llmCode: qwen-turbo, config: {maxTokens: 9}}\n- qwen-max\n- qwen-plus\n"
    )
    rows = cli.ok("model-groups", "models", "add-many", pid, "-f", "-", input=batch).splitlines()
    assert rows[0].split() == ["llmCode", "llmTemplateId", "result"]
    assert [r.split()[0] for r in rows[1:]] == ["qwen-plus", "qwen-turbo", "qwen-max", "qwen-plus"]
    assert [r.split()[1].startswith("llmt-") for r in rows[1:3]] == [True, True]
    assert "skipped: LLM template already exists" in rows[3]
    assert "skipped: The same llmCode appears more than once" in rows[4]
    models = cli.json("model-groups", "models", "list", gid, "--provider", pid)
    assert [m["llmCode"] for m in models] == ["qwen-max", "qwen-plus", "qwen-turbo"]
    assert rows[2].split()[1] == models[2]["llmTemplateId"]  # the row names the model made

    # A bad batch is refused whole: by its shape before sending, by the server's rules after.
    wrong = "- {llmCode: 1}\n- {nme: x}\n- [a]\n"
    assert_error(cli("model-groups", "models", "add-many", pid, "-f", "-", input=wrong), 2,
                 "items.0.llmCode: must be text", "items.1.nme: unknown field",
                 "items.1.llmCode: required", "items.2: must be a code")  # fmt: skip
    refused = cli("model-groups", "models", "add-many", pid, "-f", "-", "-o", "json",
                  input="- ok-code\n- {llmCode: 'bad code!'}\n")  # fmt: skip
    assert_error(refused, 6, "items.1.llmCode")
    two_defaults = "- {llmCode: d1, isDefaultModel: true}\n- {llmCode: d2, isDefaultModel: true}\n"
    batch_result = cli("model-groups", "models", "add-many", pid, "-f", "-", input=two_defaults)
    assert_error(batch_result, 6, "items", "default")
    assert [m["llmCode"] for m in cli.json("model-groups", "models", "list", gid)] == [
        "qwen-max", "qwen-plus", "qwen-turbo"
    ]  # fmt: skip
    assert_error(cli("model-groups", "models", "add-many", pid, "-f", "-", input="{}"), 2, "list")
    via_file = cli.cwd / "models.json"
    via_file.write_text(json.dumps([{"llmCode": "qwen-long", "isDefaultModel": True}]))
    made_json = cli.json("model-groups", "models", "add-many", pid, "-f", str(via_file))
    assert (made_json["successCount"], made_json["totalCount"]) == (1, 1)
    assert sdk.model_groups.get(gid).default_model == "provider-acme/qwen-long"

    # The default moves, models go, runtimes bind to the group and read it.
    moved = cli.json("model-groups", "update", gid, "--default-model", "provider-acme/qwen-plus")
    assert moved["defaultModel"] == "provider-acme/qwen-plus"
    # A model changes in place: its id, code and default stay; its config is replaced whole.
    plus = models[1]["llmTemplateId"]
    edited = cli.json("model-groups", "models", "update", plus, "--name", "Plus",
                      "--description", "mid-size", "--config", "-",
                      input="cost: {input: 0.8, output: 2}\n")  # fmt: skip
    assert (edited["llmTemplateId"], edited["llmCode"], edited["isDefaultModel"]) == (
        plus, "qwen-plus", True
    )  # fmt: skip
    assert (edited["name"], edited["description"]) == ("Plus", "mid-size")
    assert edited["config"] == {"cost": {"input": 0.8, "output": 2}}
    assert sdk.model_groups.get(gid).default_model == "provider-acme/qwen-plus"
    assert_error(cli("model-groups", "models", "update", plus), 2, "nothing to change")
    assert_error(cli("model-groups", "models", "update", plus, "--config", "-", input="[1]"), 2,
                 "object")  # fmt: skip
    assert_error(cli("model-groups", "models", "update", plus, "--config", "-",
                     input="cost: {input: free}\n"), 6, "config.cost.input")  # fmt: skip
    assert_error(cli("model-groups", "models", "update", "llmt-none", "--name", "x"), 3,
                 "not found")  # fmt: skip
    assert cli.json("model-groups", "models", "get", plus)["name"] == "Plus"

    gone = models[2]["llmTemplateId"]
    assert cli.ok("model-groups", "models", "delete", gone) == f"deleted model {gone}\n"
    assert_error(cli("model-groups", "models", "get", gone), 3, "not found")
    assert cli.json("model-groups", "models", "get", models[0]["llmTemplateId"])["name"] == "Max"

    bound = cli.ok("model-groups", "runtimes", "bind", gid, "rt-1", "rt-2")
    assert bound.splitlines()[0].split() == ["runtimeId", "success", "code", "message"]
    seen = cli.json("model-groups", "runtimes", "config", "rt-1")
    assert (seen["modelTemplateId"], seen["defaultModel"]) == (gid, "provider-acme/qwen-plus")
    cli.ok("model-groups", "runtimes", "bind", gid, "desk-1", "--type", "Desktop")
    listed = cli.ok("model-groups", "runtimes", "list", gid, "--page-size", "1").splitlines()
    assert listed[0].split() == ["runtimeType", "runtimeId", "createdAt"]
    assert [r.split()[:2] for r in listed[1:]] == [
        ["Default", "rt-1"], ["Default", "rt-2"], ["Desktop", "desk-1"]
    ]  # fmt: skip
    unbound = cli("model-groups", "runtimes", "unbind", gid, "rt-2", "rt-9", "-o", "json")
    assert_error(unbound, 3, "1 of 2 runtimes failed", "rt-9")
    assert [r["code"] for r in json.loads(unbound.stdout)["results"]] == ["OK", "NOT_FOUND"]
    assert_error(cli("model-groups", "runtimes", "config", "rt-2"), 3, "not found")
    assert cli("model-groups", "runtimes", "bind", gid, "x", "--type", "").returncode == 2
    too_many = [f"rt-{n}" for n in range(101)]
    assert_error(cli("model-groups", "runtimes", "bind", gid, *too_many), 6, "runtimeIds")

    assert (
        cli.ok("model-groups", "providers", "delete", pid) == f"deleted provider template {pid}\n"
    )
    assert cli.json("model-groups", "models", "list", gid) == []
    assert cli.json("model-groups", "get", gid)["defaultModel"] is None
    assert_error(cli("model-groups", "providers", "get", pid), 3, "not found")
    cli.ok("model-groups", "delete", gid)


def test_a_member_cannot_change_another_owners_catalog_from_the_cli(
    cli: Cli, server: Server
) -> None:
    cli = Cli(url=cli.url, token=cli.token, cwd=cli.cwd, in_process=True)
    gid = cli.json("model-groups", "create", "--name", "admins-only")["modelTemplateId"]
    pid = cli.json("model-groups", "providers", "add", gid, "--provider-name", "provider-x")[
        "providerTemplateId"
    ]
    member = cli.json("principals", "create", "--name", "cli-catalog-member")["principalId"]
    token = cli.json("keys", "create", member)["token"]
    as_member = Cli(url=server.url, token=token, cwd=cli.cwd, in_process=cli.in_process)
    assert_error(as_member("model-groups", "models", "add", pid, "m"), 3, "not found")
    assert_error(as_member("model-groups", "providers", "delete", pid), 3, "not found")
    assert_error(as_member("model-groups", "runtimes", "list", gid), 3, "not found")
    made = ("model-groups", "create", "--name", "members", "--id", "mt-cli-members")
    mine = as_member.json(*made)["modelTemplateId"]
    assert mine == "mt-cli-members"
    assert_error(as_member(*made), 4, "mt-cli-members")
    assert_error(as_member("model-groups", "create", "--name", "x", "--id", "cli"), 6,
                 "modelTemplateId")  # fmt: skip
    admin = cli.json("model-groups", "get", gid)["ownerId"]
    for_admin = ("model-groups", "create", "--name", "x", "--owner-id", admin)
    assert_error(as_member(*for_admin), 5, "permission denied")
    for_member = cli.json("model-groups", "create", "--name", "theirs", "--owner-id", member)
    assert for_member["ownerId"] == member
    as_member.ok("model-groups", "delete", for_member["modelTemplateId"])
    cli.ok("model-groups", "runtimes", "bind", gid, "rt-admins")
    held = as_member("model-groups", "runtimes", "bind", mine, "rt-admins")
    assert_error(held, 5, "rt-admins")
    assert "PERMISSION_DENIED" in held.stdout
    cli.ok("model-groups", "delete", gid)
    as_member.ok("model-groups", "delete", mine)


def test_workspaces_and_prompts_round_trip(cli: Cli) -> None:
    made = cli.json("workspaces", "create", "--id", "cli-ws", "--name", "CLI")
    assert made["workspaceId"] == "cli-ws"
    assert "CLI 2" in cli.ok("workspaces", "rename", "cli-ws", "--name", "CLI 2")
    assert cli.json("workspaces", "get", "cli-ws")["name"] == "CLI 2"
    assert "cli-ws" in {w["workspaceId"] for w in cli.json("workspaces", "list")}
    cli.env["MODELPLANE_WORKSPACE"] = "cli-ws"

    template = cli.json(
        "prompts", "create", "--name", "greet", "--content", "Hi ${name} in ${place}"
    )
    tid = template["promptTemplateId"]
    assert template["variables"] == ["name", "place"]
    piped = cli.json("prompts", "create", "--name", "piped", input="From ${stdin}")
    assert piped["content"] == "From ${stdin}"

    rendered = cli("prompts", "render", tid, "--var", "name=Ada", "--var", "place=Paris")
    assert rendered.returncode == 0 and rendered.stdout == "Hi Ada in Paris\n"
    assert_error(cli("prompts", "render", tid), 6, "name", "place")
    partial = cli.json("prompts", "render", tid, "--var", "name=Ada", "--allow-partial")
    assert partial["text"] == "Hi Ada in ${place}" and partial["missing"] == ["place"]

    (cli.cwd / "text.txt").write_text("Bye ${name}\n")
    assert cli.json("prompts", "update", tid, "--file", str(cli.cwd / "text.txt"))["version"] == 2
    (cli.cwd / "vars.yaml").write_text("name: Bob\n")
    done = cli.json("prompts", "render", tid, "--vars-file", str(cli.cwd / "vars.yaml"))
    assert done["text"] == "Bye Bob\n"
    assert "Hi ${name}" in cli.ok("prompts", "get", tid, "--version", "1")
    assert [v["version"] for v in cli.json("prompts", "versions", tid)] == [1, 2]
    assert {t["name"] for t in cli.json("prompts", "list")} == {"greet", "piped"}

    assert cli.json("prompts", "delete", tid) == {"deleted": True, "id": tid}
    assert "deleted workspace cli-ws" in cli.ok("workspaces", "delete", "cli-ws")


def test_a_label_is_promoted_rolled_back_and_read_from_the_cli(cli: Cli) -> None:
    cli.json("workspaces", "create", "--id", "cli-labels", "--name", "Labels")
    cli.env["MODELPLANE_WORKSPACE"] = "cli-labels"
    cli.json("prompts", "create", "--name", "greet", "--content", "v1 ${who}")
    cli.json("prompts", "update", "greet", "--content", "v2 ${who}")

    promoted = cli.ok("prompts", "promote", "greet", "--version", "2", "--label", "production")
    assert promoted == "label production: unset -> version 2\n"
    assert cli.ok("prompts", "render", "greet", "--label", "production", "--var", "who=Ada") == (
        "v2 Ada\n"
    )
    back = cli.ok("prompts", "promote", "greet", "--version", "1", "--label", "production")
    assert back == "label production: version 2 -> version 1\n"
    assert cli.json("prompts", "get", "greet", "--label", "production")["content"] == "v1 ${who}"
    watched = cli.ok("prompts", "watch", "greet", "--label", "production", "--count", "1")
    assert watched == "version 1: greet\n"
    listed = cli.json("prompts", "labels", "greet")
    assert [(x["label"], x["version"]) for x in listed] == [("latest", 2), ("production", 1)]
    assert cli.ok("prompts", "diff", "greet", "--from", "production", "--to", "2") == (
        "--- greet@1 (production)\n+++ greet@2\n@@ -1 +1 @@\n-v1 ${who}\n"
        "\\ No newline at end of file\n+v2 ${who}\n\\ No newline at end of file\n"
    )
    history = cli.json("prompts", "label-history", "greet")
    assert [(m["fromVersion"], m["toVersion"]) for m in history] == [(2, 1), (None, 2)]
    assert "label production removed" in cli.ok("prompts", "unlabel", "greet", "-l", "production")
    assert_error(cli("prompts", "get", "greet", "--label", "production"), 3, "production")
    assert_error(cli("prompts", "promote", "greet", "--version", "1", "--label", "Bad"), 6, "label")
    (cli.cwd / "chat.yaml").write_text(
        "- role: system\n  content: Answer in ${language}.\n- role: user\n  content: ${q}\n"
    )
    (cli.cwd / "config.json").write_text('{"model": "gpt-4o-mini", "temperature": 0}')
    chat = cli.json(
        "prompts", "create", "--name", "qa", "--messages-file", str(cli.cwd / "chat.yaml"),
        "--config-file", str(cli.cwd / "config.json"),
    )  # fmt: skip
    assert chat["kind"] == "chat" and chat["config"]["model"] == "gpt-4o-mini"
    filled = cli.json("prompts", "render", "qa", "--var", "language=Welsh", "--var", "q=Why?")
    assert filled["messages"] == [
        {"role": "system", "content": "Answer in Welsh."},
        {"role": "user", "content": "Why?"},
    ]
    (cli.cwd / "bad.yaml").write_text("role: user\n")
    assert_error(
        cli("prompts", "create", "--name", "x", "--messages-file", str(cli.cwd / "bad.yaml")),
        2, "list of messages",
    )  # fmt: skip
    assert "deleted workspace cli-labels" in cli.ok("workspaces", "delete", "cli-labels")


def test_configs_round_trip(cli: Cli) -> None:
    where = ("cn-cli", "svc")
    assert cli.json("configs", "set", *where, "batch_size", "16")["revision"] == 1
    (cli.cwd / "obj.json").write_text('{"a": 1}\n')
    value_file = str(cli.cwd / "obj.json")
    assert "revision" in cli.ok("configs", "set", *where, "nested/obj", "--value-file", value_file)
    assert cli.ok("configs", "get", *where, "nested/obj") == '{"a": 1}\n'

    state = cli.json("configs", "list", *where)
    assert state["revision"] == 2 and [c["key"] for c in state["configs"]] == [
        "batch_size",
        "nested/obj",
    ]
    assert ("cn-cli", "svc") in {
        (n["cluster"], n["name"]) for n in cli.json("configs", "namespaces")
    }

    assert "deleted config batch_size" in cli.ok("configs", "delete", *where, "batch_size")
    history = cli.json("configs", "history", *where)
    assert (history[0]["revision"], history[0]["kind"]) == (3, "delete")
    assert len(cli.json("configs", "history", *where, "batch_size", "--limit", "1")) == 1
    assert_error(cli("configs", "set", *where, "bad key", "1"), 6, "key")


def test_configs_set_many_is_one_revision_and_revert_brings_one_back(cli: Cli) -> None:
    where = ("cn-cli", "many")
    (cli.cwd / "params.yaml").write_text(
        "rate: 10\n"
        "model: qwen-max\n"
        "routing: {value: '{\"a\": 1}', format: json}\n"
        "app.properties: {value: 'k=v', format: properties}\n"
    )
    made = cli.json("configs", "set-many", *where, "--file", str(cli.cwd / "params.yaml"))
    assert made["revision"] == 1
    assert {c["key"]: (c["value"], c["format"]) for c in made["configs"]} == {
        "app.properties": ("k=v", "properties"),
        "model": ("qwen-max", "text"),
        "rate": ("10", "text"),
        "routing": ('{"a": 1}', "json"),
    }
    (cli.cwd / "more.yaml").write_text("rate: 20\nextra: x\n")
    more = str(cli.cwd / "more.yaml")
    table = cli.ok("configs", "set-many", *where, "-f", more, "--delete", "model")
    assert table == "revision 2: set extra, rate; deleted model\n"

    # A bad item is named by its key and place; nothing of the batch is written.
    (cli.cwd / "bad.yaml").write_text("fine: 1\nrouting: '{not json'\n")
    assert_error(
        cli("configs", "set-many", *where, "-f", str(cli.cwd / "bad.yaml")),
        6,
        "routing (items.1).value: must be valid JSON",
        "line 1, column 2",
    )
    (cli.cwd / "nested.yaml").write_text("a: [1, 2]\n")
    nested = cli("configs", "set-many", *where, "-f", str(cli.cwd / "nested.yaml"))
    assert_error(nested, 2, "a must be text")
    assert cli.json("configs", "list", *where)["revision"] == 2

    assert_error(cli("configs", "set", *where, "j", "{", "--format", "json"), 6, "value")
    assert cli.json("configs", "set", *where, "j", "[1]", "--format", "json")["format"] == "json"
    reverted = cli.ok("configs", "revert", *where, "--revision", "1")
    assert reverted == "revision 4: set model, rate; deleted extra, j\n"
    state = cli.json("configs", "list", *where)
    assert {c["key"]: c["value"] for c in state["configs"]} == {
        "app.properties": "k=v",
        "model": "qwen-max",
        "rate": "10",
        "routing": '{"a": 1}',
    }
    assert_error(cli("configs", "revert", *where, "--revision", "9"), 3, "not found")


def test_workspace_members_roles_and_owner_ids(cli: Cli, server: Server) -> None:
    def principal(name: str) -> tuple[str, Cli]:
        pid = cli.json("principals", "create", "--name", name)["principalId"]
        token = cli.json("keys", "create", pid)["token"]
        return pid, Cli(url=server.url, token=token, cwd=cli.cwd, in_process=cli.in_process)

    owner_id, as_owner = principal("cli-ws-owner")
    reader_id, as_reader = principal("cli-ws-reader")
    as_owner.ok("workspaces", "create", "--id", "cli-mws", "--name", "Mine")
    as_owner.ok("configs", "set", "cn-cli", "owners-svc", "k", "v")

    added = as_owner.ok("workspaces", "members", "add", "cli-mws", reader_id)
    assert "reader" in added and reader_id in added
    write = ("prompts", "create", "-w", "cli-mws", "--name", "t", "--content", "Hi")
    assert_error(as_reader(*write), 5, "permission denied", "author role")
    assert as_reader.json("prompts", "list", "-w", "cli-mws") == []
    editor = as_owner.json("workspaces", "members", "add", "cli-mws", reader_id, "--role", "editor")
    assert (editor["principalId"], editor["role"]) == (reader_id, "editor")
    assert as_reader.json(*write)["name"] == "t"
    listed = as_owner.ok("workspaces", "members", "list", "cli-mws")
    assert listed.splitlines()[0].split() == ["principalId", "role", "addedAt"]
    assert f"{reader_id}  editor" in listed
    assert (
        as_owner("workspaces", "members", "add", "cli-mws", reader_id, "--role", "x").returncode
        == 2
    )
    manage = ("workspaces", "members", "add", "cli-mws", owner_id, "--role", "editor")
    assert_error(as_reader(*manage), 5, "permission denied")  # members are the owner's
    author = as_owner.json("workspaces", "members", "add", "cli-mws", reader_id, "--role", "author")
    assert (author["role"], author["addedAt"]) == ("author", editor["addedAt"])  # role changed
    assert "deleted member" in as_owner.ok("workspaces", "members", "remove", "cli-mws", reader_id)
    assert as_owner.json("workspaces", "members", "list", "cli-mws") == []
    gone = as_owner("workspaces", "members", "remove", "cli-mws", reader_id)
    assert_error(gone, 3, "not found", reader_id)
    nobody = "00000000-0000-0000-0000-000000000000"
    assert_error(as_owner("workspaces", "members", "add", "cli-mws", nobody), 3, "not found")
    assert_error(as_owner("workspaces", "members", "add", "no-such-ws", reader_id), 3, "no-such-ws")

    # The admin names the owner to write into a member's namespace or workspace.
    assert_error(cli("configs", "set", "cn-cli", "owners-svc", "k", "x"), 4, "ownerId", owner_id)
    named = ("--owner-id", owner_id)
    assert cli.json("configs", "set", "cn-cli", "owners-svc", "k", "x", *named)["value"] == "x"
    assert cli.json("configs", "delete", "cn-cli", "owners-svc", "k", *named)["deleted"] is True
    admin_write = ("prompts", "create", "-w", "cli-mws", "--name", "a", "--content", "By admin")
    assert_error(cli(*admin_write), 4, "ownerId", owner_id)
    tid = cli.json(*admin_write, *named)["promptTemplateId"]
    assert cli.json("prompts", "update", "-w", "cli-mws", tid, "--name", "b", *named)["name"] == "b"
    assert cli.json("prompts", "delete", "-w", "cli-mws", tid, *named)["deleted"] is True
    made = cli.json("workspaces", "create", "--id", "cli-for-owner", "--name", "F", *named)
    assert made["ownerId"] == owner_id


def test_configs_watch_prints_each_new_revision(cli: Cli, sdk: Client) -> None:
    revision = sdk.configs.put("cn-watch", "svc", "a", "0").revision
    watch = subprocess.Popen(
        [sys.executable, "-m", "modelplane", "configs", "watch", "cn-watch", "svc",
         "--since-revision", str(revision), "--count", "2", "-o", "json"],
        cwd=cli.cwd,
        env=clean_env(MODELPLANE_URL=cli.url, MODELPLANE_TOKEN=cli.token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert watch.stdout is not None
        sdk.configs.put("cn-watch", "svc", "a", "1")
        first = json.loads(watch.stdout.readline())  # printed and flushed at once
        time.sleep(0.05)
        sdk.configs.put("cn-watch", "svc", "b", "x y")
        out, err = watch.communicate(timeout=30)
    finally:
        watch.kill()
    assert watch.returncode == 0, err
    second = json.loads(out)
    assert first["revision"] == revision + 1
    assert second["revision"] == revision + 2
    assert {c["key"]: c["value"] for c in second["configs"]} == {"a": "1", "b": "x y"}

    table = cli.ok("configs", "watch", "cn-watch", "svc", "--since-revision", "0", "--count", "1")
    assert table == f'revision {revision + 2}: a=1 b="x y"\n'
