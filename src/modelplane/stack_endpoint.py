"""`POST /v1/stack:apply`: a stack planned and applied by the server in one transaction.

The planner and executor are the stack's own (`modelplane.stack.plan` and `apply`, the
ones `modelplane apply` ran from the operator's side before): here they run in a worker
thread with an SDK client whose transport calls this very app in-process
(`InProcessTransport`), authenticated as the caller with the caller's key, so every rule,
owner check and audit event is the one of the API call it makes. All those calls join
ONE database transaction (`Store.ambient()`): each call is a savepoint, a refused call
rolls back to it and the executor goes on to the next change, so one run lists every
change that fails. Then the transaction commits only when nothing failed and it is not
a dry-run; otherwise it rolls back and nothing was written, nothing announced (read
caches, watchers, other replicas hear of a commit only). The plan is read in the same
transaction it is applied in, so it is computed against the state it changes.

Bounds: the document is bounded by the body limit (`MODELPLANE_MAX_BODY_BYTES`), the plan
by `CHANGES_MAX` changes (400 beyond), each in-process call by `CALL_TIMEOUT_SECONDS`.
The in-process calls do not count against the caller's rate limit (the apply counts
once). On SQLite the transaction holds the write lock from start to end: the process's
other writers wait for it (see `store/ambient.py`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response
from starlette.types import ASGIApp

from modelplane import stack as stacks
from modelplane.client import Client, ModelplaneError
from modelplane.domain.errors import InvalidArgument
from modelplane.faces.jsonresponse import JsonResponse
from modelplane.faces.native.deps import IN_PROCESS, context, presented_token
from modelplane.faces.native.errors import error_body
from modelplane.faces.native.responses import ErrorOut
from modelplane.faces.native.routing import router as native_router
from modelplane.store.uow import Store

log = logging.getLogger("modelplane.stack")

CHANGES_MAX = 1000  # changes one apply may plan
CALL_TIMEOUT_SECONDS = 60.0  # one in-process call of the executor
_BASE_URL = "http://modelplane.in-process"
_CONFLICTS_SHOWN = 20  # in the error's message (every one is in `conflicts` and `details`)


class StackApplyIn(BaseModel):
    """A stack to apply: the document (the stack file's schema, as JSON) and the values of
    the `env://NAME` secrets it references, resolved by the caller."""

    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] = Field(
        description="The stack: `apiVersion`, `llms`, `modelGroups`, `workspaces`, `configs`, "
        "`principals` (docs/apply.md); secrets in it are `env://NAME` references"
    )
    secrets: dict[str, Annotated[str, Field(max_length=65536)]] = Field(
        default_factory=dict,
        description="The value of each `env://NAME` the document reads, by NAME",
        max_length=1000,
    )
    dryRun: bool = Field(
        default=False, description="Plan and apply, then roll back: what would happen"
    )
    prune: bool = Field(
        default=False,
        description="Also delete what the caller can see that the document does not declare",
    )
    replaceKeys: bool = Field(
        default=False,
        description="Replace an API key whose scope differs from the document (else a conflict)",
    )


class StackFieldOut(BaseModel):
    """One field of a change: its value now (null when created) and the value wanted."""

    name: str
    old: Any = None
    new: Any = None


class StackChangeOut(BaseModel):
    """One change; `token` is the key of an API key issued (shown this once)."""

    action: str
    kind: str
    name: str
    fields: list[StackFieldOut]
    token: str | None = None


class StackApplyOut(BaseModel):
    """What the apply did (or the dry-run would do)."""

    dryRun: bool
    create: int
    update: int
    delete: int
    replace: int
    changes: list[StackChangeOut]
    missingSecrets: list[str] = Field(
        default_factory=list,
        description="Secrets a dry-run planned without (a real apply refuses them)",
    )


class StackFailureOut(BaseModel):
    """A change that failed: the error its call was answered with."""

    action: str
    kind: str
    name: str
    status: int
    code: str
    message: str


class StackConflictOut(ErrorOut):
    """A stack with changes that fail: nothing was applied. `details` names each change
    (`field`) and its error (`rule`), `conflicts` holds them with their status. A request
    refused before any change was planned (a bad document: 400) is a plain error, without
    `dryRun`, `conflicts` and `changes`."""

    dryRun: bool = False
    conflicts: list[StackFailureOut] = Field(
        default_factory=list, description="Each change that failed; absent before planning"
    )
    changes: list[StackChangeOut] = Field(
        default_factory=list, description="The plan; absent before planning"
    )


_CONFLICT = {"model": StackConflictOut}
router = native_router("/v1", ["stacks"])


@dataclass
class Outcome:
    """What a run found: the plan, the tokens issued, the changes that failed; or the
    error that stopped it before applying (`refused`)."""

    plan: stacks.Plan | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    failures: list[stacks.Failure] = field(default_factory=list)
    refused: Exception | None = None


@router.post(
    "/stack:apply",
    response_model=StackApplyOut,
    responses={
        400: {**_CONFLICT, "description": "A bad document, or changes it refuses"},
        409: {**_CONFLICT, "description": "A change conflicts with what exists"},
        412: {**_CONFLICT, "description": "A change's precondition does not hold"},
    },
    description="Plan a stack against the instance and apply it in one transaction: all of "
    "it or nothing. The document has the stack file's schema (docs/apply.md) as JSON; its "
    "`env://NAME` secrets are read from `secrets` (a real apply refuses one that is missing, "
    "naming each; a dry-run plans with a placeholder and lists them in `missingSecrets`). "
    "Every change runs as the API call it stands for, as the caller (rules, owners and "
    "audit events as for that call); when any fails, the transaction is rolled back and the "
    "answer is the first failing change's status (409, 412, 400, …) with every failing "
    "change in `conflicts` (and `details`). `dryRun` runs the same and rolls back, so it "
    "reports every conflict the apply would hit. `prune` also deletes what the caller can "
    "see that the document does not declare; it refuses a document without `apiVersion` or "
    f"with nothing in it. At most {CHANGES_MAX} changes per apply. The tokens of API keys "
    "issued are in their changes' `token`, shown this once.",
)
async def apply_stack(body: StackApplyIn, request: Request) -> Response:
    """Plan and apply a stack in one transaction."""
    ctx = context(request)
    declared = _parsed(body)
    token = presented_token(request.headers.get("authorization"), request.headers.get("x-api-key"))
    request_id = request.scope.get("state", {}).get("request_id")
    outcome = await run(
        app=request.app,
        store=ctx.store,
        api_key=token,
        request_id=request_id,
        stack=declared,
        secrets=body.secrets,
        dry_run=body.dryRun,
        prune=body.prune,
        replace_keys=body.replaceKeys,
    )
    return _render(outcome, dry_run=body.dryRun)


def _parsed(body: StackApplyIn) -> stacks.Stack:
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
    if len(changes.changes) > CHANGES_MAX:
        rule = (
            f"the stack makes {len(changes.changes)} changes; at most {CHANGES_MAX} per apply "
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


def _render(outcome: Outcome, *, dry_run: bool) -> Response:
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
