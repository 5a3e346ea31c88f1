"""Dynamic parameters on SQLite and PostgreSQL: life cycle, revisions, history, watches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.domain.configs import Change, ChangeKind, Config, NamespaceKey
from modelplane.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from modelplane.domain.principals import Principal
from modelplane.services import configs, principals
from modelplane.settings import Settings
from modelplane.store.uow import Store
from tests.integration.test_catalog_services import admin_of

NS: dict[str, Any] = {
    "cluster_id": "cn-hangzhou",
    "config_type": "service",
    "name": "my_llm_service",
}
# Keys that clients cannot address: they normalise `.`, `..` and empty path parts away.
UNADDRESSABLE_KEYS = ["a/../b", "..", ".", "a/./b", "./a", "a/..", "a//b", "/a", "a/", "/"]


async def stored_before_the_key_rule(
    store: Store, owner: Principal, ns: NamespaceKey, key: str, value: str
) -> None:
    """A parameter written by a version that allowed any key of the pattern: into the store
    as `put_config` writes it, without the rule that now refuses to create it."""
    now = 1_700_000_000_000
    async with store.writer() as uow:
        namespace = await uow.configs.claim(ns, owner_id=owner.principal_id, now_ms=now)
        revision = namespace.revision + 1
        await uow.configs.bump(ns, revision=revision, now_ms=now)
        await uow.configs.put(ns, Config(key, value, now, now, revision), new=True)
        change = Change(revision, key, ChangeKind.CREATE, value, owner.principal_id, now)
        await uow.configs.record(ns, change)
        await uow.commit()


async def test_every_change_bumps_the_revision_and_is_kept(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    created = await configs.create_config(
        store=store, actor=admin, **NS, key="model/primary", value='{"model": "gpt-4"}'
    )
    assert created.revision == 1
    with pytest.raises(AlreadyExists):
        await configs.create_config(store=store, actor=admin, **NS, key="model/primary", value="x")
    updated = await configs.update_config(
        store=store, actor=admin, **NS, key="model/primary", value="qwen-max"
    )
    assert (updated.revision, updated.created_at) == (2, created.created_at)
    await configs.create_config(store=store, actor=admin, **NS, key="rate_limit", value="10")
    assert await configs.delete_config(store=store, actor=admin, **NS, key="rate_limit") == 1
    with pytest.raises(NotFound):
        await configs.update_config(store=store, actor=admin, **NS, key="rate_limit", value="1")
    with pytest.raises(NotFound):
        await configs.delete_config(store=store, actor=admin, **NS, key="rate_limit")
    state = await configs.namespace_state(store=store, actor=admin, **NS)
    assert state.revision == 4
    assert [(c.key, c.value) for c in state.configs] == [("model/primary", "qwen-max")]
    changes = await configs.history(store=store, actor=admin, **NS)
    assert [(c.revision, c.key, c.kind) for c in changes] == [
        (4, "rate_limit", ChangeKind.DELETE),
        (3, "rate_limit", ChangeKind.CREATE),
        (2, "model/primary", ChangeKind.UPDATE),
        (1, "model/primary", ChangeKind.CREATE),
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"config_type": "job"}, "configType"),
        ({"key": "k" * 101}, "key"),
        ({"key": "bad key"}, "key"),
        ({"key": "k\n"}, "key"),
        ({"value": None}, "value"),
        ({"value": 5}, "value"),
        ({"value": "é" * 40_000}, "value"),
    ],
)
async def test_bad_input_names_the_field_and_stores_nothing(
    app: FastAPI, overrides: dict[str, object], field: str
) -> None:
    store = app.state.store
    admin = await admin_of(store)
    args: dict[str, object] = {**NS, "key": "k", "value": "v", **overrides}
    with pytest.raises(InvalidArgument) as caught:
        await configs.create_config(store=store, actor=admin, **args)  # type: ignore[arg-type]
    assert caught.value.violations[0].field == field
    state = await configs.namespace_state(store=store, actor=admin, **NS)
    assert (state.revision, state.configs) == (0, [])


async def test_a_key_clients_cannot_address_is_never_created(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    for key in UNADDRESSABLE_KEYS:
        for create in (configs.create_config, configs.put_config):
            with pytest.raises(InvalidArgument) as caught:
                await create(store=store, actor=admin, **NS, key=key, value="v")
            assert caught.value.violations[0].field == "key", key
            assert "`..` part between `/`" in caught.value.violations[0].rule
    state = await configs.namespace_state(store=store, actor=admin, **NS)
    assert (state.revision, state.configs) == (0, [])


async def test_a_key_stored_before_the_rule_stays_readable_changeable_and_deletable(
    app: FastAPI,
) -> None:
    store = app.state.store
    admin = await admin_of(store)
    await stored_before_the_key_rule(
        store, admin, NamespaceKey("cn-hangzhou", NS["name"]), "a//b", "1"
    )
    assert (await configs.get_config(store=store, actor=admin, **NS, key="a//b")).value == "1"
    await configs.update_config(store=store, actor=admin, **NS, key="a//b", value="2")
    assert (await configs.put_config(store=store, actor=admin, **NS, key="a//b", value="3"))[
        1
    ] is False
    assert [c.kind for c in await configs.history(store=store, actor=admin, **NS, key="a//b")] == [
        ChangeKind.UPDATE,
        ChangeKind.UPDATE,
        ChangeKind.CREATE,
    ]
    assert await configs.delete_config(store=store, actor=admin, **NS, key="a//b") == 1
    with pytest.raises(InvalidArgument):  # gone now, so it could only be created again
        await configs.put_config(store=store, actor=admin, **NS, key="a//b", value="4")


async def test_the_first_writer_owns_the_namespace(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    alice = await principals.create_principal(store=store, actor=admin, name="a", role="member")
    bob = await principals.create_principal(store=store, actor=admin, name="b", role="member")
    await configs.create_config(store=store, actor=alice, **NS, key="k", value="v")
    with pytest.raises(AlreadyExists):
        await configs.create_config(store=store, actor=bob, **NS, key="other", value="v")
    hidden = await configs.list_configs(store=store, actor=bob, **NS)
    assert (hidden.items, hidden.total) == ([], 0)
    page = await configs.list_configs(store=store, actor=admin, **NS)
    assert [c.key for c in page.items] == ["k"]
    with pytest.raises(FailedPrecondition):
        await configs.update_config(store=store, actor=admin, **NS, key="k", value="by admin")
    await configs.update_config(
        store=store, actor=admin, **NS, key="k", value="by admin", owner_id=alice.principal_id
    )


async def test_list_pages_in_key_order(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    for n in range(5):
        await configs.create_config(store=store, actor=admin, **NS, key=f"k{n}", value="v")
    pages = [
        await configs.list_configs(store=store, actor=admin, **NS, page=p, page_size=2)
        for p in (1, 2, 3)
    ]
    assert [[c.key for c in p.items] for p in pages] == [["k0", "k1"], ["k2", "k3"], ["k4"]]
    assert [p.has_more for p in pages] == [True, True, False] and pages[0].total == 5
    with pytest.raises(InvalidArgument):
        await configs.list_configs(store=store, actor=admin, **NS, page_size=201)


async def test_a_watch_returns_at_the_change_or_at_its_timeout(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    assert (
        await configs.watch(store=store, actor=admin, **NS, since_revision=0, timeout_seconds=0.05)
        is None
    )
    waiting = asyncio.create_task(
        configs.watch(store=store, actor=admin, **NS, since_revision=0, timeout_seconds=5)
    )
    await asyncio.sleep(0.05)
    assert not waiting.done() and store.feed.watchers() == 1
    await configs.create_config(store=store, actor=admin, **NS, key="k", value="v")
    state = await asyncio.wait_for(waiting, 1)
    assert state is not None and state.revision == 1 and state.configs[0].value == "v"
    assert store.feed.watchers() == 0
    ready = await configs.watch(store=store, actor=admin, **NS, since_revision=0, timeout_seconds=5)
    assert ready is not None and ready.revision == 1  # already past: at once


async def test_a_watcher_on_one_replica_learns_of_a_change_made_on_another(
    app: FastAPI, settings: Settings
) -> None:
    store = app.state.store
    if not store.engines.is_postgres:
        pytest.skip("replicas share changes through PostgreSQL; SQLite watches are in-process")
    admin = await admin_of(store)
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        waiting = asyncio.create_task(
            configs.watch(store=store, actor=admin, **NS, since_revision=0, timeout_seconds=10)
        )
        await asyncio.sleep(0.05)
        started = asyncio.get_running_loop().time()
        await configs.create_config(
            store=other.state.store, actor=admin, **NS, key="k", value="from B"
        )
        state = await asyncio.wait_for(waiting, 5)
        lag = asyncio.get_running_loop().time() - started
    assert state is not None and state.configs[0].value == "from B"
    assert lag < 5  # woken by NOTIFY, not by the 10 s timeout
