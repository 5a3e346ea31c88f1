"""Declarative stacks: one YAML file for LLMs, model groups, workspaces, parameters, and
principals with their limits and API keys.

    stack = load(Path("stack.yaml").read_text())
    with Client(url, api_key=token) as client:
        changes = plan(client, stack, prune=False)
        print(changes.describe())
        tokens = apply(client, changes)

`plan` reads the instance and lists what differs (it writes nothing); `apply` runs the
changes in order and answers the tokens of the API keys it issued. A second `plan` of the
same file is empty. These run change by change from the caller's side; the server runs
the same two in one transaction (`POST /v1/stack:apply`, which `modelplane apply` calls):
all or nothing, with every conflict listed (`apply(..., failures=[])` goes on after a
failed change and lists each). `export_stack` writes the instance in the same format,
every secret as an `env://NAME` reference, and no token.

The file format is documented in `docs/apply.md`; its schema is `modelplane.stack.spec`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from modelplane.client import Client
from modelplane.stack.changes import Change, Ids, Plan
from modelplane.stack.export import Exported, export_stack
from modelplane.stack.plan_catalog import plan_catalog, resolve_provider_keys
from modelplane.stack.plan_configs import plan_configs
from modelplane.stack.plan_keys import plan_keys
from modelplane.stack.plan_llms import plan_llms, resolve_credentials
from modelplane.stack.plan_principals import plan_principals
from modelplane.stack.plan_prompts import plan_prompts
from modelplane.stack.secrets import PLACEHOLDER, Environment
from modelplane.stack.spec import Stack, StackError, load, parse

__all__ = [
    "ApplyError",
    "Change",
    "Exported",
    "Failure",
    "Plan",
    "Stack",
    "StackError",
    "apply",
    "export_stack",
    "load",
    "parse",
    "plan",
    "prune_refusal",
    "secret_names",
    "unset_secrets",
]


class ApplyError(Exception):
    """A change failed; `done` changes before it were applied (applying again resumes)."""

    def __init__(self, change: Change, done: int, cause: Exception) -> None:
        super().__init__(f"{change.action.value} {change.kind} {change.name}: {cause}")
        self.change, self.done, self.cause = change, done, cause


@dataclass(frozen=True)
class Failure:
    """A change that failed, and why; `after_failure` when it needed what a change that
    failed before it would have made (an id), so it could not be tried."""

    change: Change
    cause: Exception
    after_failure: bool = False


_SECTIONS = ("llms", "modelGroups", "workspaces", "configs", "principals")


def prune_refusal(document: Mapping[str, object] | None) -> str | None:
    """Why a stack document may not be applied with prune (None: it may).

    Prune deletes what the caller can see that the document does not declare: a file
    without `apiVersion` (perhaps not a stack at all) or with nothing in it would delete
    everything, so both are refused."""
    document = document or {}
    if "apiVersion" not in document:
        return (
            "apiVersion: required with prune (apiVersion: modelplane/v1), so that a file "
            "that is not a stack cannot delete everything"
        )
    if not any(document.get(section) for section in _SECTIONS):
        return (
            "with prune the stack must declare something: an empty stack would delete "
            "everything the caller can see"
        )
    return None


def unset_secrets(stack: Stack, environ: Mapping[str, str]) -> list[str]:
    """Each `env://NAME` secret of the stack that `environ` does not set, by its place
    (`llms[0].credentials.apiKey.secret: environment variable NAME is not set`)."""
    env = Environment(environ)
    resolve_credentials(stack.llms, env)
    resolve_provider_keys(stack.model_groups, env)
    return env.missing


def secret_names(stack: Stack) -> list[str]:
    """The environment variables the stack's `env://NAME` secrets name (read when applying;
    `secretRef`s are stored as references, not read)."""
    env = Environment({})
    resolve_credentials(stack.llms, env)
    resolve_provider_keys(stack.model_groups, env)
    return env.names


def plan(
    client: Client,
    stack: Stack,
    *,
    prune: bool = False,
    replace_keys: bool = False,
    environ: Mapping[str, str] | None = None,
    unset_secrets_ok: bool = False,
) -> Plan:
    """The changes that make the instance match `stack`; reads only, writes nothing.

    Every `env://NAME` secret is read first; unset ones are one StackError naming each,
    or with `unset_secrets_ok` (a dry-run) listed in `Plan.missing_secrets` and planned
    with a placeholder. With `prune`, what the principal can see but the file does not
    declare is deleted. An API key whose scope differs from its declaration is a
    StackError, or with `replace_keys` replaced by a new one.
    """
    env = Environment(
        os.environ if environ is None else environ,
        placeholder=PLACEHOLDER if unset_secrets_ok else None,
    )
    credentials = resolve_credentials(stack.llms, env)
    keys = resolve_provider_keys(stack.model_groups, env)
    if not unset_secrets_ok:
        env.check()
    changes = Plan(missing_secrets=list(env.missing))
    principals = plan_principals(client, stack.principals, changes, prune=prune)
    plan_llms(client, stack.llms, credentials, changes, prune=prune)
    plan_catalog(client, stack.model_groups, keys, changes, prune=prune)
    plan_prompts(client, stack.workspaces, changes, prune=prune)
    plan_configs(client, stack.configs, changes, prune=prune)
    plan_keys(client, stack.principals, principals, changes, prune=prune, replace_keys=replace_keys)
    return changes


def apply(
    client: Client,
    changes: Plan,
    *,
    on_change: Callable[[Change], None] | None = None,
    tokens: dict[str, str] | None = None,
    failures: list[Failure] | None = None,
) -> dict[str, str]:
    """Run the changes in order; ApplyError tells which one failed and how many ran.

    Consecutive changes of one batch (a service's parameters) run as one call: all of them
    or none, and ApplyError names the first of them. Answers the tokens of the API keys
    issued, by change name: the only time they are shown. `tokens`, when given, gets each
    as it is issued, before `on_change` hears of its change (so that a failed apply still
    hands over those issued before).

    With `failures` (a list), a failed change does not stop the run: it is appended there
    (for a batch, its first change) and the next change runs, so that one run lists every
    change that fails; `on_change` hears only of those that succeeded. Meant for a run
    inside one transaction that is rolled back when anything failed (the server's).
    """
    ids = Ids()
    if tokens is not None:
        ids.tokens = tokens
    todo = changes.changes
    done = 0
    while done < len(todo):
        change = todo[done]
        group = [change]
        if change.batch is not None:
            while done + len(group) < len(todo) and todo[done + len(group)].batch is change.batch:
                group.append(todo[done + len(group)])
        try:
            if change.batch is not None:
                change.batch.run(client, [c.item for c in group])
            else:
                change.run(client, ids)
        except Exception as exc:
            if failures is None:
                raise ApplyError(change, done, exc) from exc
            # An id that no earlier change made: one that failed would have made it.
            after = isinstance(exc, KeyError) and bool(failures)
            failures.append(Failure(change, exc, after_failure=after))
            done += len(group)
            continue
        for applied in group:
            if on_change is not None:
                on_change(applied)
        done += len(group)
    return ids.tokens
