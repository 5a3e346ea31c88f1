"""Dynamic parameters: create, update, delete, batches, revert, list, history, and watching
a namespace."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.config_formats import (
    ConfigFormat,
    check_format,
    check_formatted,
    raise_unless_formatted,
)
from modelplane.domain.configs import (
    CANDIDATE,
    CONFIG,
    NAMESPACE,
    REVISION_MAX,
    Candidate,
    CandidateItem,
    Change,
    ChangeKind,
    CheckedWrite,
    Config,
    ConfigWrite,
    GrayChanges,
    GrayView,
    Listener,
    ListenMode,
    Namespace,
    NamespaceChanges,
    NamespaceKey,
    NamespaceState,
    WriteOp,
    apply_candidate,
    check_batch,
    check_client_label,
    check_key,
    check_labels,
    check_namespace,
    check_new_key,
    check_revision,
    check_since_candidate,
    key_rule,
    value_into,
)
from modelplane.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    ViolationCollector,
)
from modelplane.domain.ownership import check_named_owner, check_write_into
from modelplane.domain.paging import Page, PageRequest
from modelplane.domain.principals import Action, Principal
from modelplane.services.audit import record, record_many
from modelplane.services.clock import now_ms
from modelplane.services.ownership import hold_owner
from modelplane.services.waiting import first_change
from modelplane.store.config_listeners import ListenerHandle as ListenerHandle
from modelplane.store.uow import Store, UnitOfWork

RESOURCE = "CONFIG_NAMESPACE"
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 200
HISTORY_MAX = 1000
WATCH_SECONDS_MAX = 300.0
REVISION = "ConfigRevision"
# Values to check in their formats larger than this (together) are checked on a worker
# thread: YAML reads at about a megabyte a second, and the event loop keeps answering.
FORMAT_INLINE_BYTES = 16 * 1024


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


def candidate_topic(key: NamespaceKey) -> str:
    """The change-feed topic of a namespace's candidate: only watchers with a client label
    wait on it (with the namespace's own)."""
    return f"config-candidates/{key}"


def _visible(namespace: Namespace | None, actor: Principal) -> Namespace | None:
    """The namespace as the actor sees it: another owner's reads as one never written."""
    if namespace is not None and not actor.may(Action.READ, RESOURCE, namespace.owner_id):
        return None
    return namespace


async def _locked(
    uow: UnitOfWork,
    actor: Principal,
    key: NamespaceKey,
    *,
    create: bool,
    owner_id: str | None,
    now: int,
) -> Namespace:
    """The namespace locked for a change by the actor.

    With `create`, a namespace nobody wrote to yet is made, owned by the actor (or by
    `owner_id`, which only admins may name). A member's create into another owner's
    namespace is AlreadyExists (the name is taken); its update or delete there is
    NotFound, as in a namespace never written. An admin's write into another owner's
    namespace must name that owner.
    """
    check_named_owner(actor, RESOURCE, owner_id)
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
    return namespace


async def _bump(uow: UnitOfWork, key: NamespaceKey, namespace: Namespace, now: int) -> int:
    """The next revision of the (locked) namespace, set; its watchers wake at the commit."""
    revision = namespace.revision + 1
    await uow.configs.bump(key, revision=revision, now_ms=now)
    uow.announce(topic(key))
    return revision


async def _change(
    uow: UnitOfWork, actor: Principal, key: NamespaceKey, *, create: bool, owner_id: str | None
) -> tuple[Namespace, int]:
    """The namespace locked for a change by the actor (`_locked`), and the revision the
    change gets."""
    now = now_ms()
    namespace = await _locked(uow, actor, key, create=create, owner_id=owner_id, now=now)
    return namespace, await _bump(uow, key, namespace, now)


def _value_and_format(value: object, fmt: object) -> tuple[str, ConfigFormat | None]:
    """A single write's value and declared format (None: keep the parameter's), the value
    checked in the format it declares; else InvalidArgument naming `value` or `format`."""
    errors = ViolationCollector()
    text = value_into(value, "value", errors)
    declared = check_format(fmt, "format", errors)
    errors.raise_if_any()
    assert text is not None
    if declared is not None:
        raise_unless_formatted(text, declared)
    return text, declared


def _kept_format(text: str, declared: ConfigFormat | None, current: Config | None) -> ConfigFormat:
    """The format a write stores: the one it declares (its value was checked in it), else
    the parameter's own, which the value must parse in (`text` for a new parameter)."""
    if declared is not None:
        return declared
    kept = current.format if current is not None else ConfigFormat.TEXT
    raise_unless_formatted(text, kept)
    return kept


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
    format: object = None,
) -> Config:
    """Create a parameter (in `format`, `text` when absent); an existing key is
    AlreadyExists. The first writer owns the namespace; `owner_id` names its owner (admins:
    another principal's)."""
    ns = check_namespace(cluster_id, config_type, name)
    check_new_key(key)
    text, declared = _value_and_format(value, format)
    fmt = declared or ConfigFormat.TEXT
    async with store.writer() as uow:
        _, revision = await _change(uow, actor, ns, create=True, owner_id=owner_id)
        if await uow.configs.get(ns, key) is not None:
            raise AlreadyExists(CONFIG, f"{key!r} already exists in {ns}")
        now = now_ms()
        config = Config(key, text, now, now, revision, fmt)
        await uow.configs.put(ns, config, new=True)
        await uow.configs.record(
            ns, Change(revision, key, ChangeKind.CREATE, text, actor.principal_id, now, fmt)
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
    format: object = None,
) -> Config:
    """Change a parameter's value (and its format, when given; else the value must parse
    in the parameter's own); a missing key is NotFound."""
    ns = check_namespace(cluster_id, config_type, name)
    check_key(key)
    text, declared = _value_and_format(value, format)
    async with store.writer() as uow:
        _, revision = await _change(uow, actor, ns, create=False, owner_id=owner_id)
        current = await uow.configs.get(ns, key)
        if current is None:
            raise NotFound(CONFIG, key)
        fmt = _kept_format(text, declared, current)
        now = max(now_ms(), current.updated_at)
        config = Config(key, text, current.created_at, now, revision, fmt)
        await uow.configs.put(ns, config, new=False)
        await uow.configs.record(
            ns, Change(revision, key, ChangeKind.UPDATE, text, actor.principal_id, now, fmt)
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
    format: object = None,
) -> tuple[Config, bool]:
    """Create a parameter, or change its value when it exists, in one transaction; the
    parameter and whether it was created. `format` as for create (absent: an existing
    parameter keeps its own, which the value must parse in)."""
    ns = check_namespace(cluster_id, config_type, name)
    check_key(key)
    text, declared = _value_and_format(value, format)
    async with store.writer() as uow:
        _, revision = await _change(uow, actor, ns, create=True, owner_id=owner_id)
        current = await uow.configs.get(ns, key)
        fmt = _kept_format(text, declared, current)
        now = now_ms()
        if current is None:
            check_new_key(key)
            config = Config(key, text, now, now, revision, fmt)
            kind = ChangeKind.CREATE
        else:
            now = max(now, current.updated_at)
            config = Config(key, text, current.created_at, now, revision, fmt)
            kind = ChangeKind.UPDATE
        await uow.configs.put(ns, config, new=current is None)
        await uow.configs.record(
            ns, Change(revision, key, kind, text, actor.principal_id, now, fmt)
        )
        action = AuditAction.CREATE if current is None else AuditAction.UPDATE
        await _audit(uow, actor, action, ns, key, revision)
        await uow.commit()
    return config, current is None


async def write_batch(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    items: Sequence[ConfigWrite],
    owner_id: str | None = None,
) -> NamespaceChanges:
    """Set and delete several parameters of a namespace as one revision: every item is
    checked first (each bad one named, nothing written), then all commit together."""
    ns = check_namespace(cluster_id, config_type, name)
    writes = check_batch(items)
    sets = [w for w in writes if w.op is WriteOp.SET]
    # Values are checked in their formats before the transaction (off the loop when
    # large): the declared one, else the one stored now, looked at again under the lock.
    stored = await _stored_formats(store, actor, ns, [w.key for w in sets if w.format is None])
    checked_in = {w.index: w.format or stored.get(w.key, ConfigFormat.TEXT) for w in sets}
    found_bad = await _format_violations([(w, checked_in[w.index]) for w in sets])
    async with store.writer() as uow:
        now = now_ms()
        namespace = await _locked(uow, actor, ns, create=bool(sets), owner_id=owner_id, now=now)
        current = await uow.configs.get_many(ns, [w.key for w in writes])
        errors = ViolationCollector(list(found_bad))
        for w in writes:
            _check_against(w, current.get(w.key), checked_in.get(w.index), errors)
        errors.violations.sort(key=_item_order)
        errors.raise_if_any()
        changes = await _apply(uow, actor, ns, namespace, now, writes, current, {})
        await uow.commit()
    return changes


async def _apply(
    uow: UnitOfWork,
    actor: Principal,
    ns: NamespaceKey,
    namespace: Namespace,
    now: int,
    writes: Sequence[CheckedWrite | CandidateItem],
    current: dict[str, Config],
    extra: dict[str, object],
) -> NamespaceChanges:
    """Write checked sets and deletes (of keys in `current`) as the (locked) namespace's
    next revision, with their history and audit events; what changed."""
    revision = await _bump(uow, ns, namespace, now)
    created: list[Config] = []
    updated: list[Config] = []
    deleted: list[str] = []
    history: list[Change] = []
    for w in writes:
        was = current.get(w.key)
        if w.op is WriteOp.DELETE:
            deleted.append(w.key)
            history.append(
                Change(revision, w.key, ChangeKind.DELETE, None, actor.principal_id, now)
            )
            continue
        assert w.value is not None
        fmt = w.format or (was.format if was is not None else ConfigFormat.TEXT)
        if was is None:
            created.append(Config(w.key, w.value, now, now, revision, fmt))
            kind = ChangeKind.CREATE
        else:
            at = max(now, was.updated_at)
            updated.append(Config(w.key, w.value, was.created_at, at, revision, fmt))
            kind = ChangeKind.UPDATE
        history.append(Change(revision, w.key, kind, w.value, actor.principal_id, now, fmt))
    await uow.configs.put_many(ns, created, updated)
    await uow.configs.delete_many(ns, deleted)
    await uow.configs.record_many(ns, history)
    await _audit_all(uow, actor, ns, history, extra)
    configs = sorted(created + updated, key=lambda c: c.key)
    return NamespaceChanges(ns, namespace.revision, revision, configs, sorted(deleted))


def _check_against(
    write: CheckedWrite,
    current: Config | None,
    checked_in: ConfigFormat | None,
    errors: ViolationCollector,
) -> None:
    """Record what a batch item breaks given the parameter stored now: a deleted key must
    exist, a created one be addressable, and a value without a format parse in the
    parameter's own (checked again when it changed since it was read)."""
    if write.op is WriteOp.DELETE:
        if current is None:
            errors.add(f"{write.field}.key", "no such parameter in the namespace to delete")
        return
    if current is None:
        broken = key_rule(write.key, new=True)
        if broken is not None:
            errors.add(f"{write.field}.key", broken)
    if write.format is None:
        kept = current.format if current is not None else ConfigFormat.TEXT
        if kept is not checked_in:
            assert write.value is not None
            check_formatted(write.value, kept, f"{write.field}.value", errors)


def _item_order(violation: FieldViolation) -> tuple[int, str]:
    """Violations by item (`items.3.key` before `items.10.value`), then by field."""
    parts = violation.field.split(".")
    index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    return index, violation.field


async def _stored_formats(
    store: Store, actor: Principal, ns: NamespaceKey, keys: list[str]
) -> dict[str, ConfigFormat]:
    """The formats stored now of those of `keys` that exist in a namespace the actor may
    write (none of another owner's: its write is refused anyway, and says nothing of it)."""
    if not keys:
        return {}
    async with store.reader() as uow:
        namespace = await uow.configs.namespace(ns)
        if namespace is None or not actor.may(Action.UPDATE, RESOURCE, namespace.owner_id):
            return {}
        found = await uow.configs.get_many(ns, keys)
    return {key: config.format for key, config in found.items()}


async def _format_violations(
    checks: list[tuple[CheckedWrite, ConfigFormat]],
) -> list[FieldViolation]:
    """What the values of a batch break in the formats given, each naming its item."""
    parsed = [(w, fmt) for w, fmt in checks if fmt is not ConfigFormat.TEXT]

    def run() -> list[FieldViolation]:
        errors = ViolationCollector()
        for write, fmt in parsed:
            assert write.value is not None
            check_formatted(write.value, fmt, f"{write.field}.value", errors)
        return errors.violations

    if sum(len(w.value or "") for w, _ in parsed) <= FORMAT_INLINE_BYTES:
        return run()
    return await asyncio.to_thread(run)


async def revert_namespace(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    revision: object,
    owner_id: str | None = None,
) -> NamespaceChanges:
    """Make a namespace hold what it held at an earlier `revision`, as one new revision
    (nothing is written when it holds that already); what changed, as a watch sees it."""
    ns = check_namespace(cluster_id, config_type, name)
    target = check_revision(revision)
    async with store.writer() as uow:
        now = now_ms()
        namespace = await _locked(uow, actor, ns, create=False, owner_id=owner_id, now=now)
        if target > namespace.revision:
            raise NotFound(REVISION, f"{ns}@{target}")
        then = await uow.configs.state_at(ns, target)
        now_held = {c.key: c for c in await uow.configs.all(ns)}
        created: list[Config] = []
        updated: list[Config] = []
        deleted = sorted(set(now_held) - set(then))
        restored = [
            old
            for key, old in sorted(then.items())
            if key not in now_held
            or (now_held[key].value, now_held[key].format) != (old.value, old.format)
        ]
        if not restored and not deleted:
            return NamespaceChanges(ns, namespace.revision, namespace.revision, [], [])
        revision_now = await _bump(uow, ns, namespace, now)
        history = [
            Change(revision_now, key, ChangeKind.DELETE, None, actor.principal_id, now)
            for key in deleted
        ]
        for old in restored:
            assert old.value is not None and old.format is not None
            was = now_held.get(old.key)
            if was is None:
                created.append(Config(old.key, old.value, now, now, revision_now, old.format))
                kind = ChangeKind.CREATE
            else:
                at = max(now, was.updated_at)
                updated.append(
                    Config(old.key, old.value, was.created_at, at, revision_now, old.format)
                )
                kind = ChangeKind.UPDATE
            history.append(
                Change(revision_now, old.key, kind, old.value, actor.principal_id, now, old.format)
            )
        await uow.configs.put_many(ns, created, updated)
        await uow.configs.delete_many(ns, deleted)
        await uow.configs.record_many(ns, history)
        await _audit_all(uow, actor, ns, history, {"revertedTo": target})
        await uow.commit()
    configs = sorted(created + updated, key=lambda c: c.key)
    return NamespaceChanges(ns, namespace.revision, revision_now, configs, deleted)


async def _audit_all(
    uow: UnitOfWork,
    actor: Principal,
    ns: NamespaceKey,
    history: list[Change],
    extra: dict[str, object],
) -> None:
    """Record each parameter's change of one revision, as `_audit` does one."""
    actions = {
        ChangeKind.CREATE: AuditAction.CREATE,
        ChangeKind.UPDATE: AuditAction.UPDATE,
        ChangeKind.DELETE: AuditAction.DELETE,
    }
    await record_many(
        uow,
        actor,
        [
            (
                actions[change.kind],
                ResourceType.CONFIG,
                f"{ns}/{change.key}",
                {
                    "clusterId": ns.cluster_id,
                    "name": ns.name,
                    "configKey": change.key,
                    "revision": change.revision,
                    **extra,
                },
            )
            for change in history
        ],
    )


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


NAMESPACE_SEARCH_MAX = 200


async def list_namespace_page(
    *, store: Store, actor: Principal, search: str | None, page: PageRequest
) -> Page[Namespace]:
    """One page of the namespaces the actor may read (admins: all) whose cluster or name
    holds `search` (case-insensitively), in key order."""
    if search is not None and len(search) > NAMESPACE_SEARCH_MAX:
        raise InvalidArgument.of("q", f"at most {NAMESPACE_SEARCH_MAX} characters")
    owner = None if actor.sees_all(RESOURCE) else actor.principal_id
    async with store.reader() as uow:
        items, total = await uow.configs.namespace_page(
            owner_id=owner, search=search, offset=page.offset, limit=page.size
        )
    return Page(items=items, number=page.number, size=page.size, total=total)


@dataclass(frozen=True)
class NamespaceOverview:
    """A namespace as one read sees it: its owner and revision, a page of its parameters
    at that revision, its open candidate (None when none is), and the parameters the
    candidate changes as everyone else gets them now (by key; a key it creates: absent)."""

    namespace: Namespace
    configs: Page[Config]
    candidate: Candidate | None
    candidate_base: dict[str, Config]


async def namespace_overview(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    page: PageRequest,
) -> NamespaceOverview:
    """A namespace the actor may read, a page of its parameters in key order and its
    candidate, all of one snapshot; NotFound for one never written or another's."""
    ns = check_namespace(cluster_id, config_type, name)
    async with store.reader() as uow:
        await uow.configs.snapshot()
        namespace = _visible(await uow.configs.namespace(ns), actor)
        if namespace is None:
            raise NotFound(NAMESPACE, str(ns))
        items, total = await uow.configs.page(ns, offset=page.offset, limit=page.size)
        candidate = await uow.configs.candidate(ns)
        keys = [item.key for item in candidate.items] if candidate is not None else []
        base = await uow.configs.get_many(ns, keys) if keys else {}
    configs = Page(items=items, number=page.number, size=page.size, total=total)
    return NamespaceOverview(namespace, configs, candidate, base)


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
            await uow.configs.snapshot()  # a batch committed between two reads: none of it
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
    it; None when `timeout_seconds` pass first. Woken by the change feed, not by polling. A
    `since_revision` beyond the namespace's (made again since, or read elsewhere) is
    answered at once: nothing changed, at the namespace's real revision."""
    ns = check_namespace(cluster_id, config_type, name)
    check_watch(since_revision, timeout_seconds)

    async def moved() -> NamespaceChanges | None:
        changes = await _watched_changes(store, actor, ns, since_revision)
        return changes if changes.revision != since_revision else None

    return await first_change(store, [topic(ns)], moved, timeout_seconds)


# --- gray releases ------------------------------------------------------------------------


async def put_candidate(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    items: Sequence[ConfigWrite],
    labels: object,
    if_version: int | None = None,
    owner_id: str | None = None,
) -> tuple[Candidate, bool]:
    """Open the namespace's candidate, or replace the open one (`if_version`: 0 only
    create, N only replace version N); its items are checked as a batch's against the
    namespace now. The candidate, and whether it was created."""
    ns = check_namespace(cluster_id, config_type, name)
    writes = check_batch(items)
    targets = check_labels(labels)
    if if_version is not None:
        check_revision(if_version, "ifVersion")
    sets = [w for w in writes if w.op is WriteOp.SET]
    stored = await _stored_formats(store, actor, ns, [w.key for w in sets if w.format is None])
    checked_in = {w.index: w.format or stored.get(w.key, ConfigFormat.TEXT) for w in sets}
    found_bad = await _format_violations([(w, checked_in[w.index]) for w in sets])
    async with store.writer() as uow:
        now = now_ms()
        namespace = await _locked(uow, actor, ns, create=bool(sets), owner_id=owner_id, now=now)
        current = await uow.configs.get_many(ns, [w.key for w in writes])
        errors = ViolationCollector(list(found_bad))
        for w in writes:
            _check_against(w, current.get(w.key), checked_in.get(w.index), errors)
        errors.violations.sort(key=_item_order)
        errors.raise_if_any()
        existing = await uow.configs.candidate(ns)
        _check_held(ns, existing, if_version, creating=True)
        version = await uow.configs.bump_candidate_version(ns)
        resolved = [
            CandidateItem(
                w.key,
                w.op,
                w.value,
                None if w.op is WriteOp.DELETE else w.format or _format_of(current.get(w.key)),
            )
            for w in writes
        ]
        candidate = Candidate(
            key=ns,
            candidate_id=existing.candidate_id if existing else uuid.uuid4().hex,
            version=version,
            labels=targets,
            items=resolved,
            base_revision=namespace.revision,
            created_by=existing.created_by if existing else actor.principal_id,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        await uow.configs.put_candidate(candidate)
        uow.announce(candidate_topic(ns))
        action = AuditAction.UPDATE if existing else AuditAction.CREATE
        await _audit_candidate(uow, actor, action, candidate, {})
        await uow.commit()
    return candidate, existing is None


def _format_of(config: Config | None) -> ConfigFormat:
    return config.format if config is not None else ConfigFormat.TEXT


def _check_held(
    ns: NamespaceKey, existing: Candidate | None, version: int | None, *, creating: bool
) -> None:
    """Raise unless the namespace's candidate is the one the caller names: `version` 0 (to
    create: none is open), N (that version is open), None (any; one must be open unless
    `creating`)."""
    if version == 0 and creating:
        if existing is not None:
            raise AlreadyExists(
                CANDIDATE,
                f"{ns} has an open candidate (version {existing.version}): replace it with "
                f"ifVersion {existing.version}, or promote or drop it first",
            )
        return
    if existing is None:
        if creating and version is None:
            return
        raise NotFound(CANDIDATE, f"{ns} has no open candidate")
    if version is not None and existing.version != version:
        raise FailedPrecondition(
            f"the candidate of {ns} is at version {existing.version}, not {version}: read it again"
        )


async def _audit_candidate(
    uow: UnitOfWork,
    actor: Principal,
    action: AuditAction,
    candidate: Candidate,
    extra: dict[str, object],
) -> None:
    """Record a candidate's change: its id, version, labels and size, never its values."""
    ns = candidate.key
    await record(
        uow,
        actor,
        action,
        ResourceType.CONFIG_CANDIDATE,
        str(ns),
        {
            "clusterId": ns.cluster_id,
            "name": ns.name,
            "candidateId": candidate.candidate_id,
            "version": candidate.version,
            "labels": list(candidate.labels),
            "items": len(candidate.items),
            **extra,
        },
    )


async def get_candidate(
    *, store: Store, actor: Principal, cluster_id: str, config_type: str, name: str
) -> Candidate:
    """The namespace's open candidate; NotFound when there is none."""
    ns = check_namespace(cluster_id, config_type, name)
    async with store.reader() as uow:
        await uow.configs.snapshot()
        visible = _visible(await uow.configs.namespace(ns), actor)
        found = await uow.configs.candidate(ns) if visible is not None else None
    if found is None:
        raise NotFound(CANDIDATE, f"{ns} has no open candidate")
    return found


async def drop_candidate(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    version: int | None = None,
    owner_id: str | None = None,
) -> Candidate:
    """Close the namespace's candidate without changing anything for anyone (`version`:
    only that one); the candidate dropped."""
    ns = check_namespace(cluster_id, config_type, name)
    if version is not None:
        check_revision(version, "version")
    async with store.writer() as uow:
        now = now_ms()
        await _locked(uow, actor, ns, create=False, owner_id=owner_id, now=now)
        existing = await uow.configs.candidate(ns)
        _check_held(ns, existing, version, creating=False)
        assert existing is not None
        await uow.configs.drop_candidate(ns)
        await uow.configs.bump_candidate_version(ns)
        uow.announce(candidate_topic(ns))
        await _audit_candidate(uow, actor, AuditAction.DELETE, existing, {})
        await uow.commit()
    return existing


async def promote_candidate(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    version: int | None = None,
    owner_id: str | None = None,
) -> NamespaceChanges:
    """Apply the namespace's candidate for everyone as one new revision and close it
    (`version`: only that one); what changed. A delete of a key gone since is skipped."""
    ns = check_namespace(cluster_id, config_type, name)
    if version is not None:
        check_revision(version, "version")
    async with store.writer() as uow:
        now = now_ms()
        namespace = await _locked(uow, actor, ns, create=False, owner_id=owner_id, now=now)
        existing = await uow.configs.candidate(ns)
        _check_held(ns, existing, version, creating=False)
        assert existing is not None
        current = await uow.configs.get_many(ns, [item.key for item in existing.items])
        writes = [item for item in existing.items if item.op is WriteOp.SET or item.key in current]
        for item in writes:
            if item.key not in current and key_rule(item.key, new=True) is not None:
                raise FailedPrecondition(
                    f"the candidate would create {item.key!r}, which may no longer be "
                    "created: replace the candidate or drop it"
                )
        extra: dict[str, object] = {
            "candidateId": existing.candidate_id,
            "candidateVersion": existing.version,
        }
        if writes:
            changes = await _apply(uow, actor, ns, namespace, now, writes, current, extra)
        else:
            changes = NamespaceChanges(ns, namespace.revision, namespace.revision, [], [])
        await uow.configs.drop_candidate(ns)
        await uow.configs.bump_candidate_version(ns)
        uow.announce(candidate_topic(ns))
        await _audit_candidate(
            uow, actor, AuditAction.PROMOTE, existing, {"revision": changes.revision}
        )
        await uow.commit()
    return changes


async def namespace_view(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    client_label: str | None,
) -> GrayView:
    """The namespace as a client with `client_label` sees it: every parameter at its
    revision, with the candidate applied when it targets the label."""
    ns = check_namespace(cluster_id, config_type, name)
    label = check_client_label(client_label)
    async with store.reader() as uow:
        await uow.configs.snapshot()
        namespace = _visible(await uow.configs.namespace(ns), actor)
        if namespace is None:
            return GrayView(NamespaceState(ns, 0, []), None)
        items = await uow.configs.all(ns)
        candidate = await uow.configs.candidate(ns) if label is not None else None
    if candidate is None or not candidate.targets(label):
        return GrayView(NamespaceState(ns, namespace.revision, items), None)
    applied = apply_candidate(items, candidate, namespace.revision)
    return GrayView(NamespaceState(ns, namespace.revision, applied), candidate)


async def config_view(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    key: str,
    client_label: str | None,
) -> tuple[Config, Candidate | None]:
    """One parameter as a client with `client_label` sees it, and the candidate when the
    value is the candidate's (a key the candidate deletes is NotFound for that client)."""
    ns = check_namespace(cluster_id, config_type, name)
    check_key(key)
    label = check_client_label(client_label)
    async with store.reader() as uow:
        await uow.configs.snapshot()
        namespace = _visible(await uow.configs.namespace(ns), actor)
        found = await uow.configs.get(ns, key) if namespace is not None else None
        candidate = await uow.configs.candidate(ns) if namespace is not None and label else None
    served = candidate if candidate is not None and candidate.targets(label) else None
    item = next((i for i in served.items if i.key == key), None) if served else None
    if item is None:
        if found is None:
            raise NotFound(CONFIG, key)
        return found, None
    assert namespace is not None and served is not None
    applied = apply_candidate([found] if found else [], served, namespace.revision)
    hit = next((c for c in applied if c.key == key), None)
    if hit is None:
        raise NotFound(CONFIG, key)
    return hit, served


async def _gray_changes(
    store: Store,
    actor: Principal,
    ns: NamespaceKey,
    label: str,
    since: int,
    since_candidate: int,
) -> GrayChanges:
    """What a watcher with `label` that holds (`since`, `since_candidate`) is sent: what
    changed in the base after `since` (less the keys the candidate it holds still
    overrides), or every parameter as it sees them now when the candidate served to it is
    another; its revision is `since` and nothing changed when neither moved."""

    async def load() -> GrayChanges | None:
        async with store.reader() as uow:
            await uow.configs.snapshot()
            namespace = await uow.configs.namespace(ns)
            if namespace is None or not actor.may(Action.READ, RESOURCE, namespace.owner_id):
                return None
            candidate = await uow.configs.candidate(ns)
            served = candidate if candidate is not None and candidate.targets(label) else None
            version = served.version if served is not None else 0
            if version != since_candidate:
                items = await uow.configs.all(ns)
                if served is not None:
                    items = apply_candidate(items, served, namespace.revision)
                changes = NamespaceChanges(ns, since, namespace.revision, items, [])
                return GrayChanges(changes, served, full=True)
            if namespace.revision <= since:
                return GrayChanges(NamespaceChanges(ns, since, since, [], []), served, False)
            changed = await uow.configs.set_since(ns, since)
            deleted = await uow.configs.deleted_since(ns, since) if since > 0 else []
        if served is not None:
            overridden = {item.key for item in served.items}
            changed = [c for c in changed if c.key not in overridden]
            deleted = [k for k in deleted if k not in overridden]
        changes = NamespaceChanges(ns, since, namespace.revision, changed, deleted)
        return GrayChanges(changes, served, full=False)

    generations = (store.feed.generation(topic(ns)), store.feed.generation(candidate_topic(ns)))
    key = ("config-gray", str(ns), actor.principal_id, label, since, since_candidate, generations)
    found = await store.shared(key, load)
    if found is not None:
        return found
    # Another owner's namespace, or one never written: nothing, as for any watcher.
    nothing = NamespaceChanges(ns, since, 0 if since_candidate else since, [], [])
    return GrayChanges(nothing, None, full=since_candidate != 0)


def gray_moved(changes: GrayChanges, since: int, since_candidate: int) -> bool:
    """Whether a watcher holding (`since`, `since_candidate`) is sent `changes`."""
    return (
        changes.full
        or changes.changes.revision > since
        or changes.candidate_version != since_candidate
    )


async def watch_gray(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    client_label: str,
    since_revision: int,
    since_candidate: int,
    timeout_seconds: float,
) -> GrayChanges | None:
    """`watch` for a client with a label: answers as soon as the namespace's revision
    passes `since_revision` or the candidate served to the label is no longer version
    `since_candidate` (0: none); None at the timeout. Candidate changes that do not touch
    the label wake it but are not answered."""
    ns = check_namespace(cluster_id, config_type, name)
    label = check_client_label(client_label)
    assert label is not None
    check_watch(since_revision, timeout_seconds)
    check_since_candidate(since_candidate, label)

    async def moved() -> GrayChanges | None:
        changes = await _gray_changes(store, actor, ns, label, since_revision, since_candidate)
        return changes if gray_moved(changes, since_revision, since_candidate) else None

    topics = [topic(ns), candidate_topic(ns)]
    return await first_change(store, topics, moved, timeout_seconds)


async def first_gray_changes(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    client_label: str,
    since_revision: int,
    since_candidate: int,
) -> GrayChanges:
    """What a watcher with a label that holds (`since_revision`, `since_candidate`) is
    sent now (check with `gray_moved` whether anything moved)."""
    ns = check_namespace(cluster_id, config_type, name)
    label = check_client_label(client_label)
    assert label is not None
    check_watch(since_revision, 0.0)
    check_since_candidate(since_candidate, label)
    return await _gray_changes(store, actor, ns, label, since_revision, since_candidate)


# --- who is listening ---------------------------------------------------------------------

LISTENERS_MAX = 500


@dataclass(frozen=True)
class ListenerPage:
    """The watchers of a namespace now, oldest first (up to `LISTENERS_MAX`)."""

    items: list[Listener]
    total: int


async def list_listeners(
    *, store: Store, actor: Principal, cluster_id: str, config_type: str, name: str
) -> ListenerPage:
    """Who watches a namespace now, on every replica heard from lately: for its owner and
    admins (NotFound for everyone else)."""
    ns = check_namespace(cluster_id, config_type, name)
    async with store.reader() as uow:
        namespace = await uow.configs.namespace(ns)
        owner = namespace.owner_id if namespace is not None else None
        allowed = actor.sees_all(RESOURCE) or (
            owner is not None and actor.may(Action.UPDATE, RESOURCE, owner)
        )
        if not allowed:
            raise NotFound(NAMESPACE, str(ns))
        seen_after = now_ms() - store.listeners.stale_ms
        items, total = await uow.listeners.of_namespace(
            ns, seen_after_ms=seen_after, limit=LISTENERS_MAX
        )
    return ListenerPage(items, total)


def listen(
    *,
    store: Store,
    actor: Principal,
    cluster_id: str,
    config_type: str,
    name: str,
    client_label: str | None,
    revision: int,
    candidate_version: int,
    mode: ListenMode,
) -> ListenerHandle:
    """Register an open watch of a namespace in the list of who is listening; `close` the
    handle when it ends."""
    ns = check_namespace(cluster_id, config_type, name)
    return store.listeners.open(
        key=ns,
        client_label=check_client_label(client_label),
        revision=revision,
        candidate_version=candidate_version,
        principal_id=actor.principal_id,
        mode=mode,
    )
