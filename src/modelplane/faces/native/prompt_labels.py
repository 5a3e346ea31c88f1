"""Routes of …/prompt-templates/{ref}/labels and /label-history: promote, roll back,
remove and list labels, and the history of their moves. Each handler parses, calls one
service, renders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from modelplane.domain.prompt_labels import LABEL_RULE, LabelMove, PromptLabel
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import context
from modelplane.faces.native.llm_schemas import WireModel
from modelplane.faces.native.owner_query import NamedOwner
from modelplane.faces.native.prompt_templates import TemplateRef
from modelplane.faces.native.routing import router as native_router
from modelplane.services import prompt_labels as service
from modelplane.services.prompt_labels import HISTORY_DEFAULT, HISTORY_MAX, LabelMoved

router = native_router("/v1/workspaces/{workspace_id}/prompt-templates", ["prompt-templates"])

LabelName = Annotated[str, Path(description=LABEL_RULE + "; not `latest`")]
WHO = (
    "Who may: the workspace's owner, its `editor` members and admins naming its owner with "
    "`ownerId`; its `author` members too for every label but `production` (403 for them "
    "and for a `reader`)."
)


class LabelPut(WireModel):
    """Body of `PUT …/labels/{label}`."""

    version: int = Field(description="The version the label is to point at (1..current)")


class LabelOut(BaseModel):
    """Where a label points."""

    label: str
    version: int
    updatedAt: int
    updatedBy: str


class LabelListOut(BaseModel):
    """Every label of a template, by name; `latest` (the current version) among them."""

    labels: list[LabelOut]


class LabelMovedOut(LabelOut):
    """A label after it was moved or removed."""

    promptTemplateId: str
    previousVersion: int | None = Field(
        description="Where it pointed before (null: it was not set)"
    )
    moved: bool = Field(description="False when it already pointed there: nothing was written")


class LabelMoveOut(BaseModel):
    """One move of a label."""

    label: str
    fromVersion: int | None = Field(description="null: the label was set for the first time")
    toVersion: int | None = Field(description="null: the label was removed")
    movedAt: int
    movedBy: str


class LabelHistoryOut(BaseModel):
    """A page of a template's label moves, newest first."""

    moves: list[LabelMoveOut]
    nextToken: str | None = Field(
        default=None, description="Pass as `nextToken` for the next page; null on the last"
    )


def _label(found: PromptLabel) -> dict[str, Any]:
    return {
        "label": found.label,
        "version": found.version,
        "updatedAt": found.updated_at,
        "updatedBy": found.updated_by,
    }


def _moved(result: LabelMoved, *, moved: bool) -> dict[str, Any]:
    return {
        **_label(result.label),
        "promptTemplateId": result.template_id,
        "previousVersion": result.previous_version,
        "moved": moved,
    }


def _move(move: LabelMove) -> dict[str, Any]:
    return {
        "label": move.label,
        "fromVersion": move.from_version,
        "toVersion": move.to_version,
        "movedAt": move.moved_at,
        "movedBy": move.moved_by,
    }


@router.get("/{prompt_template_id}/labels", response_model=LabelListOut)
async def list_labels(
    workspace_id: str, prompt_template_id: TemplateRef, request: Request
) -> Response:
    """Every label of a template and the version it points at."""
    ctx = context(request)
    labels = await service.list_labels(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
    )
    return JsonResponse({"labels": [_label(found) for found in labels]})


@router.put(
    "/{prompt_template_id}/labels/{label}",
    response_model=LabelMovedOut,
    description="Point a label at one of the template's versions: a promotion, or a rollback "
    "(moving it back). A label that is not set yet is created. Audited, and kept in "
    "`/label-history`. " + WHO,
)
async def set_label(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    label: LabelName,
    body: LabelPut,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Move a label."""
    ctx = context(request)
    result = await service.set_label(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        label=label,
        version=body.version,
        owner_id=owner_id,
    )
    return JsonResponse(_moved(result, moved=result.moved))


@router.delete(
    "/{prompt_template_id}/labels/{label}",
    response_model=LabelMovedOut,
    description="Remove a label (404 when it is not set); audited, and kept in "
    "`/label-history`. " + WHO,
)
async def remove_label(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    label: LabelName,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Remove a label; the answer says where it pointed."""
    ctx = context(request)
    result = await service.remove_label(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        label=label,
        owner_id=owner_id,
    )
    return JsonResponse(_moved(result, moved=True))


@router.get("/{prompt_template_id}/label-history", response_model=LabelHistoryOut)
async def label_history(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    request: Request,
    max_results: Annotated[
        int | None,
        Query(alias="maxResults", description=f"1..{HISTORY_MAX}; {HISTORY_DEFAULT} when absent"),
    ] = None,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
) -> Response:
    """Every move of the template's labels, newest first, in pages."""
    ctx = context(request)
    page = await service.label_history(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=workspace_id,
        template_id=prompt_template_id,
        max_results=max_results,
        next_token=next_token,
    )
    return JsonResponse({"moves": [_move(m) for m in page.moves], "nextToken": page.next_token})
