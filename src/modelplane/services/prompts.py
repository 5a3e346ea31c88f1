"""Prompt templates of a workspace: life cycle, versions, lists and rendering."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.chat_prompts import ChatMessage
from modelplane.domain.errors import DomainError, InvalidArgument, NotFound, PermissionDenied
from modelplane.domain.principals import Principal
from modelplane.domain.prompt_diff import TextDiff, unified_diff
from modelplane.domain.prompt_labels import (
    LATEST,
    PromptLabel,
    check_label,
    check_one_selector,
)
from modelplane.domain.prompts import (
    PROMPT_TEMPLATE,
    RENDERED_MAX_BYTES,
    VERSION_MAX,
    Body,
    PromptTemplate,
    Rendered,
    TemplateType,
    body_of,
    check_template_id,
    check_text,
    check_version,
    first_in_list_order,
    is_template_id,
    new_template,
    next_version,
    render_template,
    template_id_taken,
)
from modelplane.domain.system_prompts import system_template, system_templates
from modelplane.domain.workspaces import MemberRole
from modelplane.services.audit import named, record
from modelplane.services.clock import now_ms
from modelplane.services.workspaces import workspace_for, workspace_to_write
from modelplane.store.uow import Store, UnitOfWork

MAX_RESULTS_DEFAULT = 20
MAX_RESULTS_MAX = 100
# A render with more placeholders and values than this (about 0.5 ms of work) runs on a
# worker thread: the event loop takes the GIL back every 5 ms (sys.getswitchinterval) and
# keeps answering while a large render, up to ~15 ms of work, goes on.
INLINE_RENDER_PARTS = 2_000
WRITING = "creating and changing its templates"
INLINE_DIFF_LINES = 2_000  # a diff of longer texts runs on a worker thread


@dataclass(frozen=True)
class TemplatePage:
    """One page of a list, how many match in all, and the token of the next page."""

    items: list[PromptTemplate]
    total: int
    max_results: int
    next_token: str | None


def _encode_token(created_at: int, template_id: str) -> str:
    raw = json.dumps([created_at, template_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created_at, template_id = json.loads(raw)
        if type(created_at) is not int or not 0 <= created_at < 2**63:
            raise ValueError("bad time")
        if not isinstance(template_id, str) or not is_template_id(template_id):
            raise ValueError("bad id")
    except (ValueError, TypeError, binascii.Error):
        raise InvalidArgument.of("nextToken", "not a token this service gave out") from None
    return created_at, template_id


async def reach_workspace(store: Store, actor: Principal, workspace_id: str) -> None:
    """Raise NotFound unless the actor may reach the workspace (cached per actor)."""

    async def load() -> bool:
        async with store.reader() as uow:
            try:
                await workspace_for(uow, actor, workspace_id)
            except NotFound:
                return False
        return True

    if not await store.cached(("workspace-reach", workspace_id, actor.principal_id), load):
        raise NotFound("Workspace", workspace_id)


def _list_order(template: PromptTemplate) -> tuple[int, str]:
    return template.created_at, template.prompt_template_id


def template_topic(template_id: str) -> str:
    """The change-feed topic of a template: its versions and labels."""
    return f"prompt-template:{template_id}"


def template_missing(ref: str) -> DomainError:
    """No template of the workspace's own has this id or name: a built-in one that has is
    read-only, else there is none."""
    if system_template(ref) is not None:
        return PermissionDenied(f"{ref!r} is a built-in System template and read-only")
    return NotFound(PROMPT_TEMPLATE, ref)


def built_in_template(ref: str, workspace_id: str) -> PromptTemplate:
    """The built-in template of this id or name, as seen from a workspace; else NotFound."""
    found = system_template(ref)
    if found is None:
        raise NotFound(PROMPT_TEMPLATE, ref)
    return replace(found, workspace_id=workspace_id, labels=(LATEST,))


async def create_prompt_template(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    name: str,
    content: str | None = None,
    messages: Sequence[ChatMessage] | None = None,
    config: Mapping[str, Any] | None = None,
    owner_id: str | None = None,
    prompt_template_id: str | None = None,
) -> PromptTemplate:
    """Create a custom template (version 1) holding a text (`content`) or chat `messages`,
    with an optional `config`, in a workspace the actor may write into (`owner_id` names
    another principal's workspace's owner: admins). The client may choose its id
    (`prompt_template_id`); one taken by any template, built-in ones too, is AlreadyExists.

    It is created after every template already there, so that it sorts last in lists.
    """
    check_text(name, content)
    body = Body.of(content=content, messages=messages, config=config)
    check_template_id(prompt_template_id)
    async with store.writer() as uow:
        await workspace_to_write(
            uow, actor, workspace_id, owner_id=owner_id, needs=MemberRole.AUTHOR, doing=WRITING
        )
        if prompt_template_id is not None and (
            system_template(prompt_template_id) is not None
            or await uow.prompts.template_exists(prompt_template_id)
        ):
            raise template_id_taken(prompt_template_id)
        newest = await uow.prompts.newest_created_at(workspace_id)
        template = new_template(
            workspace_id=workspace_id,
            name=name,
            body=body,
            actor_id=actor.principal_id,
            now_ms=first_in_list_order(now_ms(), newest),
            prompt_template_id=prompt_template_id,
        )
        await uow.prompts.add_template(template)
        await record(
            uow,
            actor,
            AuditAction.CREATE,
            ResourceType.PROMPT_TEMPLATE,
            template.prompt_template_id,
            {"workspaceId": workspace_id, "version": template.version},
        )
        await uow.commit()
    return replace(template, labels=(LATEST,))


async def get_prompt_template(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    version: int | None = None,
    label: str | None = None,
) -> PromptTemplate:
    """A template by id or name: current, at `version`, or at the version `label` points
    at; the workspace's own first, then a built-in one (in every workspace, at version 1,
    labelled only `latest`)."""
    check_version(version)
    check_one_selector(version, label)
    if label is not None:
        check_label(label)
    await reach_workspace(store, actor, workspace_id)

    async def load() -> PromptTemplate | None:
        async with store.reader() as uow:
            return await labelled_template(uow, workspace_id, template_id, version, label)

    key = ("prompt-template", workspace_id, template_id, version, label)
    found = await store.cached(key, load)
    if found is not None:
        return found
    if version not in (None, 1) or label not in (None, LATEST):
        raise _no_such_version(template_id, version, label, built_in=True)
    return built_in_template(template_id, workspace_id)


async def labelled_template(
    uow: UnitOfWork, workspace_id: str, ref: str, version: int | None, label: str | None
) -> PromptTemplate | None:
    """The template by id or name at `version` or `label` (else current), with the labels
    that point at that version; None when the workspace has no template of this ref.
    NotFound for a version or label it does not have."""
    current = await uow.prompts.get_template(workspace_id, ref)
    if current is None:
        return None
    labels = await uow.prompt_labels.labels_of(current.prompt_template_id)
    if label is not None and label != LATEST:
        pointed = next((found.version for found in labels if found.label == label), None)
        if pointed is None:
            raise _no_such_version(ref, None, label)
        version = pointed
    at = current
    if version is not None and version != current.version:
        older = await uow.prompts.get_template(
            workspace_id, current.prompt_template_id, version=version
        )
        if older is None:
            raise _no_such_version(ref, version, None)
        at = older
    return with_labels(at, labels, current_version=current.version)


def with_labels(
    template: PromptTemplate, labels: Iterable[PromptLabel], *, current_version: int
) -> PromptTemplate:
    """`template` with the names of the labels that point at its version."""
    names = [found.label for found in labels if found.version == template.version]
    if template.version == current_version:
        names.append(LATEST)
    return replace(template, labels=tuple(sorted(names)))


def _no_such_version(
    ref: str, version: int | None, label: str | None, *, built_in: bool = False
) -> NotFound:
    if label is not None:
        return NotFound(PROMPT_TEMPLATE, f"{ref}@{label}")
    if built_in:
        return NotFound(PROMPT_TEMPLATE, ref)
    return NotFound(PROMPT_TEMPLATE, f"{ref} version {version}")


async def list_prompt_templates(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    name: str | None = None,
    template_type: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> TemplatePage:
    """A page of a workspace's templates, oldest first; the token continues after it.

    `type` is `Custom` (the default: the workspace's own) or `System` (built in). The
    token stays valid while templates are added.
    """
    if max_results is not None and not 1 <= max_results <= MAX_RESULTS_MAX:
        raise InvalidArgument.of("maxResults", f"must be 1..{MAX_RESULTS_MAX}")
    kinds = {t.value: t for t in TemplateType}
    kind = kinds.get(template_type or TemplateType.CUSTOM.value)
    if kind is None:
        raise InvalidArgument.of("type", f"must be one of {', '.join(kinds)}")
    limit = max_results or MAX_RESULTS_DEFAULT
    after = _decode_token(next_token) if next_token else None
    await reach_workspace(store, actor, workspace_id)
    if kind is TemplateType.SYSTEM:
        matching = [
            replace(t, workspace_id=workspace_id, labels=(LATEST,))
            for t in sorted(system_templates(), key=_list_order)
            if not name or name.lower() in t.name.lower()
        ]
        rest = [t for t in matching if after is None or _list_order(t) > after]
        items, total = rest[:limit], len(matching)
        more = len(rest) > limit
    else:
        async with store.reader() as uow:
            items, total = await uow.prompts.list_templates(
                workspace_id, name=name, after=after, limit=limit + 1
            )
            more = len(items) > limit
            items = items[:limit]
            labels = await uow.prompt_labels.labels_by_template(t.prompt_template_id for t in items)
        items = [
            with_labels(t, labels.get(t.prompt_template_id, ()), current_version=t.version)
            for t in items
        ]
    token = _encode_token(items[-1].created_at, items[-1].prompt_template_id) if more else None
    return TemplatePage(items=items, total=total, max_results=limit, next_token=token)


async def update_prompt_template(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    name: str | None = None,
    content: str | None = None,
    messages: Sequence[ChatMessage] | None = None,
    config: Mapping[str, Any] | None = None,
    owner_id: str | None = None,
) -> PromptTemplate:
    """Write a new version with the given fields (`content` makes it a text template,
    `messages` a chat one; an empty `config` clears it); the old one stays as a version.

    An update that changes nothing writes no version. `owner_id` as for a create.
    """
    check_text(name, content)
    async with store.writer() as uow:
        await workspace_to_write(
            uow, actor, workspace_id, owner_id=owner_id, needs=MemberRole.AUTHOR, doing=WRITING
        )
        current = await uow.prompts.get_template(workspace_id, template_id, lock=True)
        if current is None:
            raise template_missing(template_id)
        body = Body.of(content=content, messages=messages, config=config, was=body_of(current))
        changed = next_version(
            current, name=name, body=body, actor_id=actor.principal_id, now_ms=now_ms()
        )
        if (changed.name, body) == (current.name, body_of(current)):
            labels = await uow.prompt_labels.labels_of(current.prompt_template_id)
            return with_labels(current, labels, current_version=current.version)
        await uow.prompts.save_template(changed)
        uow.announce(template_topic(changed.prompt_template_id))
        await record(
            uow,
            actor,
            AuditAction.UPDATE,
            ResourceType.PROMPT_TEMPLATE,
            current.prompt_template_id,
            {
                "workspaceId": workspace_id,
                "version": changed.version,
                "fields": named(name=name, content=content, messages=messages, config=config),
            },
        )
        await uow.commit()
    return replace(changed, labels=(LATEST,))


async def delete_prompt_template(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    owner_id: str | None = None,
) -> str:
    """Delete a template with all its versions (`owner_id` as for a create); its id."""
    async with store.writer() as uow:
        await workspace_to_write(
            uow, actor, workspace_id, owner_id=owner_id, doing="deleting its templates"
        )
        found = await uow.prompts.get_template(workspace_id, template_id)
        if found is None:
            raise template_missing(template_id)
        await uow.prompt_labels.delete_all(found.prompt_template_id)
        uow.announce(template_topic(found.prompt_template_id))
        await uow.prompts.delete_template(found.prompt_template_id)
        await record(
            uow,
            actor,
            AuditAction.DELETE,
            ResourceType.PROMPT_TEMPLATE,
            found.prompt_template_id,
            {"workspaceId": workspace_id},
        )
        await uow.commit()
    return found.prompt_template_id


async def list_versions(
    *, store: Store, actor: Principal, workspace_id: str, template_id: str
) -> list[PromptTemplate]:
    """Every version of a template by id or name, oldest first (as `get_prompt_template`
    finds it)."""
    await reach_workspace(store, actor, workspace_id)
    async with store.reader() as uow:
        found = await uow.prompts.get_template(workspace_id, template_id)
        if found is not None:
            versions = await uow.prompts.versions_of(found.prompt_template_id)
            labels = await uow.prompt_labels.labels_of(found.prompt_template_id)
            return [with_labels(v, labels, current_version=found.version) for v in versions]
    return [built_in_template(template_id, workspace_id)]


async def render_prompt_template(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    variables: dict[str, str],
    allow_partial: bool = False,
    version: int | None = None,
    label: str | None = None,
    max_rendered_bytes: int = RENDERED_MAX_BYTES,
) -> tuple[PromptTemplate, Rendered]:
    """Fill a template's variables (current, at `version` or at `label`); missing ones, or
    a text over the limit, are an error."""
    template = await get_prompt_template(
        store=store,
        actor=actor,
        workspace_id=workspace_id,
        template_id=template_id,
        version=version,
        label=label,
    )
    work = partial(
        render_template,
        template,
        variables,
        allow_partial=allow_partial,
        max_bytes=max_rendered_bytes,
    )
    if template.content.count("${") + len(variables) > INLINE_RENDER_PARTS:
        return template, await asyncio.to_thread(work)
    return template, work()


@dataclass(frozen=True)
class TemplateDiff:
    """Two versions of a template and the unified diff from the first to the second."""

    old: PromptTemplate
    new: PromptTemplate
    diff: TextDiff


def _version_or_label(ref: str, field: str) -> tuple[int | None, str | None]:
    """A version number (digits) or a label name, as `from` and `to` of a diff give it."""
    if ref.isascii() and ref.isdigit():
        version = int(ref)
        if not 1 <= version <= VERSION_MAX:
            raise InvalidArgument.of(field, f"a version must be 1..{VERSION_MAX}")
        return version, None
    check_label(ref, field)
    return None, ref


async def diff_prompt_template(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    old: str,
    new: str = LATEST,
) -> TemplateDiff:
    """The unified diff of a template's text from one version to another, each given as a
    version number or a label (`latest`: the current one)."""
    ends = []
    for field, ref in (("from", old), ("to", new)):
        version, label = _version_or_label(ref, field)
        template = await get_prompt_template(
            store=store,
            actor=actor,
            workspace_id=workspace_id,
            template_id=template_id,
            version=version,
            label=label,
        )
        shown = f"{template.name}@{template.version}" + (f" ({label})" if label else "")
        ends.append((template, shown))
    (a, a_name), (b, b_name) = ends
    work = partial(unified_diff, a.content, b.content, old_name=a_name, new_name=b_name)
    lines = a.content.count("\n") + b.content.count("\n")
    diff = await asyncio.to_thread(work) if lines > INLINE_DIFF_LINES else work()
    return TemplateDiff(old=a, new=b, diff=diff)
