"""Stacks applied by the server (`/v1/stack:apply`): all of a stack, or nothing of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelplane.client import stack_calls
from modelplane.client.async_resources import AsyncSend
from modelplane.client.stack_calls import StackOutcome


class AsyncStacks:
    """Stack documents (`modelplane.stack.spec`'s schema) planned and applied server-side."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def apply(
        self,
        document: Mapping[str, Any],
        *,
        secrets: Mapping[str, str] | None = None,
        dry_run: bool = False,
        prune: bool = False,
        replace_keys: bool = False,
    ) -> StackOutcome:
        """Plan and apply `document` in one transaction; `secrets` are the values of the
        `env://NAME` references it makes, by NAME. A failure anywhere applies nothing and
        is raised with every failing change in its `details`; `dry_run` rolls back."""
        return await self._send(
            stack_calls.apply_stack(
                document,
                secrets=secrets,
                dry_run=dry_run,
                prune=prune,
                replace_keys=replace_keys,
            )
        )
