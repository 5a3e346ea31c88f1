"""`modelplane apply` and `modelplane export` as processes against live servers.

Each test gets an empty instance (SQLite and PostgreSQL); the round trip test gets two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelplane import stack as modelplane_stack
from modelplane.client import Client, NotFound, PermissionDenied, Unauthenticated
from modelplane.stack import Stack
from tests.support.databases import database
from tests.support.server import Server, instance_env

TOKEN = "mp_stack_admin_token_0123456789abcdef"
OPENAI_KEY = "sk-stack-openai-0123456789abcdef"
OTHER_KEY = "sk-stack-rotated-fedcba9876543210"

STACK = """\
apiVersion: modelplane/v1
llms:
  - displayName: GPT-4o
    modelIdentifier: gpt-4o
    labels: {team: search}
    credentials:
      apiKey: {secret: env://OPENAI_API_KEY}
  - displayName: Local Llama
    modelIdentifier: llama3
    providerType: OPENAI
    endpointUrl: http://127.0.0.1:11434/v1
    description: on the GPU box
    credentials:
      apiKey: {secretRef: env://LOCAL_KEY, headerName: X-Key}
modelGroups:
  - name: assistants
    description: Models for the assistants
    defaultModel: provider-openai/gpt-4o
    providers:
      - providerName: provider-openai
        name: OpenAI
        providerType: Custom
        baseUrl: https://api.openai.com/v1
        api: openai-completions
        apiKey: env://OPENAI_API_KEY
        models:
          - {llmCode: gpt-4o, name: GPT-4o}
          - {llmCode: gpt-4o-mini, name: GPT-4o mini, config: {maxTokens: 1024}}
workspaces:
  - workspaceId: support-team
    name: Support
    promptTemplates:
      - name: greeting
        content: "Hello ${name}, how can I help with ${product}?"
      - name: farewell
        content: "Goodbye ${name}."
  - workspaceId: sales-team
    name: Sales
configs:
  - cluster: cn-hangzhou
    service: chat
    values: {temperature: "0.7", model: gpt-4o}
"""

Run = Callable[..., subprocess.CompletedProcess[str]]


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env.pop("OPENAI_API_KEY", None)
    return {**env, "MODELPLANE_URL": url, "MODELPLANE_TOKEN": TOKEN, **extra}


def _instance(kind: str, directory: Path) -> Iterator[Server]:
    with database(kind, directory) as url:
        env = instance_env(url, TOKEN)
        with Server(cwd=directory, env=env) as server:
            yield server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def instances(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    """Two instances of the store kind, shared by the module's tests."""
    with ExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            directory = tmp_path_factory.mktemp(f"stack-{kind}-{name}")
            servers.append(stack.enter_context(contextmanager(_instance)(kind, directory)))
        yield servers


ADMIN = {"name": "bootstrap-admin", "apiKeys": [{"label": "bootstrap"}]}  # TOKEN's


def _empty(url: str) -> None:
    """Delete everything the admin sees: apply an empty stack with prune; revoke the
    admin's other keys, clear its limits and delete the other principals."""
    with Client(url, TOKEN) as client:
        modelplane_stack.apply(client, modelplane_stack.plan(client, Stack(), prune=True))
        admin = modelplane_stack.parse({"principals": [ADMIN]})
        modelplane_stack.apply(client, modelplane_stack.plan(client, admin, prune=True))
        for principal in client.principals.list():
            if principal.name != ADMIN["name"]:
                client.principals.delete(principal.principal_id)


@pytest.fixture
def server(instances: list[Server]) -> Server:
    """An empty instance."""
    _empty(instances[0].url)
    return instances[0]


@pytest.fixture
def target(instances: list[Server]) -> Server:
    """A second empty instance."""
    _empty(instances[1].url)
    return instances[1]


@pytest.fixture
def run(server: Server, tmp_path: Path) -> Run:
    """Run `modelplane ARGS…` against `server`, in `tmp_path`."""

    def go(*args: str, env: dict[str, str] | None = None, url: str | None = None) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "modelplane", *args],
            cwd=tmp_path,
            env=_env(url or server.url, **(env or {})),
            capture_output=True,
            text=True,
            timeout=60,
        )

    return go


def _write(tmp_path: Path, text: str, name: str = "stack.yaml") -> str:
    (tmp_path / name).write_text(text)
    return name


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _failed(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


WITH_KEY = {"OPENAI_API_KEY": OPENAI_KEY}


def test_apply_creates_everything_and_a_second_apply_changes_nothing(
    run: Run, server: Server, tmp_path: Path
) -> None:
    path = _write(tmp_path, STACK)
    out = _ok(run("apply", "-f", path, env=WITH_KEY))
    assert "+ llm GPT-4o" in out
    assert "+ model assistants/provider-openai/gpt-4o-mini" in out
    assert '    defaultModel: (none) -> "provider-openai/gpt-4o"' in out
    assert "Applied: 12 to create, 1 to update, 0 to delete." in out
    assert OPENAI_KEY not in out

    with Client(server.url, TOKEN) as client:
        llms = {llm.display_name: llm for llm in client.llms.list()}
        assert llms["GPT-4o"].labels == {"team": "search"} and llms["GPT-4o"].has_credentials
        credentials = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": OPENAI_KEY}}
        assert client.llms.verify_credentials(llms["GPT-4o"].llm_id, credentials)
        outline = client.llms.credentials(llms["Local Llama"].llm_id)
        assert outline is not None
        assert outline["apiKey"]["secretRef"]["uri"] == "env://LOCAL_KEY"
        assert outline["apiKey"]["headerName"] == "X-Key"
        (group,) = client.model_groups.iter()
        assert group.default_model == "provider-openai/gpt-4o"
        (provider,) = client.provider_templates.iter(model_template_id=group.model_template_id)
        assert client.provider_templates.verify_api_key(provider.provider_template_id, OPENAI_KEY)
        codes = {
            m.llm_code: m
            for m in client.llm_templates.iter(model_template_id=group.model_template_id)
        }
        assert codes["gpt-4o-mini"].config == {"maxTokens": 1024}
        templates = {t.name: t for t in client.prompts.iter("support-team")}
        assert templates["greeting"].variables == ("name", "product")
        assert client.configs.get_namespace("cn-hangzhou", "chat").values == {
            "model": "gpt-4o",
            "temperature": "0.7",
        }

    again = _ok(run("apply", "-f", path, env=WITH_KEY))
    assert again.strip() == f"No changes: the instance matches {path}."


def test_dry_run_prints_the_diff_and_writes_nothing(
    run: Run, server: Server, tmp_path: Path
) -> None:
    _ok(run("apply", "-f", _write(tmp_path, STACK), env=WITH_KEY))
    changed = (
        STACK.replace("Models for the assistants", "Models for every assistant")
        .replace("Goodbye ${name}.", "See you, ${name}.")
        .replace('temperature: "0.7"', 'temperature: "0.2"')
        .replace("name: GPT-4o mini", "name: GPT-4o mini (cheap)")
        .replace(
            "defaultModel: provider-openai/gpt-4o", "defaultModel: provider-openai/gpt-4o-mini"
        )
    )
    path = _write(tmp_path, changed, "changed.yaml")
    plan = _ok(run("apply", "-f", path, "--dry-run", env=WITH_KEY))
    assert plan.splitlines() == [
        "~ model-group assistants",
        '    description: "Models for the assistants" -> "Models for every assistant"',
        "~ model assistants/provider-openai/gpt-4o-mini",
        '    name: "GPT-4o mini" -> "GPT-4o mini (cheap)"',
        "~ model-group assistants",
        '    defaultModel: "provider-openai/gpt-4o" -> "provider-openai/gpt-4o-mini"',
        "~ prompt-template support-team/farewell",
        '    content: "Goodbye ${name}." -> "See you, ${name}."',
        "~ config cn-hangzhou/chat/temperature",
        '    value: "0.7" -> "0.2"',
        "Plan: 0 to create, 5 to update, 0 to delete.",
    ]
    with Client(server.url, TOKEN) as client:
        (group,) = client.model_groups.iter()
        assert group.description == "Models for the assistants"
        assert client.configs.get("cn-hangzhou", "chat", "temperature").value == "0.7"

    _ok(run("apply", "-f", path, env=WITH_KEY))
    with Client(server.url, TOKEN) as client:
        (group,) = client.model_groups.iter()
        assert group.description == "Models for every assistant"
        assert group.default_model == "provider-openai/gpt-4o-mini"
        farewell = [t for t in client.prompts.iter("support-team") if t.name == "farewell"]
        assert farewell[0].content == "See you, ${name}." and farewell[0].version == 2
    assert "No changes" in _ok(run("apply", "-f", path, env=WITH_KEY))


def test_a_changed_secret_is_detected_sent_and_never_printed(
    run: Run, server: Server, tmp_path: Path
) -> None:
    path = _write(tmp_path, STACK)
    _ok(run("apply", "-f", path, env=WITH_KEY))
    rotated = {"OPENAI_API_KEY": OTHER_KEY}
    plan = run("apply", "-f", path, "--dry-run", "-o", "json", env=rotated)
    changes = yaml.safe_load(_ok(plan))["changes"]
    assert [
        (c["kind"], c["name"].split(" (")[0], [f["name"] for f in c["fields"]]) for c in changes
    ] == [
        ("llm", "GPT-4o", ["credentials"]),
        ("provider", "assistants/provider-openai", ["apiKey"]),
    ]
    out = _ok(run("apply", "-f", path, env=rotated))
    assert "    credentials: (secret) -> (secret)" in out
    for text in (plan.stdout, plan.stderr, out):
        assert OPENAI_KEY not in text and OTHER_KEY not in text
    with Client(server.url, TOKEN) as client:
        (llm,) = [x for x in client.llms.list() if x.display_name == "GPT-4o"]
        new = {"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": OTHER_KEY}}
        assert client.llms.verify_credentials(llm.llm_id, new)
        (provider,) = client.provider_templates.iter()
        assert client.provider_templates.verify_api_key(provider.provider_template_id, OTHER_KEY)
    assert "No changes" in _ok(run("apply", "-f", path, env=rotated))


def test_an_unset_secret_variable_fails_before_anything_is_written(
    run: Run, server: Server, tmp_path: Path
) -> None:
    line = _failed(run("apply", "-f", _write(tmp_path, STACK)), 6)
    assert (
        "llms[0].credentials.apiKey.secret: environment variable OPENAI_API_KEY is not set" in line
    )
    assert "modelGroups[0].providers[0].apiKey: environment variable OPENAI_API_KEY" in line
    with Client(server.url, TOKEN) as client:
        assert client.llms.list() == []
        assert client.workspaces.list() == []


def test_a_bad_file_is_one_error_line_and_exit_code_6(run: Run, tmp_path: Path) -> None:
    text = "llms:\n  - displayName: a\n    modelidentifier: m\n"
    line = _failed(run("apply", "-f", _write(tmp_path, text), "--dry-run"), 6)
    assert line == (
        "error: stack.yaml: llms[0].modelIdentifier: required; "
        "llms[0].modelidentifier: unknown field"
    )


def test_prune_deletes_what_the_file_no_longer_declares(
    run: Run, server: Server, tmp_path: Path
) -> None:
    _ok(run("apply", "-f", _write(tmp_path, STACK), env=WITH_KEY))
    smaller = (
        STACK.replace("  - displayName: Local Llama\n", "  - displayName: GONE\n", 1)
        .replace('      - name: farewell\n        content: "Goodbye ${name}."\n', "")
        .replace(
            "          - {llmCode: gpt-4o-mini, name: GPT-4o mini, config: {maxTokens: 1024}}\n", ""
        )
        .replace("  - workspaceId: sales-team\n    name: Sales\n", "")
        .replace(", model: gpt-4o}", "}")
    )
    smaller = smaller.replace(
        "  - displayName: GONE\n    modelIdentifier: llama3\n    providerType: OPENAI\n"
        "    endpointUrl: http://127.0.0.1:11434/v1\n    description: on the GPU box\n"
        "    credentials:\n      apiKey: {secretRef: env://LOCAL_KEY, headerName: X-Key}\n",
        "",
    )
    path = _write(tmp_path, smaller, "smaller.yaml")
    assert "No changes" in _ok(run("apply", "-f", path, env=WITH_KEY))
    plan = _ok(run("apply", "-f", path, "--dry-run", "--prune", env=WITH_KEY))
    deletes = sorted(line.split(" (")[0] for line in plan.splitlines() if line.startswith("- "))
    assert deletes == [
        "- config cn-hangzhou/chat/model",
        "- llm Local Llama",
        "- model assistants/provider-openai/gpt-4o-mini",
        "- prompt-template support-team/farewell",
        "- workspace sales-team",
    ]
    assert "Plan: 0 to create, 0 to update, 5 to delete." in plan
    _ok(run("apply", "-f", path, "--prune", "--yes", env=WITH_KEY))
    with Client(server.url, TOKEN) as client:
        assert [x.display_name for x in client.llms.list()] == ["GPT-4o"]
        assert [w.workspace_id for w in client.workspaces.list()] == ["support-team"]
        assert [t.name for t in client.prompts.iter("support-team")] == ["greeting"]
        assert [m.llm_code for m in client.llm_templates.iter()] == ["gpt-4o"]
        assert client.configs.get_namespace("cn-hangzhou", "chat").values == {"temperature": "0.7"}
        with pytest.raises(NotFound):
            client.workspaces.get("sales-team")
    assert "No changes" in _ok(run("apply", "-f", path, "--prune", "--yes", env=WITH_KEY))


def test_a_failing_change_applies_nothing_and_names_every_failure(
    run: Run, server: Server, tmp_path: Path
) -> None:
    broken = STACK.replace("baseUrl: https://api.openai.com/v1", "baseUrl: ftp://api.openai.com/v1")
    path = _write(tmp_path, broken)
    for dry_run in (("--dry-run",), ()):
        line = _failed(run("apply", "-f", path, *dry_run, env=WITH_KEY), 6)
        assert "nothing was applied" in line
        assert "create provider assistants/provider-openai: " in line and "baseUrl" in line
        # Its models need the provider: named too, not tried.
        assert "create model assistants/provider-openai/gpt-4o: needs what" in line
    with Client(server.url, TOKEN) as client:  # the LLMs and the group before it: undone
        assert client.llms.list() == []
        assert list(client.model_groups.iter()) == []
    out = _ok(run("apply", "-f", _write(tmp_path, STACK), env=WITH_KEY))
    assert "Applied: 12 to create, 1 to update, 0 to delete." in out
    assert "No changes" in _ok(run("apply", "-f", "stack.yaml", env=WITH_KEY))


def test_a_dry_run_without_the_secrets_names_them_and_plans_the_rest(
    run: Run, server: Server, tmp_path: Path
) -> None:
    result = run("apply", "-f", _write(tmp_path, STACK), "--dry-run")  # OPENAI_API_KEY unset
    out = _ok(result)
    assert "+ llm GPT-4o" in out and "+ config cn-hangzhou/chat/temperature" in out
    assert "Plan: 12 to create, 1 to update, 0 to delete." in out
    assert "secrets not set, planned with placeholders (set before applying): OPENAI_API_KEY" in (
        result.stderr
    )
    with Client(server.url, TOKEN) as client:
        assert client.llms.list() == []


def test_prune_refuses_a_file_that_would_delete_everything_and_asks_first(
    run: Run, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok(run("apply", "-f", _write(tmp_path, STACK), env=WITH_KEY))
    without_version = STACK.replace("apiVersion: modelplane/v1\n", "")
    line = _failed(run("apply", "-f", _write(tmp_path, without_version), "--prune", "--yes"), 6)
    assert "--prune: apiVersion: required with prune" in line
    line = _failed(
        run("apply", "-f", _write(tmp_path, "apiVersion: modelplane/v1\n"), "--prune"), 6
    )
    assert "with prune the stack must declare something" in line
    smaller = STACK.replace("  - workspaceId: sales-team\n    name: Sales\n", "")
    path = _write(tmp_path, smaller)
    line = _failed(run("apply", "-f", path, "--prune", env=WITH_KEY), 2)  # no terminal
    assert "pass --yes" in line

    # On a terminal it shows the plan and asks; "n" changes nothing, "y" applies.
    from typer.testing import CliRunner

    from modelplane.cli import stack as cli_stack
    from modelplane.cli.main import app

    monkeypatch.setattr(cli_stack, "_interactive", lambda: True)
    monkeypatch.chdir(tmp_path)
    args = ["apply", "-f", path, "--prune", "--url", server.url, "--token", TOKEN]
    env = {"OPENAI_API_KEY": OPENAI_KEY}
    declined = CliRunner().invoke(app, args, input="n\n", env=env)
    assert declined.exit_code == 1, declined.output
    assert "- workspace sales-team" in declined.output and "deleting 1?" in declined.output
    with Client(server.url, TOKEN) as client:
        assert {w.workspace_id for w in client.workspaces.list()} == {"support-team", "sales-team"}
    accepted = CliRunner().invoke(app, args, input="y\n", env=env)
    assert accepted.exit_code == 0, accepted.output
    assert "Applied: 0 to create, 0 to update, 1 to delete." in accepted.output
    with Client(server.url, TOKEN) as client:
        assert [w.workspace_id for w in client.workspaces.list()] == ["support-team"]


def test_export_applied_to_an_empty_instance_reproduces_the_state(
    run: Run, server: Server, target: Server, tmp_path: Path
) -> None:
    _ok(run("apply", "-f", _write(tmp_path, STACK), env=WITH_KEY))
    with Client(server.url, TOKEN) as client:  # made by hand, not by apply
        client.llms.create(
            "Qwen Max",
            "qwen-max",
            labels={"tier": "gold"},
            credentials={
                "kind": "CREDENTIAL_KIND_API_KEY",
                "apiKey": {
                    "inlineSecret": OTHER_KEY,
                    "headerName": "X-DashScope",
                    "prefix": "Key ",
                },
            },
        )
        client.configs.put("cn-beijing", "embedder", "batch", "64")

    exported = run("export", "-f", "exported.yaml")
    _ok(exported)
    text = (tmp_path / "exported.yaml").read_text()
    assert OPENAI_KEY not in text and OTHER_KEY not in text
    assert "secrets are references; set before applying: " in exported.stderr
    document = yaml.safe_load(text)
    variables = {
        llm["displayName"]: llm["credentials"]["apiKey"].get("secret") for llm in document["llms"]
    }
    assert variables == {
        "GPT-4o": "env://MODELPLANE_LLM_GPT_4O_API_KEY",
        "Local Llama": None,
        "Qwen Max": "env://MODELPLANE_LLM_QWEN_MAX_API_KEY",
    }
    secrets = {
        "MODELPLANE_LLM_GPT_4O_API_KEY": OPENAI_KEY,
        "MODELPLANE_LLM_QWEN_MAX_API_KEY": OTHER_KEY,
        "MODELPLANE_PROVIDER_ASSISTANTS_PROVIDER_OPENAI_API_KEY": OPENAI_KEY,
    }
    assert "No changes" in _ok(run("apply", "-f", "exported.yaml", env=secrets))

    out = _ok(run("apply", "-f", "exported.yaml", env=secrets, url=target.url))
    assert "Applied: 14 to create, 1 to update, 0 to delete." in out
    again = run("export", "-f", "again.yaml", url=target.url)
    _ok(again)
    assert (tmp_path / "again.yaml").read_text() == text
    assert again.stderr == exported.stderr
    with Client(target.url, TOKEN) as client:
        qwen = client.llms.get(document["llms"][-1]["llmId"])
        wire = {
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {
                "inlineSecret": OTHER_KEY,
                "headerName": "X-DashScope",
                "prefix": "Key ",
            },
        }
        assert qwen.display_name == "Qwen Max" and client.llms.verify_credentials(qwen.llm_id, wire)
        (provider,) = client.provider_templates.iter()
        assert client.provider_templates.verify_api_key(provider.provider_template_id, OPENAI_KEY)
    assert "No changes" in _ok(run("apply", "-f", "exported.yaml", env=secrets, url=target.url))


def test_applying_many_parameters_of_a_service_makes_one_revision(server: Server) -> None:
    """A service's parameters are applied as one batch: its watchers never see half of
    them; a bad one stops the batch before anything of it is written."""
    values = {f"p{n:03d}": str(n) for n in range(400)}
    with Client(server.url, TOKEN) as client:
        client.configs.put("cn-many", "svc", "old", "x")  # revision 1
        client.configs.put("cn-many", "svc", "doc", "{}", format="json")  # revision 2
        spec = {"cluster": "cn-many", "service": "svc", "values": {**values, "doc": "{"}}
        bad = modelplane_stack.plan(client, modelplane_stack.parse({"configs": [spec]}))
        with pytest.raises(modelplane_stack.ApplyError) as caught:
            modelplane_stack.apply(client, bad)
        assert caught.value.done == 0 and "items.400.value" in str(caught.value)
        assert client.configs.get_namespace("cn-many", "svc").revision == 2

        spec["values"] = {**values, "doc": '{"ok": true}'}
        stack = modelplane_stack.parse({"configs": [spec]})
        changes = modelplane_stack.plan(client, stack, prune=True)
        assert changes.counts() == {"create": 400, "update": 1, "delete": 1, "replace": 0}
        applied: list[modelplane_stack.Change] = []
        modelplane_stack.apply(client, changes, on_change=applied.append)
        assert applied == changes.changes
        state = client.configs.get_namespace("cn-many", "svc")
        assert state.revision == 3
        assert state.values == {**values, "doc": '{"ok": true}'}
        history = client.configs.history("cn-many", "svc", limit=1000)
        assert sorted({c.revision for c in history}) == [1, 2, 3]
        assert len([c for c in history if c.revision == 3]) == 402


PROMPTS_STACK = """\
apiVersion: modelplane/v1
workspaces:
  - workspaceId: prompts-ws
    name: Prompts
    promptTemplates:
      - name: greeting
        content: "Hi ${who}"
        labels: [production]
      - name: qa
        messages:
          - {role: system, content: "Answer in ${language}."}
          - {role: user, content: "${question}"}
        config: {model: gpt-4o-mini, temperature: 0}
        labels: [staging]
"""


def test_a_stack_deploys_chat_prompts_and_moves_their_labels(
    run: Run, server: Server, target: Server, tmp_path: Path
) -> None:
    out = _ok(run("apply", "-f", _write(tmp_path, PROMPTS_STACK)))
    assert "Applied: 3 to create" in out
    assert "No changes" in _ok(run("apply", "-f", "stack.yaml"))
    with Client(server.url, TOKEN) as client:
        qa = client.prompts.get("prompts-ws", "qa", label="staging")
        assert (qa.kind, qa.version, qa.config) == (
            "chat",
            1,
            {"model": "gpt-4o-mini", "temperature": 0},
        )
        assert client.prompts.get("prompts-ws", "greeting", label="production").version == 1

    # A deploy: the text changes, and production moves to the new version.
    changed = PROMPTS_STACK.replace('"Hi ${who}"', '"Hello ${who}"')
    plan = _ok(run("apply", "-f", _write(tmp_path, changed), "--dry-run"))
    assert "~ prompt-template prompts-ws/greeting" in plan
    _ok(run("apply", "-f", "stack.yaml"))
    with Client(server.url, TOKEN) as client:
        production = client.prompts.get("prompts-ws", "greeting", label="production")
        assert (production.version, production.content) == (2, "Hello ${who}")
        # A label set by hand is left alone, and removed with --prune.
        client.prompts.set_label("prompts-ws", "greeting", "canary", version=1)
    assert "No changes" in _ok(run("apply", "-f", "stack.yaml"))
    assert "prompt-label prompts-ws/greeting@canary" in _ok(
        run("apply", "-f", "stack.yaml", "--prune", "--yes")
    )
    with Client(server.url, TOKEN) as client:
        assert [x.label for x in client.prompts.labels("prompts-ws", "greeting")] == [
            "latest",
            "production",
        ]

    # Exported and applied elsewhere, it is the same stack.
    _ok(run("export", "-f", "exported.yaml"))
    document = yaml.safe_load((tmp_path / "exported.yaml").read_text())
    (workspace,) = document["workspaces"]
    assert workspace["owner"] == "bootstrap-admin"
    ids = [template.pop("promptTemplateId") for template in workspace["promptTemplates"]]
    assert all(len(i) == 32 for i in ids)
    assert workspace["promptTemplates"] == [
        {
            "name": "greeting",
            "content": "Hello ${who}",
            "labels": ["production"],
            "history": [{"content": "Hi ${who}"}],
        },
        {
            "name": "qa",
            "messages": [
                {"role": "system", "content": "Answer in ${language}."},
                {"role": "user", "content": "${question}"},
            ],
            "config": {"model": "gpt-4o-mini", "temperature": 0},
            "labels": ["staging"],
        },
    ]
    _ok(run("apply", "-f", "exported.yaml", url=target.url))
    assert "No changes" in _ok(run("apply", "-f", "exported.yaml", url=target.url))

    bad = PROMPTS_STACK.replace("labels: [production]", "labels: [Production]")
    failed = _failed(run("apply", "-f", _write(tmp_path, bad, "bad.yaml")), 6)
    assert "labels" in failed


FORMATS_STACK = """\
apiVersion: modelplane/v1
configs:
  - cluster: cn-formats
    service: svc
    values:
      routing: '{"primary": "qwen-max"}'
      mode: fast
    formats:
      routing: json
"""


def test_a_stack_declares_parameter_formats_and_export_keeps_them(
    run: Run, server: Server, tmp_path: Path
) -> None:
    assert "Applied: 2 to create" in _ok(run("apply", "-f", _write(tmp_path, FORMATS_STACK)))
    assert "No changes" in _ok(run("apply", "-f", "stack.yaml"))
    with Client(server.url, TOKEN) as client:
        held = {c.key: c.format for c in client.configs.get_namespace("cn-formats", "svc").configs}
        assert held == {"mode": "text", "routing": "json"}

    # The same value declared in another format is an update of its format alone.
    as_yaml = FORMATS_STACK.replace("routing: json", "routing: yaml")
    plan = _ok(run("apply", "-f", _write(tmp_path, as_yaml), "--dry-run"))
    assert "~ config cn-formats/svc/routing" in plan and "format" in plan
    _ok(run("apply", "-f", "stack.yaml"))
    _ok(run("export", "-f", "exported.yaml"))
    (entry,) = yaml.safe_load((tmp_path / "exported.yaml").read_text())["configs"]
    assert entry["formats"] == {"routing": "yaml"}

    not_json = FORMATS_STACK.replace("""'{"primary": "qwen-max"}'""", "'{not json'")
    failed = _failed(run("apply", "-f", _write(tmp_path, not_json, "bad.yaml")), 6)
    assert "routing" in failed
    unknown = FORMATS_STACK.replace("routing: json", "nothing: json")
    failed = _failed(run("apply", "-f", _write(tmp_path, unknown, "unknown.yaml")), 6)
    assert "formats" in failed and "nothing" in failed


GRAY_STACK = """\
apiVersion: modelplane/v1
configs:
  - cluster: cn-gray
    service: router
    values:
      model: qwen-max
      limits: '{"rpm": 60}'
      legacy: "on"
    formats:
      limits: json
    candidate:
      labels: [canary]
      values:
        model: qwen-plus
        limits: '{"rpm": 120}'
      delete: [legacy]
"""


def test_a_stack_opens_a_gray_release_and_export_carries_it_to_another_instance(
    run: Run, server: Server, target: Server, tmp_path: Path
) -> None:
    plan = _ok(run("apply", "-f", _write(tmp_path, GRAY_STACK), "--dry-run"))
    assert plan.endswith(
        "+ config-candidate cn-gray/router\n"
        '    labels: ["canary"]\n'
        '    values: {"limits": "{\\"rpm\\": 120}", "model": "qwen-plus"}\n'
        '    formats: {"limits": "json"}\n'
        '    delete: ["legacy"]\n'
        "Plan: 4 to create, 0 to update, 0 to delete.\n"
    )
    _ok(run("apply", "-f", "stack.yaml"))
    assert "No changes" in _ok(run("apply", "-f", "stack.yaml"))
    canary = _ok(
        run("configs", "list", "cn-gray", "router", "--client-label", "canary", "-o", "json")
    )
    assert "qwen-plus" in canary and "legacy" not in canary

    wider = GRAY_STACK.replace("labels: [canary]", "labels: [canary, beta]")
    plan = _ok(run("apply", "-f", _write(tmp_path, wider), "--dry-run"))
    assert plan == (
        "~ config-candidate cn-gray/router\n"
        '    labels: ["canary"] -> ["beta", "canary"]\n'
        "Plan: 0 to create, 1 to update, 0 to delete.\n"
    )
    _ok(run("apply", "-f", "stack.yaml"))

    _ok(run("export", "-f", "exported.yaml"))
    text = (tmp_path / "exported.yaml").read_text()
    (entry,) = yaml.safe_load(text)["configs"]
    assert entry["candidate"] == {
        "labels": ["beta", "canary"],
        "values": {"limits": '{"rpm": 120}', "model": "qwen-plus"},
        "delete": ["legacy"],
    }
    out = _ok(run("apply", "-f", "exported.yaml", url=target.url))
    assert "Applied: 4 to create, 0 to update, 0 to delete." in out
    _ok(run("export", "-f", "again.yaml", url=target.url))
    assert (tmp_path / "again.yaml").read_text() == text

    # Declared no more: left alone, and dropped with --prune.
    plain = GRAY_STACK[: GRAY_STACK.index("    candidate:")]
    assert "No changes" in _ok(run("apply", "-f", _write(tmp_path, plain)))
    plan = _ok(run("apply", "-f", "stack.yaml", "--prune", "--dry-run"))
    assert plan == (
        "- config-candidate cn-gray/router\nPlan: 0 to create, 0 to update, 1 to delete.\n"
    )
    _ok(run("apply", "-f", "stack.yaml", "--prune", "--yes"))
    with Client(server.url, TOKEN) as client, pytest.raises(NotFound):
        client.configs.candidate("cn-gray", "router")


LATER = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86_400))
KEYS_STACK = f"""\
apiVersion: modelplane/v1
principals:
  - name: billing
    role: member
    limits: {{rpm: 600, budget: 25, period: month}}
    apiKeys:
      - label: billing-app
        gatewayOnly: true
        expiresAt: {LATER}
        limits: {{rpm: 60, budget: 0.5, period: day}}
"""


def _tokens(out: str) -> list[str]:
    return [line.split()[1] for line in out.splitlines() if line.startswith("    token: ")]


def test_a_stack_issues_app_keys_with_limits_and_replaces_one_only_when_told(
    run: Run, server: Server, target: Server, tmp_path: Path
) -> None:
    plan = _ok(run("apply", "-f", _write(tmp_path, KEYS_STACK), "--dry-run"))
    assert plan.splitlines() == [
        "+ principal billing",
        '    role: "member"',
        "+ limits billing",
        "    rpm: 600",
        "    budget: 25",
        '    period: "month"',
        "+ api-key billing/billing-app",
        "    gatewayOnly: true",
        f'    expiresAt: "{LATER}"',
        "+ limits billing/billing-app",
        "    rpm: 60",
        "    budget: 0.5",
        '    period: "day"',
        "Plan: 4 to create, 0 to update, 0 to delete.",
    ]
    out = _ok(run("apply", "-f", "stack.yaml"))
    (token,) = _tokens(out)
    assert f"    token: {token} (shown this once)" in out
    with Client(server.url, token) as app, pytest.raises(PermissionDenied):
        app.llms.list()  # a real key, limited to the gateway
    assert "No changes" in _ok(run("apply", "-f", "stack.yaml"))

    # A scope cannot change in place: a conflict, or a replacement when asked for.
    wider = KEYS_STACK.replace("gatewayOnly: true", "gatewayOnly: false")
    line = _failed(run("apply", "-f", _write(tmp_path, wider), "--dry-run"), 6)
    assert "principals[0].apiKeys[0]: the scope of API key billing/billing-app differs" in line
    assert "gatewayOnly: true -> false" in line and "--replace-keys" in line
    plan = _ok(run("apply", "-f", "stack.yaml", "--dry-run", "--replace-keys"))
    assert plan.splitlines()[:3] == [
        "-/+ api-key billing/billing-app",
        "    gatewayOnly: true -> false",
        "+ limits billing/billing-app",
    ]
    assert plan.endswith("Plan: 1 to create, 0 to update, 0 to delete, 1 to replace.\n")
    applied = json.loads(_ok(run("apply", "-f", "stack.yaml", "--replace-keys", "-o", "json")))
    assert applied["replace"] == 1
    new_token = applied["changes"][0]["token"]
    assert new_token.startswith("mp_") and new_token != token
    with Client(server.url, token) as old, pytest.raises(Unauthenticated):
        old.llms.list()
    with Client(server.url, new_token) as new:
        new.llms.list()  # no longer limited to the gateway

    # Exported (no token), applied to another instance, the same file again.
    _ok(run("export", "-f", "exported.yaml"))
    text = (tmp_path / "exported.yaml").read_text()
    assert "mp_" not in text
    billing = yaml.safe_load(text)["principals"][0]
    assert billing["apiKeys"] == [
        {
            "label": "billing-app",
            "expiresAt": LATER,
            "limits": {"rpm": 60, "budget": 0.5, "period": "day"},
        }
    ]
    out = _ok(run("apply", "-f", "exported.yaml", url=target.url))
    assert len(_tokens(out)) == 1 and "Applied: 4 to create" in out
    _ok(run("export", "-f", "again.yaml", url=target.url))
    assert (tmp_path / "again.yaml").read_text() == text

    # A failed apply issues no key at all: the one before the failure is undone too, so
    # no token is shown (it would name nothing).
    broken = wider + "      - {label: first}\n      - {label: second, models: [no-such-model]}\n"
    failed = run("apply", "-f", _write(tmp_path, broken, "broken.yaml"), "-o", "json")
    line = _failed(failed, 6)
    assert "1 of 2 changes failed; nothing was applied" in line
    assert "create api-key billing/second: models.0: " in line
    assert failed.stdout == "" and "mp_" not in failed.stderr
    with Client(server.url, TOKEN) as client:
        (billing,) = [p for p in client.principals.list() if p.name == "billing"]
        labels = {k.label for k in client.principals.list_api_keys(billing.principal_id)}
        assert "first" not in labels
