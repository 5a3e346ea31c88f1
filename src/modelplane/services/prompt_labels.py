"""Labels of prompt templates: move (promote, roll back), remove, list, and their history."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.errors import InvalidArgument, NotFound
from modelplane.domain.principals import Principal
from modelplane.domain.prompt_labels import (
    LATEST,
    LabelMove,
    PromptLabel,
    check_movable,
    is_protected,
)
from modelplane.domain.prompts import PromptTemplate, check_version
from modelplane.domain.workspaces import MemberRole
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.services.prompts import (
    built_in_template,
    reach_workspace,
    template_missing,
    template_topic,
)
from modelplane.services.workspaces import workspace_to_write
from modelplane.store.uow import Store, UnitOfWork

LABEL = "PromptTemplateLabel"
HISTORY_DEFAULT = 20
HISTORY_MAX = 100


@dataclass(frozen=True)
class LabelMoved:
    """A label after a move, and where it pointed before (None: it was not set)."""

    template_id: str
    label: PromptLabel
    previous_version: int | None

    @property
    def moved(self) -> bool:
        """False when the label already pointed at that version (nothing was written)."""
        return self.previous_version != self.label.version


@dataclass(frozen=True)
class MovePage:
    """A page of a template's label history, newest first, and the next page's token."""

    moves: list[LabelMove]
    next_token: str | None


async def _template_to_label(
    uow: UnitOfWork,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    label: str,
    owner_id: str | None,
) -> PromptTemplate:
    """The template (locked until the move commits) whose `label` the actor may move."""
    check_movable(label)
    needs = MemberRole.EDITOR if is_protected(label) else MemberRole.AUTHOR
    await workspace_to_write(
        uow,
        actor,
        workspace_id,
        owner_id=owner_id,
        needs=needs,
        doing=f"moving the label {label!r}",
    )
    template = await uow.prompts.get_template(workspace_id, template_id, lock=True)
    if template is None:
        raise template_missing(template_id)
    return template


async def _moved(
    uow: UnitOfWork, actor: Principal, workspace_id: str, template_id: str, move: LabelMove
) -> None:
    """Keep a move in the history and the audit log; wake the template's watchers."""
    await uow.prompt_labels.add_move(template_id, move)
    uow.announce(template_topic(template_id))
    await record(
        uow,
        actor,
        AuditAction.UPDATE,
        ResourceType.PROMPT_TEMPLATE,
        template_id,
        {
            "workspaceId": workspace_id,
            "label": move.label,
            "fromVersion": move.from_version,
            "toVersion": move.to_version,
        },
    )


async def set_label(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    label: str,
    version: int,
    owner_id: str | None = None,
) -> LabelMoved:
    """Point a label of a template (by id or name) at one of its versions: a promotion, or
    a rollback; audited and kept in the template's history."""
    check_version(version)
    async with store.writer() as uow:
        template = await _template_to_label(uow, actor, workspace_id, template_id, label, owner_id)
        if version > template.version:
            raise InvalidArgument.of(
                "version",
                f"template {template.name!r} has versions 1..{template.version}",
            )
        found = await uow.prompt_labels.label(template.prompt_template_id, label)
        before = found.version if found is not None else None
        if found is not None and before == version:
            return LabelMoved(template.prompt_template_id, found, before)
        at = now_ms()
        moved = PromptLabel(
            label=label, version=version, updated_at=at, updated_by=actor.principal_id
        )
        await uow.prompt_labels.put(template.prompt_template_id, moved)
        move = LabelMove(label, before, version, at, actor.principal_id)
        await _moved(uow, actor, workspace_id, template.prompt_template_id, move)
        await uow.commit()
    return LabelMoved(template.prompt_template_id, moved, before)


async def remove_label(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    label: str,
    owner_id: str | None = None,
) -> LabelMoved:
    """Unset a label of a template (who may: as for moving it); audited and kept in the
    history. The answer's label is where it pointed."""
    async with store.writer() as uow:
        template = await _template_to_label(uow, actor, workspace_id, template_id, label, owner_id)
        found = await uow.prompt_labels.label(template.prompt_template_id, label)
        if found is None:
            raise NotFound(LABEL, f"{template.name}/{label}")
        await uow.prompt_labels.remove(template.prompt_template_id, label)
        move = LabelMove(label, found.version, None, now_ms(), actor.principal_id)
        await _moved(uow, actor, workspace_id, template.prompt_template_id, move)
        await uow.commit()
    return LabelMoved(template.prompt_template_id, found, found.version)


async def list_labels(
    *, store: Store, actor: Principal, workspace_id: str, template_id: str
) -> list[PromptLabel]:
    """Where each label of a template points, by name; `latest` (the current version)
    among them. A built-in template has only `latest`."""
    await reach_workspace(store, actor, workspace_id)
    async with store.reader() as uow:
        template = await uow.prompts.get_template(workspace_id, template_id)
        stored = (
            await uow.prompt_labels.labels_of(template.prompt_template_id)
            if template is not None
            else []
        )
    if template is None:
        template = built_in_template(template_id, workspace_id)
    latest = PromptLabel(LATEST, template.version, template.updated_at, template.updated_by)
    return sorted([*stored, latest], key=lambda found: found.label)


def _encode(move_id: int) -> str:
    return base64.urlsafe_b64encode(str(move_id).encode()).decode().rstrip("=")


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        move_id = int(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument.of("nextToken", "not a token this service gave out") from None
    if not 0 < move_id < 2**63:
        raise InvalidArgument.of("nextToken", "not a token this service gave out")
    return move_id


async def label_history(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    max_results: int | None = None,
    next_token: str | None = None,
) -> MovePage:
    """A page of a template's label moves, newest first (a built-in template has none)."""
    if max_results is not None and not 1 <= max_results <= HISTORY_MAX:
        raise InvalidArgument.of("maxResults", f"must be 1..{HISTORY_MAX}")
    limit = max_results or HISTORY_DEFAULT
    before = _decode(next_token) if next_token else None
    await reach_workspace(store, actor, workspace_id)
    async with store.reader() as uow:
        template = await uow.prompts.get_template(workspace_id, template_id)
        if template is None:
            built_in_template(template_id, workspace_id)  # NotFound unless built in
            return MovePage(moves=[], next_token=None)
        found = await uow.prompt_labels.moves(
            template.prompt_template_id, before=before, limit=limit + 1
        )
    page = found[:limit]
    token = _encode(page[-1][0]) if len(found) > limit else None
    return MovePage(moves=[move for _, move in page], next_token=token)
