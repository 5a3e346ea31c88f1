"""`POST /v1/stack:apply`: a stack planned and applied by the server in one transaction.

The planner and executor are the stack's own (`modelplane.stack.plan` and `apply`, the
ones `modelplane apply` ran from the operator's side before): here they run in a worker
thread with an SDK client whose transport calls this very app in-process
(`run.InProcessTransport`), authenticated as the caller with the caller's key, so every rule,
owner check and audit event is the one of the API call it makes. All those calls join
ONE database transaction (`Store.ambient()`): each call is a savepoint, a refused call
rolls back to it and the executor goes on to the next change, so one run lists every
change that fails. Then the transaction commits only when nothing failed and it is not
a dry-run; otherwise it rolls back and nothing was written, nothing announced (read
caches, watchers, other replicas hear of a commit only). The plan is read in the same
transaction it is applied in, so it is computed against the state it changes.

Bounds: the document is bounded by the body limit (`MODELPLANE_MAX_BODY_BYTES`), the plan
by `CHANGES_MAX` changes (400 beyond), each in-process call by `run.CALL_TIMEOUT_SECONDS`.
The in-process calls do not count against the caller's rate limit (the apply counts
once). On SQLite the transaction holds the write lock from start to end: the process's
other writers wait for it (see `store/ambient.py`).
"""

from __future__ import annotations

import importlib
import threading
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from modelplane.faces.native.deps import context, presented_token
from modelplane.faces.native.responses import ErrorOut
from modelplane.faces.native.routing import router as native_router

CHANGES_MAX = 1000  # changes one apply may plan


def warm_up() -> None:
    """Import the runner (`run.py`) in a thread of its own, while the loop serves."""
    threading.Thread(
        target=importlib.import_module,
        args=("modelplane.stack_endpoint.run",),
        name="import-stack-runner",
        daemon=True,
    ).start()


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
    from modelplane.stack_endpoint import run  # the planner, the SDK and httpx: when used

    ctx = context(request)
    declared = run.parsed(body)
    token = presented_token(request.headers.get("authorization"), request.headers.get("x-api-key"))
    request_id = request.scope.get("state", {}).get("request_id")
    outcome = await run.run(
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
    return run.render(outcome, dry_run=body.dryRun)
