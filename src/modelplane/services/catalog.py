"""Model catalog use cases: groups, provider templates, batches of LLM templates."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from typing import Any

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.catalog import (
    GROUP,
    GROUP_ID_TAKEN,
    LLM_TEMPLATE,
    POINTER,
    PROVIDER,
    BatchItem,
    GroupFilter,
    GroupSummary,
    LlmTemplate,
    ModelGroup,
    ProviderFilter,
    ProviderTemplate,
    Skipped,
    TemplateFilter,
    changed_provider,
    changed_template,
    check_group,
    default_pointer,
    new_group,
    new_provider,
    plan_batch,
    provider_config,
    provider_patch,
    require_in_group,
)
from modelplane.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ViolationCollector,
)
from modelplane.domain.ownership import check_owner_id
from modelplane.domain.paging import Page, PageRequest
from modelplane.domain.principals import Action, Principal
from modelplane.security.secretbox import SecretBox
from modelplane.services.audit import named, record
from modelplane.services.clock import now_ms
from modelplane.services.ownership import hold_owner
from modelplane.services.runtime_keys import revoke_runtime_keys
from modelplane.services.sealed_values import open_sealed
from modelplane.store.uow import Store, UnitOfWork

RESOURCE = "MODEL_GROUP"


PROVIDERS_SHOWN = 100  # a group outline's providers: bounded work per request


@dataclass(frozen=True)
class GroupOutline:
    """A group seen whole: its summary, its providers (the first `PROVIDERS_SHOWN`, and
    how many it has) and one page of its LLM templates, oldest first."""

    summary: GroupSummary
    providers: list[ProviderTemplate]
    provider_total: int
    templates: Page[LlmTemplate]


@dataclass(frozen=True)
class BatchResult:
    """The answer of a batch: created ids, skipped items, and the total asked for."""

    llm_template_ids: list[str]
    skipped: list[Skipped]
    total: int


def provider_key_aad(provider_template_id: str) -> str:
    """The associated data binding a sealed provider API key to its row."""
    return f"provider_templates/{provider_template_id}/api_key"


async def group_for(
    uow: UnitOfWork,
    actor: Principal,
    group_id: str,
    action: Action,
    *,
    lock: bool = False,
    share: bool = False,
) -> ModelGroup:
    """A group the actor may `action`; unseen groups are NotFound, read-only ones denied.

    Whoever reads or changes the default model (the pointer or a flag) holds the group's
    row first: `lock` to change it, `share` to read it whole.
    """
    group = await uow.catalog.get_group(group_id, lock=lock, share=share)
    if group is None or not actor.may(Action.READ, RESOURCE, group.owner_id):
        raise NotFound(GROUP, group_id)
    if not actor.may(action, RESOURCE, group.owner_id):
        raise PermissionDenied(f"{action.value}_{RESOURCE}_OWN or _ANY is required")
    return group


async def create_group(
    *,
    store: Store,
    actor: Principal,
    name: str,
    description: str | None = None,
    agent_platform: str | None = None,
    agent_provider: str | None = None,
    biz_type: int | None = None,
    ref_scope: str | None = None,
    model_template_id: str | None = None,
    owner_id: str | None = None,
) -> ModelGroup:
    """Create a model group owned by the actor (or by `owner_id`: admins); the client may
    choose its id, and a taken one is AlreadyExists."""
    if owner_id is not None:
        check_owner_id(owner_id)
    owner = owner_id or actor.principal_id
    if not actor.may(Action.CREATE, RESOURCE, owner):
        raise PermissionDenied("setting another ownerId requires CREATE_MODEL_GROUP_ANY")
    group = new_group(
        owner_id=owner,
        name=name,
        description=description,
        agent_platform=agent_platform,
        agent_provider=agent_provider,
        biz_type=biz_type,
        ref_scope=ref_scope,
        model_template_id=model_template_id,
        now_ms=now_ms(),
    )
    async with store.writer() as uow:
        await hold_owner(uow, actor, group.owner_id)
        if model_template_id is not None and await uow.catalog.get_group(model_template_id):
            raise AlreadyExists(GROUP, GROUP_ID_TAKEN.format(id=model_template_id))
        await uow.catalog.add_group(group)
        await record(
            uow, actor, AuditAction.CREATE, ResourceType.MODEL_GROUP, group.model_template_id
        )
        await uow.commit()
    return group


async def _provider_for(
    uow: UnitOfWork, actor: Principal, provider_id: str, action: Action, *, lock: bool = False
) -> tuple[ProviderTemplate, ModelGroup]:
    """A provider template and its group; a provider in an unseen group is NotFound.

    With `lock` the provider is read again once its group is held: it may have gone.
    """
    provider = await uow.catalog.get_provider(provider_id)
    if provider is None:
        raise NotFound(PROVIDER, provider_id)
    try:
        group = await group_for(uow, actor, provider.model_template_id, action, lock=lock)
    except NotFound:
        raise NotFound(PROVIDER, provider_id) from None
    if lock:
        provider = await uow.catalog.get_provider(provider_id)
        if provider is None:
            raise NotFound(PROVIDER, provider_id)
    return provider, group


async def _template_for(
    uow: UnitOfWork, actor: Principal, template_id: str, action: Action, *, lock: bool = False
) -> tuple[LlmTemplate, ModelGroup]:
    """An LLM template and its group; a template in an unseen group is NotFound.

    With `lock` the template is read again once its group is held, so that its default
    flag is the one every writer of the group sees.
    """
    template = await uow.catalog.get_template(template_id)
    if template is None:
        raise NotFound(LLM_TEMPLATE, template_id)
    try:
        group = await group_for(uow, actor, template.model_template_id, action, lock=lock)
    except NotFound:
        raise NotFound(LLM_TEMPLATE, template_id) from None
    if lock:
        template = await uow.catalog.get_template(template_id)
        if template is None:
            raise NotFound(LLM_TEMPLATE, template_id)
    return template, group


def _visible_to(actor: Principal) -> str | None:
    """The owner a list is limited to: None for those who see every group."""
    return None if actor.sees_all(RESOURCE) else actor.principal_id


async def get_group(*, store: Store, actor: Principal, group_id: str) -> GroupSummary:
    """One group the actor may read, with its model count as a list of groups counts it."""
    async with store.reader() as uow:
        await group_for(uow, actor, group_id, Action.READ)
        found, _ = await uow.catalog.list_groups(
            GroupFilter(ids=(group_id,)), PageRequest(1, 1), visible_to=None
        )
    return found[0]


async def group_outline(
    *, store: Store, actor: Principal, group_id: str, page: PageRequest
) -> GroupOutline:
    """A group the actor may read, its providers and a page of its models, in one read."""
    async with store.reader() as uow:
        await group_for(uow, actor, group_id, Action.READ)
        found, _ = await uow.catalog.list_groups(
            GroupFilter(ids=(group_id,)), PageRequest(1, 1), visible_to=None
        )
        providers, provider_total = await uow.catalog.list_providers(
            ProviderFilter(model_template_id=group_id),
            PageRequest(1, PROVIDERS_SHOWN),
            visible_to=None,
        )
        templates, total = await uow.catalog.list_templates(
            TemplateFilter(model_template_id=group_id), page, visible_to=None
        )
    return GroupOutline(
        summary=found[0],
        providers=providers,
        provider_total=provider_total,
        templates=Page(templates, page.number, page.size, total),
    )


async def create_provider(
    *,
    store: Store,
    secrets: SecretBox,
    actor: Principal,
    group_id: str,
    name: str,
    provider_name: str,
    provider_type: str,
    config: dict[str, Any] | None,
    description: str | None = None,
    enable_wuying_proxy: bool = False,
) -> ProviderTemplate:
    """Add a provider template to a group; its API key is sealed at rest.

    `config` holds `baseUrl`, `api` and `apiKey`, each optional.
    """
    errors = ViolationCollector()
    endpoint = provider_config(config or {}, errors)
    errors.raise_if_any()
    async with store.writer() as uow:
        group = await group_for(uow, actor, group_id, Action.UPDATE)
        if not await uow.principals.hold(group.owner_id):
            raise FailedPrecondition(f"the owner of model group {group_id} was just deleted")
        provider = new_provider(
            group=group,
            owner_id=group.owner_id,
            name=name,
            provider_name=provider_name,
            provider_type=provider_type,
            config=endpoint,
            description=description,
            enable_wuying_proxy=enable_wuying_proxy,
            now_ms=now_ms(),
        )
        sealed = None
        if endpoint.api_key:
            sealed = secrets.seal(
                endpoint.api_key.encode(), aad=provider_key_aad(provider.provider_template_id)
            )
        await uow.catalog.add_provider(provider, api_key_sealed=sealed)
        await record(
            uow,
            actor,
            AuditAction.CREATE,
            ResourceType.PROVIDER_TEMPLATE,
            provider.provider_template_id,
            {"modelTemplateId": group.model_template_id},
        )
        await uow.commit()
    return provider


async def batch_create_llm_templates(
    *,
    store: Store,
    actor: Principal,
    provider_template_id: str,
    items: list[BatchItem],
    model_template_id: str | None = None,
) -> BatchResult:
    """Create the new codes of a batch in one transaction; skip existing ones and repeats.

    A default among the created items becomes the group's only default, and the group's
    `Config` pointer follows it, in the same transaction.
    """
    async with store.writer() as uow:
        # Access first: a provider in a group the actor may not see does not exist for it.
        provider, group = await _provider_for(
            uow, actor, provider_template_id, Action.UPDATE, lock=True
        )
        if model_template_id is not None and model_template_id != provider.model_template_id:
            raise InvalidArgument.of(
                "modelTemplateId",
                f"provider {provider_template_id} belongs to {provider.model_template_id}",
            )
        now = now_ms()
        plan = plan_batch(
            items,
            provider=provider,
            existing_codes=await uow.catalog.codes_of(
                provider_template_id, {item.llm_code for item in items if item.llm_code}
            ),
            now_ms=now,
        )
        if plan.default is not None:
            await uow.catalog.clear_default(group.model_template_id)
        await uow.catalog.add_templates(plan.create)
        if plan.default is not None:
            pointer = default_pointer(provider.provider_name, plan.default.llm_code)
            await uow.catalog.save_group(group.with_default(pointer, now_ms=now))
        for template in plan.create:
            details = {"providerTemplateId": provider_template_id, "batch": True}
            if template.is_default_model:
                details["defaultModel"] = True
            await record(
                uow,
                actor,
                AuditAction.CREATE,
                ResourceType.LLM_TEMPLATE,
                template.llm_template_id,
                details,
            )
        await uow.commit()
    return BatchResult(
        llm_template_ids=[t.llm_template_id for t in plan.create],
        skipped=plan.skipped,
        total=plan.total,
    )


async def update_group(
    *,
    store: Store,
    actor: Principal,
    group_id: str,
    name: str | None = None,
    description: str | None = None,
    ref_scope: str | None = None,
    config: dict[str, Any] | None = None,
    default_model: str | None = None,
) -> ModelGroup:
    """Change what is given. A new `config` may move the default model pointer, after
    checking that its provider and code are in the group; the flags follow at once.

    `default_model` (`providerName/llmCode`, or "" for none) sets just the pointer, on top
    of the new `config` if one is given.
    """
    async with store.writer() as uow:
        group = await group_for(uow, actor, group_id, Action.UPDATE, lock=True)
        now = now_ms()
        changed = replace(
            group,
            name=name if name is not None else group.name,
            description=description if description is not None else group.description,
            ref_scope=ref_scope if ref_scope is not None else group.ref_scope,
            config=config if config is not None else group.config,
            updated_at=max(now, group.updated_at),
        )
        check_group(changed)
        if default_model is not None:
            changed = changed.with_default(default_model or None, now_ms=now)
        pointer = changed.default_model
        if pointer != group.default_model:
            await uow.catalog.clear_default(group_id)
            if pointer is not None:
                providers = {p.provider_name: p for p in await uow.catalog.providers_of(group_id)}
                provider = providers.get(pointer.partition("/")[0])
                codes = (
                    await uow.catalog.codes_of(provider.provider_template_id) if provider else set()
                )
                _, llm_code = require_in_group(
                    pointer,
                    group=group,
                    providers=providers,
                    codes=codes,
                    field=POINTER if default_model is None else "defaultModel",
                )
                assert provider is not None  # require_in_group refused any other case
                await uow.catalog.set_default(provider.provider_template_id, llm_code)
        await uow.catalog.save_group(changed)
        given = named(
            name=name,
            description=description,
            ref_scope=ref_scope,
            config=config,
            default_model=default_model,
        )
        await record(
            uow, actor, AuditAction.UPDATE, ResourceType.MODEL_GROUP, group_id, {"fields": given}
        )
        await uow.commit()
    return changed


async def update_llm_template(
    *,
    store: Store,
    actor: Principal,
    llm_template_id: str,
    llm_code: str | None = None,
    name: str | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
) -> LlmTemplate:
    """Change an LLM template's name, description or config in place (its id, code and
    default flag stay); `config` replaces the whole object, `llm_code` may not change."""
    async with store.writer() as uow:
        template, _ = await _template_for(uow, actor, llm_template_id, Action.UPDATE, lock=True)
        changed = changed_template(
            template, llm_code=llm_code, name=name, description=description, config=config
        )
        await uow.catalog.save_template(changed)
        given = named(llm_code=llm_code, name=name, description=description, config=config)
        await record(
            uow,
            actor,
            AuditAction.UPDATE,
            ResourceType.LLM_TEMPLATE,
            llm_template_id,
            {"providerTemplateId": template.provider_template_id, "fields": given},
        )
        await uow.commit()
    return changed


async def delete_llm_template(*, store: Store, actor: Principal, llm_template_id: str) -> None:
    """Delete an LLM template; deleting the default also clears the group's pointer."""
    async with store.writer() as uow:
        template, group = await _template_for(uow, actor, llm_template_id, Action.UPDATE, lock=True)
        await uow.catalog.delete_template(llm_template_id)
        if template.is_default_model:
            await uow.catalog.save_group(group.with_default(None, now_ms=now_ms()))
        await record(uow, actor, AuditAction.DELETE, ResourceType.LLM_TEMPLATE, llm_template_id)
        await uow.commit()


async def templates_of_group(*, store: Store, actor: Principal, group_id: str) -> list[LlmTemplate]:
    """Every LLM template of a group the actor may read."""
    async with store.reader() as uow:
        await group_for(uow, actor, group_id, Action.READ)
        return await uow.catalog.templates_of_group(group_id)


async def list_groups(
    *, store: Store, actor: Principal, flt: GroupFilter, page: PageRequest
) -> Page[GroupSummary]:
    """A page of the groups the actor may read, with their model counts."""
    async with store.reader() as uow:
        items, total = await uow.catalog.list_groups(flt, page, visible_to=_visible_to(actor))
    return Page(items, page.number, page.size, total)


async def delete_group(*, store: Store, actor: Principal, group_id: str) -> None:
    """Delete a group with its providers, LLM templates, runtime bindings and their keys."""
    async with store.writer() as uow:
        await group_for(uow, actor, group_id, Action.DELETE, lock=True)
        held = await uow.catalog.runtime_keys(group_id=group_id)
        await revoke_runtime_keys(uow, actor, held, reason="model group deleted")
        await uow.catalog.delete_group(group_id)
        await record(uow, actor, AuditAction.DELETE, ResourceType.MODEL_GROUP, group_id)
        await uow.commit()


async def get_provider(
    *, store: Store, actor: Principal, provider_template_id: str
) -> ProviderTemplate:
    """One provider template the actor may read (its API key only as a masked hint)."""
    async with store.reader() as uow:
        provider, _ = await _provider_for(uow, actor, provider_template_id, Action.READ)
    return provider


async def list_providers(
    *, store: Store, actor: Principal, flt: ProviderFilter, page: PageRequest
) -> Page[ProviderTemplate]:
    """A page of the provider templates the actor may read."""
    async with store.reader() as uow:
        items, total = await uow.catalog.list_providers(flt, page, visible_to=_visible_to(actor))
    return Page(items, page.number, page.size, total)


async def update_provider(
    *,
    store: Store,
    secrets: SecretBox,
    actor: Principal,
    provider_template_id: str,
    name: str | None = None,
    description: str | None = None,
    enable_wuying_proxy: bool | None = None,
    config: dict[str, Any] | None = None,
) -> ProviderTemplate:
    """Change only what is given, `config` fields too (`null` or "" clears one); a new
    API key is sealed, an empty one removes it."""
    errors = ViolationCollector()
    patch = provider_patch(config or {}, errors)
    errors.raise_if_any()
    async with store.writer() as uow:
        provider, _ = await _provider_for(uow, actor, provider_template_id, Action.UPDATE)
        changed = changed_provider(
            provider,
            name=name,
            description=description,
            enable_wuying_proxy=enable_wuying_proxy,
            patch=patch,
            now_ms=now_ms(),
        )
        if "apiKey" in patch:
            key = patch["apiKey"]
            aad = provider_key_aad(provider_template_id)
            sealed = secrets.seal(key.encode(), aad=aad) if key else None
            await uow.catalog.save_provider(changed, api_key_sealed=sealed)
        else:
            await uow.catalog.save_provider(changed)
        given = named(name=name, description=description, enable_wuying_proxy=enable_wuying_proxy)
        given += [f"config.{key}" for key in sorted(patch)]
        await record(
            uow,
            actor,
            AuditAction.UPDATE,
            ResourceType.PROVIDER_TEMPLATE,
            provider_template_id,
            {"fields": given},
        )
        await uow.commit()
    return changed


async def verify_provider_api_key(
    *, store: Store, secrets: SecretBox, actor: Principal, provider_template_id: str, api_key: str
) -> bool:
    """Whether `api_key` equals the provider's stored key ("" matches none); needs UPDATE."""
    async with store.reader() as uow:
        await _provider_for(uow, actor, provider_template_id, Action.UPDATE)
        sealed = await uow.catalog.sealed_api_key(provider_template_id)
    what = f"provider template {provider_template_id!r}"
    aad = provider_key_aad(provider_template_id)
    stored = open_sealed(secrets, sealed, aad=aad, what=what) if sealed else b""
    # A lone surrogate (valid JSON, not UTF-8) cannot be a stored key: compare, don't raise.
    return hmac.compare_digest(stored, api_key.encode("utf-8", "surrogatepass"))


async def delete_provider(*, store: Store, actor: Principal, provider_template_id: str) -> None:
    """Delete a provider template and its models; the group's pointer to one goes too."""
    async with store.writer() as uow:
        provider, group = await _provider_for(
            uow, actor, provider_template_id, Action.UPDATE, lock=True
        )
        await uow.catalog.delete_provider(provider_template_id)
        pointer = group.default_model
        if pointer is not None and pointer.partition("/")[0] == provider.provider_name:
            await uow.catalog.save_group(group.with_default(None, now_ms=now_ms()))
        await record(
            uow, actor, AuditAction.DELETE, ResourceType.PROVIDER_TEMPLATE, provider_template_id
        )
        await uow.commit()


async def get_llm_template(*, store: Store, actor: Principal, llm_template_id: str) -> LlmTemplate:
    """One LLM template the actor may read."""
    async with store.reader() as uow:
        template, _ = await _template_for(uow, actor, llm_template_id, Action.READ)
    return template


async def list_llm_templates(
    *, store: Store, actor: Principal, flt: TemplateFilter, page: PageRequest
) -> Page[LlmTemplate]:
    """A page of the LLM templates the actor may read, oldest first."""
    async with store.reader() as uow:
        items, total = await uow.catalog.list_templates(flt, page, visible_to=_visible_to(actor))
    return Page(items, page.number, page.size, total)
