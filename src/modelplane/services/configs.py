"""Dynamic parameters: create, update, delete, list, history, and watching a namespace."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.configs import (
    CONFIG,
    NAMESPACE,
    Change,
    ChangeKind,
    Config,
    Namespace,
    NamespaceChanges,
    NamespaceKey,
    NamespaceState,
    check_key,
    check_namespace,
    check_new_key,
    check_value,
)
from modelplane.domain.errors import AlreadyExists, InvalidArgument, NotFound
from modelplane.domain.ownership import check_named_owner, check_write_into
from modelplane.domain.principals import Action, Principal
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.services.ownership import hold_owner
from modelplane.store.uow import Store, UnitOfWork

RESOURCE = "CONFIG_NAMESPACE"
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 200
HISTORY_MAX = 1000
WATCH_SECONDS_MAX = 300.0
REVISION_MAX = 2**63 - 1  # revisions are 64-bit in the store and on the wire


@dataclass(frozen=True)
class ConfigPage:
    """One page of a namespace's parameters."""

    items: list[Config]
    page: int
    page_size: int
    total: int
    has_more: bool


def topic(key: NamespaceKey) -> str:
    """The change-feed topic of a namespace."""
    return f"configs/{key}"


def _visible(namespace: Namespace | None, actor: Principal) -> Namespace | None:
    """The namespace as the actor sees it: another owner's reads as one never written."""
    if namespace is not None and not actor.may(Action.READ, RESOURCE, namespace.owner_id):
        return None
    return namespace


async def _change(
    uow: UnitOfWork, actor: Principal, key: NamespaceKey, *, create: bool, owner_id: str | None
) -> tuple[Namespace, int]:
    """The namespace locked for a change by the actor, and the revision the change gets.

    With `create`, a namespace nobody wrote to yet is made, owned by the actor (or by
    `owner_id`, which only admins may name). A member's create into another owner's
    namespace is AlreadyExists (the name is taken); its update or delete there is
    NotFound, as in a namespace never written. An admin's write into another owner's
    namespace must name that owner.
    """
    check_named_owner(actor, RESOURCE, owner_id)
    now = now_ms()
    if create:
        claimant = owner_id or actor.principal_id
        await hold_owner(uow, actor, claimant)
        namespace = await uow.configs.claim(key, owner_id=claimant, now_ms=now)
        if not actor.may(Action.UPDATE, RESOURCE, namespace.owner_id):
            raise AlreadyExists(
                NAMESPACE, f"config namespace {key} is taken: another principal owns it"
            )
    else:
        found = await uow.configs.namespace(key, lock=True)
        if found is None or not actor.may(Action.UPDATE, RESOURCE, found.owner_id):
            raise NotFound(NAMESPACE, str(key))
        namespace = found
    check_write_into(
        "config namespace", str(key), namespace.owner_id, actor=actor, named_owner=owner_id
    )
    revision = namespace.revision + 1
    await uow.configs.bump(key, revision=revision, now_ms=now)
    uow.announce(topic(key))
    return namespace, revision


async def _audit(
    uow: UnitOfWork,
    actor: Principal,
    action: AuditAction,
    ns: NamespaceKey,
    key: str,
    revision: int,
) -> None:
    """Record a parameter's change: its key and revision, never its value."""
    await record(
        uow,
        actor,
        action,
        ResourceType.CONFIG,
        f"{ns}/{key}",
        {"clusterId": ns.cluster_id, "name": ns.name, "configKey": key, "revision": revision},
    )


async def create_config(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    key: str,
    value: object,
    owner_id: str | None = None,
) -> Config:
    """Create a parameter; an existing key is AlreadyExists. The first writer owns the
    namespace; `owner_id` names its owner (admins: another principal's)."""
    ns = check_namespace(cluster_id, config_type, name)
    check_new_key(key)
    text = check_value(value)
    async with store.writer() as uow:
        _, revision = await _change(uow, actor, ns, create=True, owner_id=owner_id)
        if await uow.configs.get(ns, key) is not None:
            raise AlreadyExists(CONFIG, f"{key!r} already exists in {ns}")
        now = now_ms()
        config = Config(key=key, value=text, created_at=now, updated_at=now, revision=revision)
        await uow.configs.put(ns, config, new=True)
        await uow.configs.record(
            ns, Change(revision, key, ChangeKind.CREATE, text, actor.principal_id, now)
        )
        await _audit(uow, actor, AuditAction.CREATE, ns, key, revision)
        await uow.commit()
    return config


async def update_config(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    key: str,
    value: object,
    owner_id: str | None = None,
) -> Config:
    """Change a parameter's value; a missing key is NotFound."""
    ns = check_namespace(cluster_id, config_type, name)
    check_key(key)
    text = check_value(value)
    async with store.writer() as uow:
        _, revision = await _change(uow, actor, ns, create=False, owner_id=owner_id)
        current = await uow.configs.get(ns, key)
        if current is None:
            raise NotFound(CONFIG, key)
        now = max(now_ms(), current.updated_at)
        config = Config(key, text, current.created_at, now, revision)
        await uow.configs.put(ns, config, new=False)
        await uow.configs.record(
            ns, Change(revision, key, ChangeKind.UPDATE, text, actor.principal_id, now)
        )
        await _audit(uow, actor, AuditAction.UPDATE, ns, key, revision)
        await uow.commit()
    return config


async def delete_config(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    key: str,
    owner_id: str | None = None,
) -> int:
    """Delete a parameter (its history stays); a missing key is NotFound."""
    ns = check_namespace(cluster_id, config_type, name)
    check_key(key)
    async with store.writer() as uow:
        _, revision = await _change(uow, actor, ns, create=False, owner_id=owner_id)
        if await uow.configs.delete(ns, key) == 0:
            raise NotFound(CONFIG, key)
        await uow.configs.record(
            ns, Change(revision, key, ChangeKind.DELETE, None, actor.principal_id, now_ms())
        )
        await _audit(uow, actor, AuditAction.DELETE, ns, key, revision)
        await uow.commit()
    return 1


async def put_config(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    key: str,
    value: object,
    owner_id: str | None = None,
) -> tuple[Config, bool]:
    """Create a parameter, or change its value when it exists, in one transaction; the
    parameter and whether it was created."""
    ns = check_namespace(cluster_id, config_type, name)
    check_key(key)
    text = check_value(value)
    async with store.writer() as uow:
        _, revision = await _change(uow, actor, ns, create=True, owner_id=owner_id)
        current = await uow.configs.get(ns, key)
        now = now_ms()
        if current is None:
            check_new_key(key)
            config = Config(key, text, now, now, revision)
            kind = ChangeKind.CREATE
        else:
            now = max(now, current.updated_at)
            config = Config(key, text, current.created_at, now, revision)
            kind = ChangeKind.UPDATE
        await uow.configs.put(ns, config, new=current is None)
        await uow.configs.record(ns, Change(revision, key, kind, text, actor.principal_id, now))
        action = AuditAction.CREATE if current is None else AuditAction.UPDATE
        await _audit(uow, actor, action, ns, key, revision)
        await uow.commit()
    return config, current is None


async def list_configs(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    page: int | None = None,
    page_size: int | None = None,
) -> ConfigPage:
    """A page of a namespace's parameters in key order."""
    ns = check_namespace(cluster_id, config_type, name)
    if page is not None and page < 1:
        raise InvalidArgument.of("page", "must be 1 or more")
    if page_size is not None and not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidArgument.of("pageSize", f"must be 1..{PAGE_SIZE_MAX}")
    number, size = page or 1, page_size or PAGE_SIZE_DEFAULT
    async with store.reader() as uow:
        if _visible(await uow.configs.namespace(ns), actor) is None:
            return ConfigPage([], number, size, 0, has_more=False)
        items, total = await uow.configs.page(ns, offset=(number - 1) * size, limit=size)
    return ConfigPage(items, number, size, total, has_more=number * size < total)


async def list_namespaces(*, store: Store, actor: Principal) -> list[Namespace]:
    """The namespaces the actor may read (admins: all), in key order."""
    owner = None if actor.sees_all(RESOURCE) else actor.principal_id
    async with store.reader() as uow:
        return await uow.configs.namespaces(owner_id=owner)


async def get_config(
    *, store: Store, actor: Principal, cluster_id: str, config_type: str, name: str, key: str
) -> Config:
    """One parameter."""
    ns = check_namespace(cluster_id, config_type, name)
    check_key(key)
    async with store.reader() as uow:
        visible = _visible(await uow.configs.namespace(ns), actor)
        found = await uow.configs.get(ns, key) if visible is not None else None
    if found is None:
        raise NotFound(CONFIG, key)
    return found


async def namespace_state(
    *, store: Store, actor: Principal, cluster_id: str, config_type: str, name: str
) -> NamespaceState:
    """Every parameter of a namespace and its revision (0 before the first write)."""
    ns = check_namespace(cluster_id, config_type, name)
    async with store.reader() as uow:
        namespace = _visible(await uow.configs.namespace(ns), actor)
        items = await uow.configs.all(ns) if namespace is not None else []
    return NamespaceState(ns, namespace.revision if namespace else 0, items)


async def namespace_changes(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    since_revision: int,
) -> NamespaceChanges:
    """What changed in a namespace after `since_revision` (from 0: every parameter); only
    its revision when nothing did."""
    ns = check_namespace(cluster_id, config_type, name)
    check_watch(since_revision, 0.0)
    return await _watched_changes(store, actor, ns, since_revision)


async def _watched_changes(
    store: Store, actor: Principal, ns: NamespaceKey, since: int
) -> NamespaceChanges:
    """The changes a watcher reads; watchers at the same revision woken by the same change
    share one read.

    The read is shared only among callers of one feed generation of the topic, so it
    always starts after the change that woke them was committed. Only what changed after
    `since` is read: what a watcher is sent grows with the change, not with the namespace.
    """

    async def load() -> tuple[Namespace | None, list[Config], list[str]]:
        async with store.reader() as uow:
            namespace = await uow.configs.namespace(ns)
            if namespace is None or namespace.revision <= since:
                return namespace, [], []
            changed = await uow.configs.set_since(ns, since)
            # At revision 0 nothing existed, so nothing that existed can be gone.
            deleted = await uow.configs.deleted_since(ns, since) if since > 0 else []
            return namespace, changed, deleted

    generation = store.feed.generation(topic(ns))
    found, changed, deleted = await store.shared(
        ("config-changes", str(ns), since, generation), load
    )
    namespace = _visible(found, actor)  # another owner's reads as one never written
    if namespace is None:
        return NamespaceChanges(ns, since, 0, [], [])
    return NamespaceChanges(ns, since, namespace.revision, changed, deleted)


async def history(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    key: str | None = None,
    limit: int = 100,
) -> list[Change]:
    """The newest changes of a namespace (or of one key), newest first."""
    ns = check_namespace(cluster_id, config_type, name)
    if key is not None:
        check_key(key)
    if not 1 <= limit <= HISTORY_MAX:
        raise InvalidArgument.of("limit", f"must be 1..{HISTORY_MAX}")
    async with store.reader() as uow:
        if _visible(await uow.configs.namespace(ns), actor) is None:
            return []
        return await uow.configs.history(ns, config_key=key, limit=limit)


def check_watch(since_revision: int, timeout_seconds: float) -> None:
    """Raise InvalidArgument unless a watch may start at `since_revision` and last
    `timeout_seconds`."""
    if not 0 <= since_revision <= REVISION_MAX:
        raise InvalidArgument.of("sinceRevision", f"must be 0..{REVISION_MAX}")
    if not 0 <= timeout_seconds <= WATCH_SECONDS_MAX:
        raise InvalidArgument.of("timeoutSeconds", f"must be 0..{WATCH_SECONDS_MAX:g}")


async def watch(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    since_revision: int,
    timeout_seconds: float,
) -> NamespaceChanges | None:
    """What changed in the namespace after `since_revision`, as soon as its revision passes
    it; None when `timeout_seconds` pass first. Woken by the change feed, not by polling."""
    ns = check_namespace(cluster_id, config_type, name)
    check_watch(since_revision, timeout_seconds)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_seconds
    while True:
        woken = store.feed.waiter(topic(ns))  # before reading, so no change slips between
        try:
            changes = await _watched_changes(store, actor, ns, since_revision)
            if changes.revision > since_revision:
                return changes
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(woken, left)
            except TimeoutError:
                return None
        finally:
            store.feed.discard(topic(ns), woken)
