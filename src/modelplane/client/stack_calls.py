"""`POST /v1/stack:apply`: a whole stack planned and applied by the server in one transaction.

The answer of a stack that applies (or would, with `dryRun`) is a `StackOutcome`. One
that does not is an error answer (409, 412, 400, … as the first conflict says) whose
`details` name every change that would fail (`field`: the change, `rule`: `CODE: why`),
nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelplane.client.calls import Call, given
from modelplane.client.models import ApiModel

# A stack's apply runs many changes; the server may take this long on top of the timeout.
APPLY_WAIT_SECONDS = 300.0


class StackOutcome(ApiModel):
    """What an apply did (or a dry-run would do): counts by action, and each change as
    `{action, kind, name, fields: [{name, old, new}]}`, with `token` on an API key issued
    (shown this once; never in a dry-run). `missing_secrets` names each `env://` secret a
    dry-run planned without (with a placeholder)."""

    dry_run: bool
    create: int
    update: int
    delete: int
    replace: int
    changes: tuple[dict[str, Any], ...]
    missing_secrets: tuple[str, ...] = ()


def apply_stack(
    document: Mapping[str, Any],
    *,
    secrets: Mapping[str, str] | None,
    dry_run: bool,
    prune: bool,
    replace_keys: bool,
) -> Call[StackOutcome]:
    """`POST /v1/stack:apply`."""
    body = given(
        document=dict(document),
        secrets=dict(secrets) if secrets else None,
        dryRun=dry_run or None,
        prune=prune or None,
        replaceKeys=replace_keys or None,
    )
    return Call(
        "POST",
        "/v1/stack:apply",
        StackOutcome.model_validate,
        json=body,
        wait_seconds=APPLY_WAIT_SECONDS,
    )
