"""Route of …/prompt-templates/{ref}/watch: wait until the version a label points at
changes (long-poll JSON, or server-sent events). Each open watch takes one of the caller's
watch slots, as a namespace's watch does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from modelplane.domain.errors import DomainError
from modelplane.domain.prompts import PromptTemplate
from modelplane.faces.event_stream import EventStream, comment, event, wants_events
from modelplane.faces.jsonresponse import JsonResponse, json_bytes
from modelplane.faces.native.deps import Context, context
from modelplane.faces.native.errors import render
from modelplane.faces.native.prompt_schemas import PromptTemplateOut, render_template
from modelplane.faces.native.prompt_templates import TemplateRef
from modelplane.faces.native.responses import ErrorOut
from modelplane.faces.native.routing import router as native_router
from modelplane.faces.shutdown import Shutdown, disconnected, first_of
from modelplane.security.watch_slots import WatchSlots
from modelplane.services import prompt_watch as service

router = native_router("/v1/workspaces/{workspace_id}/prompt-templates", ["prompt-templates"])

HEARTBEAT_SECONDS = 15.0
WATCH_SECONDS_DEFAULT = 30.0


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
    shutdown: Shutdown = request.app.state.shutdown
    slots: WatchSlots = request.app.state.watch_slots
    watched = Watched(workspace_id, prompt_template_id, label)
    if wants_events(request.headers.get("accept")):
        service.check_prompt_watch(version, timeout_seconds or 0.0)
        slot = slots.take(ctx.principal.principal_id)
        try:
            first = await _watch(ctx, watched, version, 0.0)
        except BaseException:
            slot.release()
            raise
        return EventStream(
            _events(ctx, watched, version, first, timeout_seconds),
            shutdown=shutdown,
            on_close=slot.release,
        )
    timeout = WATCH_SECONDS_DEFAULT if timeout_seconds is None else timeout_seconds
    service.check_prompt_watch(version, timeout)
    slot = slots.take(ctx.principal.principal_id)
    try:
        found = await first_of(
            _watch(ctx, watched, version, timeout),
            disconnected(request.receive),
            shutdown.wait(),
        )
    finally:
        slot.release()
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


async def _watch(
    ctx: Context, watched: Watched, held: int, timeout_seconds: float
) -> PromptTemplate | None:
    return await service.watch_prompt_template(
        store=ctx.store,
        actor=ctx.principal,
        workspace_id=watched.workspace_id,
        template_id=watched.template_id,
        label=watched.label,
        held_version=held,
        timeout_seconds=timeout_seconds,
    )


async def _events(
    ctx: Context,
    watched: Watched,
    held: int,
    first: PromptTemplate | None,
    timeout_seconds: float | None,
) -> AsyncIterator[bytes]:
    """A `change` event each time the label points at another version (the first at once
    when it already does), heartbeats between; ends at the timeout or after an error."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout_seconds is None else loop.time() + timeout_seconds
    found = first
    try:
        while True:
            if found is not None and found.version != held:
                held = found.version
                yield event("change", json_bytes(render_template(found)), held)
            wait = HEARTBEAT_SECONDS
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return
                wait = min(wait, left)
            found = await _watch(ctx, watched, held, wait)
            if found is None and (deadline is None or loop.time() < deadline):
                yield comment("heartbeat")
    except DomainError as exc:
        yield event("error", bytes(render(exc).body))
