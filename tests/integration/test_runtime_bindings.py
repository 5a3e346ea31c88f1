"""Runtimes bound to model groups, and the model configuration they read."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from modelplane.domain.catalog import BatchItem
from modelplane.domain.errors import InvalidArgument, NotFound
from modelplane.domain.runtimes import Binding
from modelplane.services import catalog, principals, runtimes
from tests.integration.test_catalog_services import admin_of, setup_provider


async def test_a_bound_runtime_reads_its_groups_models_and_default(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a"), BatchItem("b", is_default_model=True)],
    )
    outcomes = await runtimes.bind_runtimes(
        store=store, actor=admin, group_id=group_id, runtime_ids=["r1", "r2", "r1"]
    )
    assert [(o.runtime_id, o.result) for o in outcomes] == [
        ("r1", Binding.BOUND),
        ("r2", Binding.BOUND),
    ]
    config = await runtimes.runtime_model_config(store=store, actor=admin, runtime_id="r2")
    assert config.group.model_template_id == group_id
    assert config.default_model == "provider-acme/b"
    [(provider, models)] = config.providers
    assert provider.provider_template_id == provider_id
    assert sorted(m.llm_code for m in models) == ["a", "b"]


async def test_rebinding_moves_a_runtime_and_unbinding_reports_each_runtime(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    first, _ = await setup_provider(app)
    second = await catalog.create_group(store=store, actor=admin, name="second")
    await runtimes.bind_runtimes(store=store, actor=admin, group_id=first, runtime_ids=["r1"])
    moved = await runtimes.bind_runtimes(
        store=store, actor=admin, group_id=second.model_template_id, runtime_ids=["r1"]
    )
    assert [(o.result, o.success) for o in moved] == [(Binding.MOVED, True)]
    config = await runtimes.runtime_model_config(store=store, actor=admin, runtime_id="r1")
    assert config.group.model_template_id == second.model_template_id
    outcomes = await runtimes.unbind_runtimes(
        store=store, actor=admin, group_id=first, runtime_ids=["r1", "r9"]
    )
    assert [(o.success, o.result) for o in outcomes] == [(False, Binding.NOT_BOUND)] * 2
    outcomes = await runtimes.unbind_runtimes(
        store=store, actor=admin, group_id=second.model_template_id, runtime_ids=["r1"]
    )
    assert [(o.success, o.result) for o in outcomes] == [(True, Binding.UNBOUND)]
    with pytest.raises(NotFound):
        await runtimes.runtime_model_config(store=store, actor=admin, runtime_id="r1")


async def test_runtime_types_keep_separate_bindings(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, _ = await setup_provider(app)
    await runtimes.bind_runtimes(
        store=store, actor=admin, group_id=group_id, runtime_ids=["r1"], runtime_type="Desktop"
    )
    with pytest.raises(NotFound):
        await runtimes.runtime_model_config(store=store, actor=admin, runtime_id="r1")
    found = await runtimes.runtime_model_config(
        store=store, actor=admin, runtime_id="r1", runtime_type="Desktop"
    )
    assert found.group.model_template_id == group_id


async def test_a_member_cannot_take_or_read_another_owners_runtime(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, _ = await setup_provider(app)
    await runtimes.bind_runtimes(store=store, actor=admin, group_id=group_id, runtime_ids=["r1"])
    member = await principals.create_principal(store=store, actor=admin, name="m", role="member")
    own = await catalog.create_group(store=store, actor=member, name="mine")
    outcomes = await runtimes.bind_runtimes(
        store=store, actor=member, group_id=own.model_template_id, runtime_ids=["r1", "r2"]
    )
    assert [(o.runtime_id, o.success, o.result) for o in outcomes] == [
        ("r1", False, Binding.HELD),
        ("r2", True, Binding.BOUND),
    ]
    with pytest.raises(NotFound):
        await runtimes.runtime_model_config(store=store, actor=member, runtime_id="r1")
    with pytest.raises(NotFound):
        await runtimes.bind_runtimes(
            store=store, actor=member, group_id=group_id, runtime_ids=["r3"]
        )
    config = await runtimes.runtime_model_config(store=store, actor=admin, runtime_id="r1")
    assert config.group.model_template_id == group_id


@pytest.mark.parametrize(
    ("runtime_ids", "runtime_type", "field"),
    [
        ([], None, "runtimeIds"),
        (["r", "bad id"], None, "runtimeIds.1"),
        (["r"], "9x", "runtimeType"),
    ],
)
async def test_bad_runtime_input_names_the_field(
    app: FastAPI, runtime_ids: list[str], runtime_type: str | None, field: str
) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, _ = await setup_provider(app)
    with pytest.raises(InvalidArgument) as caught:
        await runtimes.bind_runtimes(
            store=store,
            actor=admin,
            group_id=group_id,
            runtime_ids=runtime_ids,
            runtime_type=runtime_type,
        )
    assert caught.value.violations[0].field == field


async def test_deleting_a_group_unbinds_its_runtimes(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, _ = await setup_provider(app)
    await runtimes.bind_runtimes(store=store, actor=admin, group_id=group_id, runtime_ids=["r1"])
    await catalog.delete_group(store=store, actor=admin, group_id=group_id)
    with pytest.raises(NotFound):
        await runtimes.runtime_model_config(store=store, actor=admin, runtime_id="r1")
