"""Planning the `workspaces` of a stack: found by `workspaceId`; their members by principal
name; their prompt templates by `promptTemplateId` when given, else by `name` (the built-in
System templates are never touched).

A template's declared text or messages and config are its current version's: a change
writes a new version, and the declared `labels` then point at it (a deploy). Its `history`
(earlier versions, oldest first) is written when the template is created, or when the
template's versions are the first of those declared (then the missing ones are appended);
a template whose versions went another way keeps them, and only its current version is
compared. The labels of a version of the history point at it when it is the template's
version of that number. With `--prune`, labels the stack does not declare are removed.

An entry's owner (`owner` by name, or `ownerId`) is sent with every write into the
workspace (and names the owner of one that is created), so that an admin may write into a
member's workspace; a workspace owned by someone else than the owner declared stops the
plan.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from modelplane.client import Client, PromptTemplate, Workspace
from modelplane.stack.changes import (
    Action,
    Change,
    FieldDiff,
    Ids,
    Plan,
    Run,
    created,
    differences,
)
from modelplane.stack.owners import OwnerOf, Principals, fixed
from modelplane.stack.spec import LATEST, PromptSpec, StackError, VersionBody, WorkspaceSpec

SYSTEM = "System"


class _Found:
    """A workspace's templates by name and by id (the built-in System ones left out)."""

    def __init__(self, client: Client, workspace_id: str, place: str) -> None:
        by_name: dict[str, list[PromptTemplate]] = defaultdict(list)
        for template in client.prompts.iter(workspace_id):
            if template.type != SYSTEM:
                by_name[template.name].append(template)
        for name, found in by_name.items():
            if len(found) > 1:
                raise StackError(
                    f"{place}: workspace {workspace_id} has {len(found)} templates named {name!r}"
                )
        self.by_name = {name: found[0] for name, found in by_name.items()}
        self.by_id = {t.prompt_template_id: t for t in self.by_name.values()}

    def claim(self, spec: PromptSpec, place: str) -> PromptTemplate | None:
        """The template an entry declares, taken out of those left to prune."""
        if spec.prompt_template_id is None:
            found = self.by_name.get(spec.name)
        else:
            found = self.by_id.get(spec.prompt_template_id)
            named = self.by_name.get(spec.name)
            if found is None and named is not None:
                raise StackError(
                    f"{place}.promptTemplateId: the workspace's template {spec.name!r} has id "
                    f"{named.prompt_template_id}, not {spec.prompt_template_id}"
                )
        if found is not None:
            self.by_name.pop(found.name, None)
            self.by_id.pop(found.prompt_template_id, None)
        return found

    def left(self) -> list[PromptTemplate]:
        """The templates no entry declared."""
        return list(self.by_name.values())


def _create_workspace(workspace_id: str, name: str, owner: OwnerOf) -> Run:
    def run(client: Client, ids: Ids) -> None:
        client.workspaces.create(name, workspace_id=workspace_id, owner_id=owner(ids))

    return run


def _rename_workspace(workspace_id: str, name: str) -> Run:
    def run(client: Client, _ids: Ids) -> None:
        client.workspaces.rename(workspace_id, name)

    return run


def _body(template: PromptTemplate) -> dict[str, Any]:
    """What a stack declares of a template's version."""
    if template.messages is None:
        return {"content": template.content, "messages": None, "config": template.config}
    messages = [{"role": m.role, "content": m.content} for m in template.messages]
    return {"content": None, "messages": messages, "config": template.config}


def _wanted(version: VersionBody) -> dict[str, Any]:
    return {
        "content": version.content,
        "messages": version.message_dicts(),
        "config": version.config,
    }


def _same(template: PromptTemplate, spec: PromptSpec, version: VersionBody) -> bool:
    return template.name == spec.name_of(version) and _body(template) == _wanted(version)


def _write(
    client: Client,
    workspace_id: str,
    template_id: str,
    spec: PromptSpec,
    version: VersionBody,
    owner_id: str | None,
) -> int:
    """Write `version` as the template's next version; its number."""
    config = version.config if version.config is not None else {}
    updated = client.prompts.update(
        workspace_id,
        template_id,
        name=spec.name_of(version),
        content=version.content,
        messages=version.message_dicts(),
        config=config,
        owner_id=owner_id,
    )
    return updated.version


def _point(
    client: Client,
    workspace_id: str,
    template_id: str,
    labels: dict[str, int],
    owner_id: str | None,
) -> None:
    """Point each label at its version."""
    for label, version in labels.items():
        client.prompts.set_label(
            workspace_id, template_id, label, version=version, owner_id=owner_id
        )


def _create_template(workspace_id: str, spec: PromptSpec, owner: OwnerOf) -> Run:
    def run(client: Client, ids: Ids) -> None:
        owner_id = owner(ids)
        first, *later = spec.versions()
        made = client.prompts.create(
            workspace_id,
            spec.name_of(first),
            first.content,
            messages=first.message_dicts(),
            config=first.config,
            owner_id=owner_id,
            template_id=spec.prompt_template_id,
        )
        template_id = made.prompt_template_id
        for version in later:
            _write(client, workspace_id, template_id, spec, version, owner_id)
        labels = {
            label: number
            for number, version in enumerate(spec.versions(), start=1)
            for label in version.labels
        }
        _point(client, workspace_id, template_id, labels, owner_id)

    return run


class _Versions:
    """What an existing template is to become: the versions to append, and the version
    number each declared version has (None: a history version the template went past in
    another way, not managed)."""

    def __init__(
        self, client: Client, workspace_id: str, found: PromptTemplate, spec: PromptSpec
    ) -> None:
        declared = spec.versions()
        if spec.history:
            held = client.prompts.versions(workspace_id, found.prompt_template_id)
        else:
            held = [found]  # only the current version is compared
        continues = len(held) <= len(declared) and all(
            _same(template, spec, version)
            for template, version in zip(held, declared, strict=False)
        )
        if continues and spec.history:
            self.append = declared[len(held) :]
            self.numbers: list[int | None] = list(range(1, len(declared) + 1))
        else:
            same = _same(found, spec, spec)
            self.append = [] if same else [spec]
            self.numbers = [
                k + 1
                if spec.history and k < len(held) and _same(held[k], spec, declared[k])
                else None
                for k in range(len(declared) - 1)
            ]
            self.numbers.append(found.version + (0 if same else 1))


def _update_template(
    workspace_id: str,
    found: PromptTemplate,
    spec: PromptSpec,
    append: list[VersionBody],
    labels: dict[str, int],
    owner: OwnerOf,
) -> Run:
    """The versions to append, then the labels moved to the versions declared."""

    def run(client: Client, ids: Ids) -> None:
        owner_id = owner(ids)
        for version in append:
            _write(client, workspace_id, found.prompt_template_id, spec, version, owner_id)
        _point(client, workspace_id, found.prompt_template_id, labels, owner_id)

    return run


def _unlabel(workspace_id: str, template: PromptTemplate, label: str, owner: OwnerOf) -> Change:
    def run(client: Client, ids: Ids) -> None:
        client.prompts.remove_label(
            workspace_id, template.prompt_template_id, label, owner_id=owner(ids)
        )

    name = f"{workspace_id}/{template.name}@{label}"
    return Change(Action.DELETE, "prompt-label", name, run)


def _delete_template(workspace_id: str, template: PromptTemplate, owner: OwnerOf) -> Change:
    def run(client: Client, ids: Ids) -> None:
        client.prompts.delete(workspace_id, template.prompt_template_id, owner_id=owner(ids))

    return Change(Action.DELETE, "prompt-template", f"{workspace_id}/{template.name}", run)


def _delete_workspace(workspace: Workspace) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.workspaces.delete(workspace.workspace_id)

    return Change(Action.DELETE, "workspace", workspace.workspace_id, run)


def _created_fields(spec: PromptSpec) -> tuple[FieldDiff, ...]:
    fields: dict[str, Any] = {}
    if spec.prompt_template_id is not None:
        fields["promptTemplateId"] = spec.prompt_template_id
    fields.update({k: v for k, v in _wanted(spec).items() if v is not None})
    if spec.history:
        fields["history"] = f"{len(spec.history)} earlier versions"
    if spec.labels:
        fields["labels"] = spec.labels
    for number, version in enumerate(spec.history, start=1):
        if version.labels:
            fields[f"labels@{number}"] = version.labels
    return created(fields)


def _existing_template(
    client: Client,
    workspace_id: str,
    spec: PromptSpec,
    found: PromptTemplate,
    owner: OwnerOf,
    plan: Plan,
    *,
    prune: bool,
) -> None:
    name = f"{workspace_id}/{spec.name}"
    versions = _Versions(client, workspace_id, found, spec)
    now = {**_body(found), "name": found.name}
    diffs = differences(now, {**_wanted(spec), "name": spec.name})
    if versions.append and len(versions.append) > 1:
        diffs += (FieldDiff("history", None, f"{len(versions.append) - 1} versions appended"),)
    held = {
        label.label: label.version
        for label in client.prompts.labels(workspace_id, found.prompt_template_id)
    }
    held.pop(LATEST, None)
    wanted: dict[str, int] = {}
    for number, version in zip(versions.numbers, spec.versions(), strict=True):
        for label in version.labels:
            if number is not None:
                wanted[label] = number
    moves = {label: number for label, number in wanted.items() if held.get(label) != number}
    final = versions.numbers[-1]
    for number in sorted({*moves.values()}):
        key = "labels" if number == final else f"labels@{number}"
        before = sorted(label for label, at in held.items() if at == number)
        after = sorted({*before, *(label for label, at in moves.items() if at == number)})
        diffs += differences({key: before}, {key: after})
    if diffs:
        update = _update_template(workspace_id, found, spec, versions.append, moves, owner)
        plan.add(Change(Action.UPDATE, "prompt-template", name, update, diffs))
    if prune:
        declared = {label for version in spec.versions() for label in version.labels}
        for label in sorted(set(held) - declared):
            plan.add(_unlabel(workspace_id, found, label, owner))


def _template_changes(
    client: Client,
    i: int,
    workspace: WorkspaceSpec,
    found: _Found | None,
    owner: OwnerOf,
    plan: Plan,
    *,
    prune: bool,
) -> None:
    workspace_id = workspace.workspace_id
    for j, spec in enumerate(workspace.prompt_templates):
        place = f"workspaces[{i}].promptTemplates[{j}]"
        current = found.claim(spec, place) if found is not None else None
        if current is None:
            create = _create_template(workspace_id, spec, owner)
            name = f"{workspace_id}/{spec.name}"
            plan.add(Change(Action.CREATE, "prompt-template", name, create, _created_fields(spec)))
        else:
            _existing_template(client, workspace_id, spec, current, owner, plan, prune=prune)
    if prune and found is not None:
        for template in found.left():
            plan.add(_delete_template(workspace_id, template, owner))


def _member_run(workspace_id: str, principal: OwnerOf, role: str | None) -> Run:
    def run(client: Client, ids: Ids) -> None:
        principal_id = principal(ids)
        assert principal_id is not None
        if role is None:
            client.workspaces.remove_member(workspace_id, principal_id)
        else:
            client.workspaces.add_member(workspace_id, principal_id, role=role)

    return run


def _members(
    client: Client,
    i: int,
    spec: WorkspaceSpec,
    exists: bool,
    principals: Principals,
    plan: Plan,
    *,
    prune: bool,
) -> None:
    """Add the declared members, change the roles that differ; with prune, remove others."""
    if spec.members is None:
        return
    ws = spec.workspace_id
    held = {m.principal_id: m.role for m in client.workspaces.members(ws)} if exists else {}
    declared: set[str] = set()
    for j, member in enumerate(spec.members):
        place = f"workspaces[{i}].members[{j}].principal"
        principal_id = principals.id_now(place, member.principal)
        principal = principals.owner_of(place, member.principal, None)
        name = f"{ws}/{member.principal}"
        run = _member_run(ws, principal, member.role)
        if principal_id is not None:
            declared.add(principal_id)
        if principal_id is None or principal_id not in held:
            plan.add(
                Change(Action.CREATE, "workspace-member", name, run, created({"role": member.role}))
            )
        elif held[principal_id] != member.role:
            diff = (FieldDiff("role", held[principal_id], member.role),)
            plan.add(Change(Action.UPDATE, "workspace-member", name, run, diff))
    if prune:
        for principal_id in sorted(set(held) - declared):
            name = f"{ws}/{principals.name_of(principal_id)}"
            run = _member_run(ws, fixed(principal_id), None)
            plan.add(Change(Action.DELETE, "workspace-member", name, run))


def plan_prompts(client: Client, specs: list[WorkspaceSpec], plan: Plan, *, prune: bool) -> None:
    """Add the changes that make the workspaces, their members and their templates match
    `specs`."""
    workspaces = {w.workspace_id: w for w in client.workspaces.list()}
    principals = Principals(client, needed=any(s.owner or s.members for s in specs))
    for i, spec in enumerate(specs):
        ws_id = spec.workspace_id
        existing = workspaces.pop(ws_id, None)
        owner = principals.owner_of(f"workspaces[{i}].owner", spec.owner, spec.owner_id)
        found: _Found | None = None
        if existing is None:
            create = _create_workspace(ws_id, spec.name, owner)
            shown = {"name": spec.name, "owner": spec.owner}
            fields = created({k: v for k, v in shown.items() if v is not None})
            plan.add(Change(Action.CREATE, "workspace", ws_id, create, fields))
        else:
            if spec.owner_id is not None and spec.owner_id != existing.owner_id:
                raise StackError(
                    f"workspaces[{i}].ownerId: workspace {ws_id} is owned by "
                    f"{existing.owner_id}, not {spec.owner_id}"
                )
            principals.check_owner(
                f"workspaces[{i}].owner", f"workspace {ws_id}", existing.owner_id, spec.owner
            )
            diffs = differences({"name": existing.name}, {"name": spec.name})
            if diffs:
                rename = _rename_workspace(ws_id, spec.name)
                plan.add(Change(Action.UPDATE, "workspace", ws_id, rename, diffs))
            found = _Found(client, ws_id, f"workspaces[{i}]")
        _members(client, i, spec, existing is not None, principals, plan, prune=prune)
        _template_changes(client, i, spec, found, owner, plan, prune=prune)
    if prune:
        for workspace in workspaces.values():
            plan.add(_delete_workspace(workspace))
