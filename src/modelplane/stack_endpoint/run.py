"""Running a stack apply: the planner and executor over the app, in one transaction.

Imported by the route (`modelplane.stack_endpoint`) at its first call: the stack's
planner, the SDK and httpx cost a fifth of the server's start.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.responses import Response
from starlette.types import ASGIApp

from modelplane import stack as stacks
from modelplane import stack_endpoint
from modelplane.client import Client, ModelplaneError
from modelplane.domain.errors import InvalidArgument
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import IN_PROCESS
from modelplane.faces.native.errors import error_body
from modelplane.stack_endpoint import StackApplyIn
from modelplane.store.uow import Store

log = logging.getLogger("modelplane.stack")

CALL_TIMEOUT_SECONDS = 60.0  # one in-process call of the executor
_BASE_URL = "http://modelplane.in-process"
_CONFLICTS_SHOWN = 20  # in the error's message (every one is in `conflicts` and `details`)


@dataclass
class Outcome:
    """What a run found: the plan, the tokens issued, the changes that failed; or the
    error that stopped it before applying (`refused`)."""

    plan: stacks.Plan | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    failures: list[stacks.Failure] = field(default_factory=list)
    refused: Exception | None = None


def parsed(body: StackApplyIn) -> stacks.Stack:
    """The document as a stack; InvalidArgument naming each broken rule's place."""
    if body.prune and (refusal := stacks.prune_refusal(body.document)) is not None:
        raise InvalidArgument.of("document", refusal)
    try:
        return stacks.parse(body.document)
    except stacks.StackError as exc:
        raise InvalidArgument.of("document", str(exc)) from None


async def run(
    *,
    app: ASGIApp,
    store: Store,
    api_key: str,
    request_id: str | None,
    stack: stacks.Stack,
    secrets: dict[str, str],
    dry_run: bool,
    prune: bool,
    replace_keys: bool,
) -> Outcome:
    """Plan and apply `stack` in one transaction, committed only when every change
    succeeded and it is not a dry-run."""
    loop = asyncio.get_running_loop()
    transport = InProcessTransport(app, loop, request_id)

    def work() -> Outcome:
        IN_PROCESS.set(True)  # this thread's context, and the calls it makes
        with Client(_BASE_URL, api_key, transport=transport, max_retries=0) as client:
            return _plan_and_apply(client, stack, secrets, dry_run, prune, replace_keys)

    async with store.ambient() as transaction:
        running = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            outcome = await asyncio.shield(running)
        except asyncio.CancelledError:
            # The caller went away: refuse the thread's next call, and let the one under
            # way end before the transaction is rolled back under it.
            transaction.closed = True
            await asyncio.wait([running])
            raise
        if not dry_run and outcome.refused is None and not outcome.failures:
            await transaction.commit()
    return outcome


def _plan_and_apply(
    client: Client,
    stack: stacks.Stack,
    secrets: dict[str, str],
    dry_run: bool,
    prune: bool,
    replace_keys: bool,
) -> Outcome:
    try:
        changes = stacks.plan(
            client,
            stack,
            prune=prune,
            replace_keys=replace_keys,
            environ=secrets,
            unset_secrets_ok=dry_run,
        )
    except stacks.StackError as exc:
        return Outcome(refused=InvalidArgument.of("document", str(exc)))
    except ModelplaneError as exc:
        return Outcome(refused=exc)
    most = stack_endpoint.CHANGES_MAX
    if len(changes.changes) > most:
        rule = (
            f"the stack makes {len(changes.changes)} changes; at most {most} per apply "
            "(apply it in parts)"
        )
        return Outcome(plan=changes, refused=InvalidArgument.of("document", rule))
    failures: list[stacks.Failure] = []
    tokens = stacks.apply(client, changes, failures=failures)
    return Outcome(plan=changes, tokens=tokens, failures=failures)


class InProcessTransport(httpx.BaseTransport):
    """An httpx transport (for the sync SDK, in a worker thread) that sends each request
    to `app` on the event loop `loop`, and waits for its answer.

    The request runs as a task of `loop` in a copy of the calling thread's context, so
    what that context holds (the ambient transaction, `IN_PROCESS`) holds for it too.
    Each request carries `request_id`, so its log line and audit events name the apply.
    """

    def __init__(
        self, app: ASGIApp, loop: asyncio.AbstractEventLoop, request_id: str | None
    ) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = loop
        self._request_id = request_id

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"x-request-id"]
        if self._request_id is not None:
            headers.append((b"x-request-id", self._request_id.encode()))
        inner = httpx.Request(request.method, request.url, headers=headers, content=request.read())
        future = asyncio.run_coroutine_threadsafe(self._send(inner), self._loop)
        try:
            status, answer_headers, content = future.result(timeout=CALL_TIMEOUT_SECONDS)
        except TimeoutError:
            future.cancel()
            raise httpx.ReadTimeout("the in-process call took too long", request=request) from None
        return httpx.Response(status, headers=answer_headers, content=content, request=request)

    async def _send(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        return response.status_code, list(response.headers.raw), content


def _change(change: stacks.Change, tokens: dict[str, str]) -> dict[str, Any]:
    entry = change.as_json()
    token = tokens.get(change.name) if change.kind == "api-key" else None
    if token is not None:
        entry["token"] = token
    return entry


def _conflict(failure: stacks.Failure) -> dict[str, Any]:
    change, cause = failure.change, failure.cause
    status, code = 500, "INTERNAL"
    if failure.after_failure:
        status, code = 412, "FAILED_PRECONDITION"
        message = "needs what a change before it that fails would make"
    elif isinstance(cause, ModelplaneError):
        status, code = cause.status_code or 503, cause.code
        if code == "TRANSPORT":
            status, code = 503, "UNAVAILABLE"
        parts = [cause.message] if cause.message else []
        parts += [
            f"{d.field}: {d.rule}" for d in cause.details if f"{d.field}:" not in cause.message
        ]
        message = "; ".join(parts) or code
    elif isinstance(cause, stacks.StackError):
        status, code, message = 400, "INVALID_ARGUMENT", str(cause)
    else:
        log.error("a stack change failed unexpectedly", exc_info=cause)
        message = "internal error"
    return {
        "action": change.action.value,
        "kind": change.kind,
        "name": change.name,
        "status": status,
        "code": code,
        "message": message,
    }


def render(outcome: Outcome, *, dry_run: bool) -> Response:
    plan = outcome.plan
    if outcome.refused is not None:
        refused = outcome.refused
        if isinstance(refused, InvalidArgument):
            raise refused
        assert isinstance(refused, ModelplaneError)
        details = [{"field": d.field, "rule": d.rule} for d in refused.details]
        status = refused.status_code or 503
        return JsonResponse(error_body(refused.code, refused.message, details), status)
    assert plan is not None
    if outcome.failures:
        conflicts = [_conflict(failure) for failure in outcome.failures]
        first = next((c for c in conflicts if c["status"] >= 500), conflicts[0])
        what = "would fail" if dry_run else "failed"
        message = (
            f"{len(conflicts)} of {len(plan.changes)} changes {what}; nothing was applied: "
            + "; ".join(
                f"{c['action']} {c['kind']} {c['name']}: {c['message']}"
                for c in conflicts[:_CONFLICTS_SHOWN]
            )
        )
        details = [
            {
                "field": f"{c['action']} {c['kind']} {c['name']}",
                "rule": f"{c['code']}: {c['message']}",
            }
            for c in conflicts
        ]
        body = error_body(first["code"], message, details)
        body.update(
            dryRun=dry_run,
            conflicts=conflicts,
            changes=[_change(c, {}) for c in plan.changes],
        )
        return JsonResponse(body, first["status"])
    tokens = {} if dry_run else outcome.tokens
    return JsonResponse(
        {
            "dryRun": dry_run,
            **plan.counts(),
            "changes": [_change(c, tokens) for c in plan.changes],
            "missingSecrets": plan.missing_secrets,
        },
        200,
    )
