"""Planning the `workspaces` of a stack: found by `workspaceId`; their prompt templates
by `name` (the built-in System templates are never touched).

A template's declared text or messages and config are its current version's: a change
writes a new version, and the declared `labels` then point at it (a deploy). With
`--prune`, labels a template has that the stack does not declare are removed.

An entry's `ownerId` is sent with every write into the workspace (and names the owner of
one that is created), so that an admin may write into a member's workspace; a workspace
owned by someone else than the `ownerId` declared stops the plan.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from modelplane.client import Client, PromptTemplate, Workspace
from modelplane.stack.changes import Action, Change, Ids, Plan, Run, created, differences
from modelplane.stack.spec import PromptSpec, StackError, WorkspaceSpec

SYSTEM = "System"


def _templates(client: Client, workspace_id: str, place: str) -> dict[str, PromptTemplate]:
    by_name: dict[str, list[PromptTemplate]] = defaultdict(list)
    for template in client.prompts.iter(workspace_id):
        if template.type != SYSTEM:
            by_name[template.name].append(template)
    for name, found in by_name.items():
        if len(found) > 1:
            raise StackError(
                f"{place}: workspace {workspace_id} has {len(found)} templates named {name!r}"
            )
    return {name: found[0] for name, found in by_name.items()}


def _create_workspace(workspace_id: str, name: str, owner_id: str | None) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        client.workspaces.create(name, workspace_id=workspace_id, owner_id=owner_id)

    return run


def _rename_workspace(workspace_id: str, name: str) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        client.workspaces.rename(workspace_id, name)

    return run


def _body(template: PromptTemplate) -> dict[str, Any]:
    """What a stack declares of a template's current version."""
    if template.messages is None:
        return {"content": template.content, "messages": None, "config": template.config}
    messages = [{"role": m.role, "content": m.content} for m in template.messages]
    return {"content": None, "messages": messages, "config": template.config}


def _wanted(spec: PromptSpec) -> dict[str, Any]:
    return {"content": spec.content, "messages": spec.message_dicts(), "config": spec.config}


def _label_all(
    client: Client,
    workspace_id: str,
    template_id: str,
    labels: list[str],
    version: int,
    owner_id: str | None,
) -> None:
    """Point each of `labels` at `version`."""
    for label in labels:
        client.prompts.set_label(
            workspace_id, template_id, label, version=version, owner_id=owner_id
        )


def _create_template(workspace_id: str, spec: PromptSpec, owner_id: str | None) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        made = client.prompts.create(
            workspace_id,
            spec.name,
            spec.content,
            messages=spec.message_dicts(),
            config=spec.config,
            owner_id=owner_id,
        )
        _label_all(client, workspace_id, made.prompt_template_id, spec.labels, 1, owner_id)

    return run


def _update_template(
    workspace_id: str, found: PromptTemplate, spec: PromptSpec, owner_id: str | None
) -> Run:
    """A new version with the declared body (when it differs), then the declared labels
    moved to the version the stack declares."""
    new_body = _body(found) != _wanted(spec)

    def run(client: Client, _ids: Ids) -> None:
        version = found.version
        if new_body:
            updated = client.prompts.update(
                workspace_id,
                found.prompt_template_id,
                content=spec.content,
                messages=spec.message_dicts(),
                config=spec.config if spec.config is not None else {},
                owner_id=owner_id,
            )
            version = updated.version
        _label_all(client, workspace_id, found.prompt_template_id, spec.labels, version, owner_id)

    return run


def _unlabel(
    workspace_id: str, template: PromptTemplate, label: str, owner_id: str | None
) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.prompts.remove_label(
            workspace_id, template.prompt_template_id, label, owner_id=owner_id
        )

    name = f"{workspace_id}/{template.name}@{label}"
    return Change(Action.DELETE, "prompt-label", name, run)


def _delete_template(workspace_id: str, template: PromptTemplate, owner_id: str | None) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.prompts.delete(workspace_id, template.prompt_template_id, owner_id=owner_id)

    return Change(Action.DELETE, "prompt-template", f"{workspace_id}/{template.name}", run)


def _delete_workspace(workspace: Workspace) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.workspaces.delete(workspace.workspace_id)

    return Change(Action.DELETE, "workspace", workspace.workspace_id, run)


def _template_changes(
    client: Client,
    workspace: WorkspaceSpec,
    current: dict[str, PromptTemplate],
    plan: Plan,
    *,
    prune: bool,
) -> None:
    workspace_id, owner_id = workspace.workspace_id, workspace.owner_id
    for spec in workspace.prompt_templates:
        name = f"{workspace_id}/{spec.name}"
        found = current.pop(spec.name, None)
        if found is None:
            create = _create_template(workspace_id, spec, owner_id)
            fields = created({k: v for k, v in _wanted(spec).items() if v is not None})
            labels = created({"labels": spec.labels}) if spec.labels else ()
            plan.add(Change(Action.CREATE, "prompt-template", name, create, fields + labels))
            continue
        diffs = differences(_body(found), _wanted(spec))
        on_current = sorted(set(found.labels) - {"latest"})
        to_move = [label for label in spec.labels if diffs or label not in on_current]
        if diffs or to_move:
            moved = (
                differences(
                    {"labels": on_current}, {"labels": sorted(set(on_current) | set(to_move))}
                )
                if to_move
                else ()
            )
            update = _update_template(workspace_id, found, spec, owner_id)
            plan.add(Change(Action.UPDATE, "prompt-template", name, update, diffs + moved))
        if prune:
            for kept in client.prompts.labels(workspace_id, found.prompt_template_id):
                if kept.label != "latest" and kept.label not in spec.labels:
                    plan.add(_unlabel(workspace_id, found, kept.label, owner_id))


def plan_prompts(client: Client, specs: list[WorkspaceSpec], plan: Plan, *, prune: bool) -> None:
    """Add the changes that make the workspaces and their templates match `specs`."""
    workspaces = {w.workspace_id: w for w in client.workspaces.list()}
    for i, spec in enumerate(specs):
        ws_id = spec.workspace_id
        found = workspaces.pop(ws_id, None)
        templates: dict[str, PromptTemplate] = {}
        if found is None:
            create = _create_workspace(ws_id, spec.name, spec.owner_id)
            fields = created({"name": spec.name})
            plan.add(Change(Action.CREATE, "workspace", ws_id, create, fields))
        else:
            if spec.owner_id is not None and spec.owner_id != found.owner_id:
                raise StackError(
                    f"workspaces[{i}].ownerId: workspace {ws_id} is owned by "
                    f"{found.owner_id}, not {spec.owner_id}"
                )
            diffs = differences({"name": found.name}, {"name": spec.name})
            if diffs:
                rename = _rename_workspace(ws_id, spec.name)
                plan.add(Change(Action.UPDATE, "workspace", ws_id, rename, diffs))
            templates = _templates(client, ws_id, f"workspaces[{i}]")
        _template_changes(client, spec, templates, plan, prune=prune)
        if prune:
            for template in templates.values():
                plan.add(_delete_template(ws_id, template, spec.owner_id))
    if prune:
        for workspace in workspaces.values():
            plan.add(_delete_workspace(workspace))
