"""Watching a prompt template: wait until the version a label (or `latest`) points at is
another than the one a client holds. Woken by the change feed (on every replica), not by
polling; watchers woken by one change share one read."""

from __future__ import annotations

from modelplane.domain.errors import InvalidArgument, NotFound
from modelplane.domain.principals import Principal
from modelplane.domain.prompts import PROMPT_TEMPLATE, VERSION_MAX, PromptTemplate
from modelplane.services.prompts import get_prompt_template, labelled_template, template_topic
from modelplane.services.waiting import first_change
from modelplane.store.uow import Store

WATCH_SECONDS_MAX = 300.0  # as a namespace's watch


def check_prompt_watch(held_version: int, timeout_seconds: float) -> None:
    """Raise InvalidArgument unless a watch may start from `held_version` and last
    `timeout_seconds`."""
    if not 0 <= held_version <= VERSION_MAX:
        raise InvalidArgument.of("version", f"must be 0..{VERSION_MAX} (0: none held)")
    if not 0 <= timeout_seconds <= WATCH_SECONDS_MAX:
        raise InvalidArgument.of("timeoutSeconds", f"must be 0..{WATCH_SECONDS_MAX:g}")


async def watch_prompt_template(
    *,
    store: Store,
    actor: Principal,
    workspace_id: str,
    template_id: str,
    held_version: int,
    label: str | None = None,
    timeout_seconds: float,
) -> PromptTemplate | None:
    """The template (by id or name) at `label`, or current, as soon as that is another
    version than `held_version`; None when `timeout_seconds` pass first."""
    check_prompt_watch(held_version, timeout_seconds)
    found = await get_prompt_template(
        store=store, actor=actor, workspace_id=workspace_id, template_id=template_id, label=label
    )
    if found.version != held_version:
        return found
    topic = template_topic(found.prompt_template_id)

    async def moved() -> PromptTemplate | None:
        key = ("prompt-watch", workspace_id, template_id, label, store.feed.generation(topic))
        current = await store.shared(key, load)
        if current is None:
            raise NotFound(PROMPT_TEMPLATE, template_id)
        return current if current.version != held_version else None

    async def load() -> PromptTemplate | None:
        async with store.reader() as uow:
            return await labelled_template(uow, workspace_id, template_id, None, label)

    return await first_change(store, [topic], moved, timeout_seconds)
