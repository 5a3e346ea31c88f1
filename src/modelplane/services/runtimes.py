"""Runtime bindings: which model group a runtime uses, and what that group offers it."""

from __future__ import annotations

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.catalog import LlmTemplate
from modelplane.domain.errors import NotFound, ViolationCollector
from modelplane.domain.principals import Action, Principal
from modelplane.domain.runtimes import (
    RUNTIME,
    Binding,
    BindingOutcome,
    RuntimeModelConfig,
    check_runtime_id,
    check_runtime_ids,
    check_runtime_type,
)
from modelplane.services.audit import record
from modelplane.services.catalog import RESOURCE, group_for
from modelplane.services.clock import now_ms
from modelplane.store.uow import Store


def _checked(runtime_type: str | None, runtime_ids: list[str]) -> tuple[str, list[str]]:
    errors = ViolationCollector()
    kind = check_runtime_type(runtime_type, errors)
    ids = check_runtime_ids(runtime_ids, errors)
    errors.raise_if_any()
    return kind, ids


async def bind_runtimes(
    *,
    store: Store,
    actor: Principal,
    group_id: str,
    runtime_ids: list[str],
    runtime_type: str | None = None,
) -> list[BindingOutcome]:
    """Bind runtimes to a group, one outcome per runtime, in one transaction.

    A runtime bound to a group the actor may not change stays where it is.
    """
    kind, ids = _checked(runtime_type, runtime_ids)
    outcomes = []
    async with store.writer() as uow:
        await group_for(uow, actor, group_id, Action.UPDATE, lock=True)
        now = now_ms()
        for runtime_id in ids:
            current = await uow.catalog.bound_group(kind, runtime_id)
            elsewhere = current if current != group_id else None
            if elsewhere is not None:
                group = await uow.catalog.get_group(elsewhere)
                if group is None or not actor.may(Action.UPDATE, RESOURCE, group.owner_id):
                    outcomes.append(
                        BindingOutcome(
                            runtime_id,
                            Binding.HELD,
                            f"runtime {runtime_id!r} is bound to a model group you may not change",
                        )
                    )
                    continue
            await uow.catalog.bind(kind, runtime_id, group_id, now_ms=now)
            await record(
                uow,
                actor,
                AuditAction.CREATE,
                ResourceType.RUNTIME_BINDING,
                f"{kind}/{runtime_id}",
                {"modelTemplateId": group_id},
            )
            result = Binding.BOUND if elsewhere is None else Binding.MOVED
            outcomes.append(BindingOutcome(runtime_id, result, "bound"))
        await uow.commit()
    return outcomes


async def unbind_runtimes(
    *,
    store: Store,
    actor: Principal,
    group_id: str,
    runtime_ids: list[str],
    runtime_type: str | None = None,
) -> list[BindingOutcome]:
    """Unbind runtimes from a group, one outcome per runtime, in one transaction."""
    kind, ids = _checked(runtime_type, runtime_ids)
    outcomes = []
    async with store.writer() as uow:
        await group_for(uow, actor, group_id, Action.UPDATE, lock=True)
        for runtime_id in ids:
            if await uow.catalog.unbind(kind, runtime_id, group_id):
                await record(
                    uow,
                    actor,
                    AuditAction.DELETE,
                    ResourceType.RUNTIME_BINDING,
                    f"{kind}/{runtime_id}",
                    {"modelTemplateId": group_id},
                )
                outcomes.append(BindingOutcome(runtime_id, Binding.UNBOUND, "unbound"))
            else:
                outcomes.append(
                    BindingOutcome(
                        runtime_id,
                        Binding.NOT_BOUND,
                        f"runtime {runtime_id!r} ({kind}) is not bound to {group_id}",
                    )
                )
        await uow.commit()
    return outcomes


async def runtime_model_config(
    *, store: Store, actor: Principal, runtime_id: str, runtime_type: str | None = None
) -> RuntimeModelConfig:
    """The group bound to a runtime, with its providers, their models and the default."""
    errors = ViolationCollector()
    kind = check_runtime_type(runtime_type, errors)
    runtime_id = check_runtime_id(runtime_id, errors)
    errors.raise_if_any()
    async with store.reader() as uow:
        group_id = await uow.catalog.bound_group(kind, runtime_id)
        if group_id is None:
            raise NotFound(RUNTIME, f"{kind}/{runtime_id}")
        try:
            # Shared: the pointer and the flags are read as one writer of the group left them.
            group = await group_for(uow, actor, group_id, Action.READ, share=True)
        except NotFound:
            raise NotFound(RUNTIME, f"{kind}/{runtime_id}") from None
        providers = await uow.catalog.providers_of(group_id)
        templates = await uow.catalog.templates_of_group(group_id)
    by_provider: dict[str, list[LlmTemplate]] = {p.provider_template_id: [] for p in providers}
    for template in templates:
        by_provider[template.provider_template_id].append(template)
    return RuntimeModelConfig(
        group=group, providers=[(p, by_provider[p.provider_template_id]) for p in providers]
    )
