"""Declarative stacks: one YAML file for LLMs, model groups, workspaces and parameters.

    stack = load(Path("stack.yaml").read_text())
    with Client(url, api_key=token) as client:
        changes = plan(client, stack, prune=False)
        print(changes.describe())
        apply(client, changes)

`plan` reads the instance and lists what differs (it writes nothing); `apply` runs the
changes in order. A second `plan` of the same file is empty. `export_stack` writes the
instance in the same format, every secret as an `env://NAME` reference.

The file format is documented in `docs/apply.md`; its schema is `modelplane.stack.spec`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from modelplane.client import Client
from modelplane.stack.changes import Change, Ids, Plan
from modelplane.stack.export import Exported, export_stack
from modelplane.stack.plan_catalog import plan_catalog, resolve_provider_keys
from modelplane.stack.plan_configs import plan_configs
from modelplane.stack.plan_llms import plan_llms, resolve_credentials
from modelplane.stack.plan_prompts import plan_prompts
from modelplane.stack.secrets import Environment
from modelplane.stack.spec import Stack, StackError, load, parse

__all__ = [
    "ApplyError",
    "Change",
    "Exported",
    "Plan",
    "Stack",
    "StackError",
    "apply",
    "export_stack",
    "load",
    "parse",
    "plan",
]


class ApplyError(Exception):
    """A change failed; `done` changes before it were applied (applying again resumes)."""

    def __init__(self, change: Change, done: int, cause: Exception) -> None:
        super().__init__(f"{change.action.value} {change.kind} {change.name}: {cause}")
        self.change, self.done, self.cause = change, done, cause


def plan(
    client: Client, stack: Stack, *, prune: bool = False, environ: Mapping[str, str] | None = None
) -> Plan:
    """The changes that make the instance match `stack`; reads only, writes nothing.

    Every `env://NAME` secret is read first; unset ones are one StackError naming each.
    With `prune`, what the principal can see but the file does not declare is deleted.
    """
    env = Environment(os.environ if environ is None else environ)
    credentials = resolve_credentials(stack.llms, env)
    keys = resolve_provider_keys(stack.model_groups, env)
    env.check()
    changes = Plan()
    plan_llms(client, stack.llms, credentials, changes, prune=prune)
    plan_catalog(client, stack.model_groups, keys, changes, prune=prune)
    plan_prompts(client, stack.workspaces, changes, prune=prune)
    plan_configs(client, stack.configs, changes, prune=prune)
    return changes


def apply(
    client: Client, changes: Plan, *, on_change: Callable[[Change], None] | None = None
) -> None:
    """Run the changes in order; ApplyError tells which one failed and how many ran.

    Consecutive changes of one batch (a service's parameters) run as one call: all of them
    or none, and ApplyError names the first of them.
    """
    ids = Ids()
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
            raise ApplyError(change, done, exc) from exc
        for applied in group:
            if on_change is not None:
                on_change(applied)
        done += len(group)
