"""Planning the `workspaces` of a stack: found by `workspaceId`; their prompt templates
by `name` (the built-in System templates are never touched).

An entry's `ownerId` is sent with every write into the workspace (and names the owner of
one that is created), so that an admin may write into a member's workspace; a workspace
owned by someone else than the `ownerId` declared stops the plan.
"""

from __future__ import annotations

from collections import defaultdict

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


def _create_template(workspace_id: str, spec: PromptSpec, owner_id: str | None) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        client.prompts.create(workspace_id, spec.name, spec.content, owner_id=owner_id)

    return run


def _update_template(
    workspace_id: str, template_id: str, content: str, owner_id: str | None
) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        client.prompts.update(workspace_id, template_id, content=content, owner_id=owner_id)

    return run


def _delete_template(workspace_id: str, template: PromptTemplate, owner_id: str | None) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.prompts.delete(workspace_id, template.prompt_template_id, owner_id=owner_id)

    return Change(Action.DELETE, "prompt-template", f"{workspace_id}/{template.name}", run)


def _delete_workspace(workspace: Workspace) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.workspaces.delete(workspace.workspace_id)

    return Change(Action.DELETE, "workspace", workspace.workspace_id, run)


def _template_changes(
    workspace: WorkspaceSpec, current: dict[str, PromptTemplate], plan: Plan
) -> None:
    workspace_id, owner_id = workspace.workspace_id, workspace.owner_id
    for spec in workspace.prompt_templates:
        label = f"{workspace_id}/{spec.name}"
        found = current.pop(spec.name, None)
        if found is None:
            create = _create_template(workspace_id, spec, owner_id)
            fields = created({"content": spec.content})
            plan.add(Change(Action.CREATE, "prompt-template", label, create, fields))
            continue
        diffs = differences({"content": found.content}, {"content": spec.content})
        if diffs:
            update = _update_template(
                workspace_id, found.prompt_template_id, spec.content, owner_id
            )
            plan.add(Change(Action.UPDATE, "prompt-template", label, update, diffs))


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
        _template_changes(spec, templates, plan)
        if prune:
            for template in templates.values():
                plan.add(_delete_template(ws_id, template, spec.owner_id))
    if prune:
        for workspace in workspaces.values():
            plan.add(_delete_workspace(workspace))
