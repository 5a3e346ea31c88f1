"""The stack file's schema: every broken rule is refused with its place named."""

from __future__ import annotations

import pytest

from modelplane.stack import StackError, load
from modelplane.stack.secrets import Environment


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
        ("llms: [unclosed\n", "at line 2"),
        ("- a\n- b\n", "the stack file must be a mapping at the top level"),
        ("apiVersion: modelplane/v2\n", "apiVersion: Input should be 'modelplane/v1'"),
    ],
)
def test_a_bad_file_is_refused_with_the_place_named(text: str, message: str) -> None:
    with pytest.raises(StackError) as caught:
        load(text)
    assert message in str(caught.value)


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
