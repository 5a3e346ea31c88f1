"""Runtime bindings: which model group a runtime uses, and what that group offers it.

A runtime may get its group through the gateway: its binding keeps one API key for that
(created on the first ask), revoked in the same transaction as the binding moves or goes.
"""

from __future__ import annotations

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.catalog import LlmTemplate, ModelGroup, ProviderTemplate
from modelplane.domain.errors import NotFound, Unavailable, ViolationCollector
from modelplane.domain.key_scopes import UNSCOPED, KeyScope
from modelplane.domain.paging import Page, PageRequest
from modelplane.domain.principals import Action, Principal
from modelplane.domain.runtimes import (
    RUNTIME,
    Binding,
    BindingOutcome,
    BoundRuntime,
    RuntimeModelConfig,
    check_runtime_id,
    check_runtime_ids,
    check_runtime_type,
    gateway_access,
    gateway_base,
    gateway_scope,
    key_label,
    require_may_receive,
)
from modelplane.security.secretbox import SecretBox
from modelplane.services.audit import record
from modelplane.services.catalog import RESOURCE, group_for
from modelplane.services.clock import now_ms
from modelplane.services.principals import add_api_key
from modelplane.services.runtime_keys import revoke_runtime_keys, runtime_key_aad
from modelplane.services.sealed_values import open_sealed
from modelplane.store.uow import Store, UnitOfWork

# Asks for a runtime's gateway config that find its binding moved between two reads start
# again, at most this often (on PostgreSQL; SQLite's writers run one at a time).
GATEWAY_ASK_ATTEMPTS = 3
Providers = list[tuple[ProviderTemplate, list[LlmTemplate]]]


async def list_bindings(
    *, store: Store, actor: Principal, group_id: str, page: PageRequest
) -> Page[BoundRuntime]:
    """A page of the runtimes bound to a group the actor may read."""
    async with store.reader() as uow:
        await group_for(uow, actor, group_id, Action.READ)
        items, total = await uow.catalog.bindings_of(group_id, page)
    return Page(items=items, number=page.number, size=page.size, total=total)


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
            if elsewhere is not None:
                held = await uow.catalog.runtime_keys(runtime=(kind, runtime_id))
                await revoke_runtime_keys(uow, actor, held, reason=f"moved to {group_id}")
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
                held = await uow.catalog.runtime_keys(runtime=(kind, runtime_id))
                await revoke_runtime_keys(uow, actor, held, reason="unbound")
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


def _checked_runtime(runtime_type: str | None, runtime_id: str) -> tuple[str, str]:
    errors = ViolationCollector()
    kind = check_runtime_type(runtime_type, errors)
    runtime_id = check_runtime_id(runtime_id, errors)
    errors.raise_if_any()
    return kind, runtime_id


async def _bound_group(
    uow: UnitOfWork, actor: Principal, kind: str, runtime_id: str, *, share: bool = True
) -> ModelGroup:
    """The group a runtime is bound to, as the actor may read it; else the runtime is
    NotFound. With `share` the group is held shared: its default is read as one writer
    left it."""
    group_id = await uow.catalog.bound_group(kind, runtime_id)
    if group_id is None:
        raise NotFound(RUNTIME, f"{kind}/{runtime_id}")
    try:
        return await group_for(uow, actor, group_id, Action.READ, share=share)
    except NotFound:
        raise NotFound(RUNTIME, f"{kind}/{runtime_id}") from None


async def _held_group(
    uow: UnitOfWork, actor: Principal, kind: str, runtime_id: str
) -> ModelGroup | None:
    """The runtime's group with its owner, the group and the binding held until the unit
    of work ends (in that order, as a deletion of the owner takes them); None when the
    binding moved or the owner changed between the reads."""
    seen = await _bound_group(uow, actor, kind, runtime_id, share=False)
    if not await uow.principals.hold(seen.owner_id):
        return None
    group = await _bound_group(uow, actor, kind, runtime_id)
    bound = await uow.catalog.bound_group(kind, runtime_id, lock=True)
    if group.owner_id != seen.owner_id or bound != group.model_template_id:
        return None
    return group


async def _offers(uow: UnitOfWork, group_id: str) -> Providers:
    providers = await uow.catalog.providers_of(group_id)
    templates = await uow.catalog.templates_of_group(group_id)
    by_provider: dict[str, list[LlmTemplate]] = {p.provider_template_id: [] for p in providers}
    for template in templates:
        by_provider[template.provider_template_id].append(template)
    return [(p, by_provider[p.provider_template_id]) for p in providers]


async def runtime_model_config(
    *, store: Store, actor: Principal, runtime_id: str, runtime_type: str | None = None
) -> RuntimeModelConfig:
    """The group bound to a runtime, with its providers, their models and the default."""
    kind, runtime_id = _checked_runtime(runtime_type, runtime_id)
    async with store.reader() as uow:
        group = await _bound_group(uow, actor, kind, runtime_id)
        providers = await _offers(uow, group.model_template_id)
    return RuntimeModelConfig(group=group, providers=providers)


async def runtime_gateway_config(
    *,
    store: Store,
    secrets: SecretBox,
    actor: Principal,
    runtime_id: str,
    public_url: str | None,
    runtime_type: str | None = None,
    actor_scope: KeyScope = UNSCOPED,
) -> RuntimeModelConfig:
    """A runtime's model config with the gateway's URL and its binding's key (made once)."""
    kind, runtime_id = _checked_runtime(runtime_type, runtime_id)
    base = gateway_base(public_url)
    for _ in range(GATEWAY_ASK_ATTEMPTS):
        async with store.writer() as uow:
            group = await _held_group(uow, actor, kind, runtime_id)
            if group is None:
                continue  # it changed between two reads: start again on what it is now
            require_may_receive(actor, actor_scope, group.model_template_id)
            providers = await _offers(uow, group.model_template_id)
            key, issued = await _binding_key(uow, secrets, actor, group, kind, runtime_id)
            if issued:
                await uow.commit()
        return RuntimeModelConfig(
            group=group,
            providers=providers,
            gateway=gateway_access(base, group, providers, key),
        )
    raise Unavailable(f"the binding of runtime {kind}/{runtime_id} kept changing; ask again")


async def _binding_key(
    uow: UnitOfWork,
    secrets: SecretBox,
    actor: Principal,
    group: ModelGroup,
    kind: str,
    runtime_id: str,
) -> tuple[tuple[str, str], bool]:
    """The id and token of the binding's gateway key, and whether it was made just now
    (revoking one that no longer fits: revoked, expired, another owner). The key is the
    group owner's, who may call the group's models: it widens nobody's rights."""
    for key in await uow.catalog.runtime_keys(runtime=(kind, runtime_id)):
        why = key.stale(group, now_ms())
        if why is None:
            what = f"the gateway key of runtime {key.runtime}"
            aad = runtime_key_aad(key.api_key_id)
            token = open_sealed(secrets, key.token_sealed, aad=aad, what=what).decode()
            return (key.api_key_id, token), False
        await revoke_runtime_keys(uow, actor, [key], reason=why)
    issued = await add_api_key(
        uow,
        actor=actor,
        principal_id=group.owner_id,
        label=key_label(kind, runtime_id),
        scope=gateway_scope(group.model_template_id),
        details={"runtime": f"{kind}/{runtime_id}", "modelTemplateId": group.model_template_id},
    )
    api_key_id = issued.api_key.api_key_id
    await uow.catalog.keep_runtime_key(
        api_key_id=api_key_id,
        runtime=(kind, runtime_id),
        group_id=group.model_template_id,
        token_sealed=secrets.seal(issued.token.encode(), aad=runtime_key_aad(api_key_id)),
        now_ms=now_ms(),
    )
    return (api_key_id, issued.token), True
