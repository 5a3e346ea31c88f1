"""The stack file's schema: every broken rule is refused with its place named."""

from __future__ import annotations

import pytest

from modelplane.stack import StackError, load
from modelplane.stack.secrets import Environment

HEX = "a" * 32


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "llms:\n  - displayName: a\n    modelidentifier: m\n",
            "llms[0].modelIdentifier: required",
        ),
        (
            "llms:\n  - displayName: a\n    modelidentifier: m\n",
            "llms[0].modelidentifier: unknown field",
        ),
        (
            "llms:\n  - {displayName: a, modelIdentifier: m,\n"
            "     credentials: {apiKey: {secret: sk-1}}}\n",
            "llms[0].credentials.apiKey.secret: must be env://NAME",
        ),
        (
            "llms:\n  - {displayName: a, modelIdentifier: m,\n"
            "     credentials: {apiKey: {secret: env://A, secretRef: env://B}}}\n",
            "llms[0].credentials.apiKey: exactly one of secret or secretRef must be set",
        ),
        (
            "modelGroups:\n  - name: g\n    providers:\n"
            "      - {providerName: p, name: P, providerType: Custom, apiKey: sk-1}\n",
            "modelGroups[0].providers[0].apiKey: must be env://NAME",
        ),
        (
            "modelGroups:\n  - {name: g, defaultModel: p/x}\n",
            "modelGroups[0].defaultModel: 'p/x' is not a declared providerName/llmCode",
        ),
        (
            "modelGroups:\n  - name: g\n    providers:\n"
            "      - {providerName: p, name: P, providerType: Other}\n",
            "modelGroups[0].providers[0].providerType: Input should be 'Managed', 'Custom' or",
        ),
        (
            "workspaces:\n  - {workspaceId: ws-a, name: A}\n  - {workspaceId: ws-a, name: B}\n",
            "workspaces: workspaceId 'ws-a' is declared twice",
        ),
        (
            "workspaces:\n  - workspaceId: ws-a\n    name: A\n    promptTemplates:\n"
            "      - {name: t, content: x}\n      - {name: t, content: y}\n",
            "workspaces[0].promptTemplates: name 't' is declared twice",
        ),
        (
            "llms:\n  - {displayName: a, modelIdentifier: m}\n"
            "  - {displayName: a, modelIdentifier: n}\n",
            "llms: displayName 'a' is declared twice without llmId",
        ),
        (
            "configs:\n  - {cluster: c, service: s}\n  - {cluster: c, service: s}\n",
            "configs: 'c/s' is declared twice",
        ),
        ("configs:\n  - {cluster: c, service: s, values: {a: 1}}\n", "configs[0].values.a:"),
        (
            "configs:\n  - {cluster: c, service: s, candidate: {values: {a: b}}}\n",
            "configs[0].candidate.labels: required",
        ),
        (
            "configs:\n  - {cluster: c, service: s, candidate: {labels: [], values: {a: b}}}\n",
            "configs[0].candidate.labels: must hold 1..20 client labels",
        ),
        (
            "configs:\n  - {cluster: c, service: s, candidate: {labels: [-x], values: {a: b}}}\n",
            "configs[0].candidate.labels: '-x': a client label is 1..64 of [A-Za-z0-9._-]",
        ),
        (
            "configs:\n  - {cluster: c, service: s,\n"
            "     candidate: {labels: [canary, canary], values: {a: b}}}\n",
            "configs[0].candidate.labels: a label is listed twice",
        ),
        (
            "configs:\n  - {cluster: c, service: s, candidate: {labels: [canary]}}\n",
            "configs[0].candidate: values and delete must hold 1..1000 keys together",
        ),
        (
            "configs:\n  - {cluster: c, service: s,\n"
            "     candidate: {labels: [canary], values: {a: b}, delete: [a]}}\n",
            "configs[0].candidate: a key is set and deleted: a",
        ),
        (
            "configs:\n  - {cluster: c, service: s,\n"
            "     candidate: {labels: [canary], delete: [a, a]}}\n",
            "configs[0].candidate.delete: a key is listed twice",
        ),
        (
            "configs:\n  - {cluster: c, service: s,\n"
            "     candidate: {labels: [canary], values: {a: b}, formats: {z: json}}}\n",
            "configs[0].candidate: formats names keys without a value: z",
        ),
        (
            "configs:\n  - {cluster: c, service: s,\n"
            "     candidate: {labels: [canary], values: {a: b}, clientLabels: [x]}}\n",
            "configs[0].candidate.clientLabels: unknown field",
        ),
        (
            "llms:\n  - {displayName: a, modelIdentifier: m, owner: alice}\n",
            "llms[0].owner: principal 'alice' is not declared under principals",
        ),
        (
            "principals: [{name: alice}]\n"
            "workspaces:\n  - {workspaceId: w, name: W, owner: alice,\n"
            "     ownerId: 5f0c8a8e-3f1e-4c59-9a1c-0d7f3f1c2b3a}\n",
            "workspaces[0]: give owner (a principal's name) or ownerId, not both",
        ),
        (
            "workspaces:\n  - workspaceId: w\n    name: W\n"
            "    members: [{principal: bob, role: reader}]\n",
            "workspaces[0].members[0].principal: principal 'bob' is not declared",
        ),
        (
            "principals: [{name: bob}]\nworkspaces:\n  - workspaceId: w\n    name: W\n"
            "    members: [{principal: bob, role: owner}]\n",
            "workspaces[0].members[0].role: Input should be 'reader', 'author' or 'editor'",
        ),
        (
            "principals: [{name: bob}]\nworkspaces:\n  - workspaceId: w\n    name: W\n"
            "    members: [{principal: bob, role: reader}, {principal: bob, role: author}]\n",
            "workspaces[0].members: principal 'bob' is declared twice",
        ),
        (
            "modelGroups:\n  - {name: g, modelTemplateId: support}\n",
            "modelGroups[0].modelTemplateId: must be mt- then 1..29 of a-z, 0-9 and -",
        ),
        (
            "modelGroups:\n  - {name: g, modelTemplateId: mt-a}\n"
            "  - {name: h, modelTemplateId: mt-a}\n",
            "modelGroups: modelTemplateId 'mt-a' is declared twice",
        ),
        (
            "modelGroups:\n  - {name: g}\n  - {name: g}\n",
            "modelGroups: name 'g' is declared twice without modelTemplateId",
        ),
        (
            "modelGroups:\n  - {name: g, runtimes: [{runtimeId: r1}]}\n"
            "  - {name: h, runtimes: [{runtimeId: r1, runtimeType: Default}]}\n",
            "modelGroups: runtime 'Default/r1' is bound twice",
        ),
        (
            "modelGroups:\n  - {name: g, runtimes: [{runtimeId: -r}]}\n",
            "modelGroups[0].runtimes[0].runtimeId: must be 1..128 of",
        ),
        (
            "workspaces:\n  - workspaceId: w\n    name: W\n    promptTemplates:\n"
            "      - {name: t, content: x, promptTemplateId: not-hex}\n",
            "workspaces[0].promptTemplates[0].promptTemplateId: must be 32 characters",
        ),
        (
            "workspaces:\n  - workspaceId: w\n    name: W\n    promptTemplates:\n"
            "      - {name: t, content: x, labels: [prod],\n"
            "         history: [{content: y, labels: [prod]}]}\n",
            "workspaces[0].promptTemplates[0]: a label points at one version only: prod",
        ),
        (
            "workspaces:\n  - workspaceId: w\n    name: W\n    promptTemplates:\n"
            "      - {name: t, content: x, history: [{config: {a: 1}}]}\n",
            "workspaces[0].promptTemplates[0].history[0]: give content (a text) or messages",
        ),
        (
            "workspaces:\n  - workspaceId: w\n    name: W\n    promptTemplates:\n"
            "      - {name: t, content: x, history: [{content: y, labels: [latest]}]}\n",
            "workspaces[0].promptTemplates[0].history[0].labels: 'latest': a label is",
        ),
        (
            "workspaces:\n  - workspaceId: w\n    name: W\n"
            f"    promptTemplates:\n      - {{name: t, content: x, promptTemplateId: {HEX}}}\n"
            "  - workspaceId: v\n    name: V\n    promptTemplates:\n"
            f"      - {{name: t, content: x, promptTemplateId: {HEX}}}\n",
            f"workspaces: promptTemplateId '{HEX}' is declared twice",
        ),
        ("llms: [unclosed\n", "at line 2"),
        ("- a\n- b\n", "the stack file must be a mapping at the top level"),
        ("apiVersion: modelplane/v2\n", "apiVersion: Input should be 'modelplane/v1'"),
    ],
)
def test_a_bad_file_is_refused_with_the_place_named(text: str, message: str) -> None:
    with pytest.raises(StackError) as caught:
        load(text)
    assert message in str(caught.value)


def test_owners_named_in_a_file_are_its_declared_principals() -> None:
    text = (
        "principals: [{name: alice}, {name: bob}]\n"
        "llms: [{displayName: a, modelIdentifier: m, owner: alice}]\n"
        "modelGroups: [{name: g, owner: alice}, {name: g, owner: bob}]\n"
        "workspaces: [{workspaceId: w, name: W, owner: bob,\n"
        "  members: [{principal: alice, role: author}]}]\n"
        "configs: [{cluster: c, service: s, owner: alice}]\n"
    )
    stack = load(text)
    assert [g.owner for g in stack.model_groups] == ["alice", "bob"]
    assert stack.workspaces[0].members is not None
    assert stack.workspaces[0].members[0].role == "author"


def test_an_empty_file_is_an_empty_stack() -> None:
    stack = load("")
    assert (stack.llms, stack.model_groups, stack.workspaces, stack.configs) == ([], [], [], [])


def test_unset_secret_variables_are_all_named_together() -> None:
    env = Environment({"SET": "value", "EMPTY": ""})
    assert env.read("env://SET", "a") == "value"
    env.read("env://EMPTY", "b.apiKey")
    env.read("env://UNSET", "c.apiKey")
    with pytest.raises(StackError) as caught:
        env.check()
    assert str(caught.value) == (
        "b.apiKey: environment variable EMPTY is not set; "
        "c.apiKey: environment variable UNSET is not set"
    )
