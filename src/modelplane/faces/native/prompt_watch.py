"""Route of …/prompt-templates/{ref}/watch: wait until the version a label points at
changes (long-poll JSON, or server-sent events). Each open watch takes one of the caller's
watch slots, as a namespace's watch does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from modelplane.domain.prompts import PromptTemplate
from modelplane.faces.event_stream import wants_events
from modelplane.faces.jsonresponse import JsonResponse, json_bytes
from modelplane.faces.native.deps import Context, context
from modelplane.faces.native.prompt_schemas import PromptTemplateOut, render_template
from modelplane.faces.native.prompt_templates import TemplateRef
from modelplane.faces.native.responses import ErrorOut
from modelplane.faces.native.routing import router as native_router
from modelplane.faces.native.watching import (
    WATCH_SECONDS_DEFAULT,
    change_events,
    event_stream,
    long_poll,
)
from modelplane.services import prompt_watch as service

router = native_router("/v1/workspaces/{workspace_id}/prompt-templates", ["prompt-templates"])


class PromptWatchOut(BaseModel):
    """A long-poll's answer: the template at its new version, or `changed: false`."""

    changed: bool
    version: int = Field(description="The version the label points at now")
    template: PromptTemplateOut | None = Field(
        default=None, description="The template at that version (when `changed`)"
    )


@router.get(
    "/{prompt_template_id}/watch",
    response_model=PromptWatchOut,
    responses={
        200: {
            "description": "JSON, or with `Accept: text/event-stream` a stream of `change` "
            "events whose data is the template (`id`: its version).",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        429: {"model": ErrorOut, "description": "Too many open watches (as for namespaces)"},
    },
    description="Wait until the version that `label` points at (the current version when "
    "absent, or `latest`) is another than `version`, the one the caller holds (0: none), "
    "and get the template at it. A move of the label, a new version, a rename or a delete "
    "wakes it at once, on any replica.\n\n"
    "**Long-poll (JSON).** Answers at once when the label already points elsewhere, else "
    'as soon as it moves, with `{"changed": true, "version", "template"}`; at '
    '`timeoutSeconds` (default 30, at most 300) `{"changed": false, "version"}`. A label '
    "that is removed, or a template that is deleted, is 404.\n\n"
    "**Server-sent events** (`Accept: text/event-stream`): an event `change` (`id`: the "
    "version) each time the label points at another version, a comment every ~15 s; it "
    "ends at `timeoutSeconds` when given, or after an `error` event.",
)
async def watch_prompt_template(
    workspace_id: str,
    prompt_template_id: TemplateRef,
    request: Request,
    version: Annotated[int, Query(description="The version the caller holds; 0: none")] = 0,
    label: Annotated[
        str | None, Query(description="The label to follow; the current version when absent")
    ] = None,
    timeout_seconds: Annotated[
        float | None,
        Query(
            alias="timeoutSeconds",
            description="Long-poll: 30 when absent; event stream: no end when absent",
        ),
    ] = None,
) -> Response:
    """Watch a template's label."""
    ctx = context(request)
    watch = _Label(ctx, Watched(workspace_id, prompt_template_id, label), version)
    principal_id = ctx.principal.principal_id
    if wants_events(request.headers.get("accept")):
        service.check_prompt_watch(version, timeout_seconds or 0.0)
        return await event_stream(
            request,
            principal_id,
            lambda: watch.wait(0.0),
            lambda first: change_events(watch, first, timeout_seconds),
        )
    timeout = WATCH_SECONDS_DEFAULT if timeout_seconds is None else timeout_seconds
    service.check_prompt_watch(version, timeout)
    found = await long_poll(request, principal_id, lambda: watch.wait(timeout))
    if found is None:
        return JsonResponse({"changed": False, "version": version})
    return JsonResponse(
        {"changed": True, "version": found.version, "template": render_template(found)}
    )


@dataclass(frozen=True)
class Watched:
    """What a watch follows."""

    workspace_id: str
    template_id: str
    label: str | None


class _Label:
    """The version a template's label points at, after the one the client holds."""

    def __init__(self, ctx: Context, watched: Watched, held: int) -> None:
        self.ctx = ctx
        self.watched = watched
        self.held = held

    async def wait(self, seconds: float) -> PromptTemplate | None:
        """The template once the label points at another version than the one held."""
        return await service.watch_prompt_template(
            store=self.ctx.store,
            actor=self.ctx.principal,
            workspace_id=self.watched.workspace_id,
            template_id=self.watched.template_id,
            label=self.watched.label,
            held_version=self.held,
            timeout_seconds=seconds,
        )

    def news(self, found: PromptTemplate) -> tuple[bytes, int] | None:
        """A `change` event (`id`: the version) when the label points elsewhere."""
        if found.version == self.held:
            return None
        self.held = found.version
        return json_bytes(render_template(found)), self.held
