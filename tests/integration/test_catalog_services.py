"""Model catalog use cases on SQLite and PostgreSQL (the faces come on top of these)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from modelplane.domain.catalog import EXISTS_REASON, BatchItem
from modelplane.domain.errors import AlreadyExists, InvalidArgument, NotFound
from modelplane.domain.principals import Principal, Role
from modelplane.services import catalog, principals
from modelplane.store.tables import llm_templates
from modelplane.store.uow import Store


async def admin_of(store: Store) -> Principal:
    async with store.reader() as uow:
        found = await uow.principals.get_by_name("bootstrap-admin")
    assert found is not None
    return found


async def setup_provider(app: FastAPI, provider_name: str = "provider-acme") -> tuple[str, str]:
    store, secrets = app.state.store, app.state.secrets
    admin = await admin_of(store)
    group = await catalog.create_group(store=store, actor=admin, name="team")
    provider = await catalog.create_provider(
        store=store,
        secrets=secrets,
        actor=admin,
        group_id=group.model_template_id,
        name="Acme",
        provider_name=provider_name,
        provider_type="Custom",
        config={"baseUrl": "https://api.acme.test/v1", "api": "openai", "apiKey": "sk-acme"},
    )
    return group.model_template_id, provider.provider_template_id


async def defaults(app: FastAPI, group_id: str) -> tuple[list[str], str | None]:
    store = app.state.store
    admin = await admin_of(store)
    templates = await catalog.templates_of_group(store=store, actor=admin, group_id=group_id)
    group = (await catalog.get_group(store=store, actor=admin, group_id=group_id)).group
    return [t.llm_code for t in templates if t.is_default_model], group.default_model


async def test_batch_creates_new_codes_and_skips_existing_ones(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    first = await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a"), BatchItem("b")],
    )
    assert len(first.llm_template_ids) == 2 and first.skipped == []
    second = await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("b"), BatchItem("c"), BatchItem("c")],
        model_template_id=group_id,
    )
    assert len(second.llm_template_ids) + len(second.skipped) == second.total == 3
    assert (second.skipped[0].llm_code, second.skipped[0].reason) == ("b", EXISTS_REASON)
    codes = [
        t.llm_code
        for t in await catalog.templates_of_group(store=store, actor=admin, group_id=group_id)
    ]
    assert sorted(codes) == ["a", "b", "c"]


async def test_a_new_default_moves_the_flag_and_the_group_pointer(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a", is_default_model=True), BatchItem("b")],
    )
    assert await defaults(app, group_id) == (["a"], "provider-acme/a")
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("c", is_default_model=True)],
    )
    assert await defaults(app, group_id) == (["c"], "provider-acme/c")


async def test_a_failed_batch_stores_nothing(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    for items in (
        [BatchItem("a", is_default_model=True), BatchItem("b", is_default_model=True)],
        [BatchItem("a"), BatchItem("bad code")],
    ):
        with pytest.raises(InvalidArgument):
            await catalog.batch_create_llm_templates(
                store=store, actor=admin, provider_template_id=provider_id, items=items
            )
    assert await catalog.templates_of_group(store=store, actor=admin, group_id=group_id) == []


async def test_concurrent_batches_keep_one_default_and_each_code_once(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)

    async def batch(n: int) -> object:
        items = [BatchItem(f"m{n}", is_default_model=True), BatchItem("shared")]
        return await catalog.batch_create_llm_templates(
            store=store, actor=admin, provider_template_id=provider_id, items=items
        )

    results = await asyncio.gather(*(batch(n) for n in range(8)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    templates = await catalog.templates_of_group(store=store, actor=admin, group_id=group_id)
    codes = [t.llm_code for t in templates]
    assert sorted(codes) == sorted({*(f"m{n}" for n in range(8)), "shared"})
    flagged, pointer = await defaults(app, group_id)
    assert len(flagged) == 1 and pointer == f"provider-acme/{flagged[0]}"


async def test_the_store_itself_refuses_a_second_default(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a", is_default_model=True)],
    )

    async def insert_a_second_default() -> None:  # bypasses the service rules on purpose
        async with store.writer() as uow:
            await uow.catalog._conn.execute(
                llm_templates.insert().values(
                    llm_template_id="llmt-second",
                    provider_template_id=provider_id,
                    model_template_id=group_id,
                    llm_code="b",
                    config={},
                    is_default_model=True,
                    created_at=0,
                )
            )
            await uow.commit()

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await insert_a_second_default()


async def test_provider_names_are_unique_in_a_group(app: FastAPI) -> None:
    store, secrets = app.state.store, app.state.secrets
    admin = await admin_of(store)
    group_id, _ = await setup_provider(app)
    with pytest.raises(AlreadyExists):
        await catalog.create_provider(
            store=store,
            secrets=secrets,
            actor=admin,
            group_id=group_id,
            name="again",
            provider_name="provider-acme",
            provider_type="Custom",
            config=None,
        )


async def test_provider_api_key_is_sealed_at_rest(app: FastAPI) -> None:
    store, secrets = app.state.store, app.state.secrets
    _, provider_id = await setup_provider(app)
    async with store.reader() as uow:
        sealed = await uow.catalog.sealed_api_key(provider_id)
        provider = await uow.catalog.get_provider(provider_id)
    assert sealed is not None and "sk-acme" not in sealed
    assert secrets.open(sealed, aad=catalog.provider_key_aad(provider_id)) == b"sk-acme"
    assert provider is not None and provider.has_api_key


async def test_members_cannot_reach_other_owners_groups(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    member = await principals.create_principal(store=store, actor=admin, name="m", role="member")
    assert member.role is Role.MEMBER
    with pytest.raises(NotFound):
        await catalog.get_group(store=store, actor=member, group_id=group_id)
    with pytest.raises(NotFound):
        await catalog.batch_create_llm_templates(
            store=store, actor=member, provider_template_id=provider_id, items=[BatchItem("x")]
        )


async def test_a_new_config_pointer_moves_the_default_flag(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a", is_default_model=True), BatchItem("b")],
    )
    config = {"defaults": {"model": {"primary": "provider-acme/b"}}, "other": 1}
    updated = await catalog.update_group(store=store, actor=admin, group_id=group_id, config=config)
    assert updated.config["other"] == 1
    assert await defaults(app, group_id) == (["b"], "provider-acme/b")
    await catalog.update_group(store=store, actor=admin, group_id=group_id, config={})
    assert await defaults(app, group_id) == ([], None)


@pytest.mark.parametrize(
    "pointer",
    ["provider-other/a", "provider-acme/zzz", "no-slash"],
    ids=["provider", "code", "form"],
)
async def test_a_pointer_outside_the_group_is_refused_and_changes_nothing(
    app: FastAPI, pointer: str
) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a", is_default_model=True)],
    )
    config = {"defaults": {"model": {"primary": pointer}}}
    with pytest.raises(InvalidArgument) as caught:
        await catalog.update_group(
            store=store, actor=admin, group_id=group_id, name="renamed", config=config
        )
    assert [v.field for v in caught.value.violations] == ["config.defaults.model.primary"]
    group = (await catalog.get_group(store=store, actor=admin, group_id=group_id)).group
    assert group.name == "team"
    assert await defaults(app, group_id) == (["a"], "provider-acme/a")


async def test_renaming_a_group_keeps_its_default(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a", is_default_model=True)],
    )
    renamed = await catalog.update_group(store=store, actor=admin, group_id=group_id, name="x")
    assert renamed.name == "x"
    assert await defaults(app, group_id) == (["a"], "provider-acme/a")
    with pytest.raises(InvalidArgument):
        await catalog.update_group(store=store, actor=admin, group_id=group_id, ref_scope="ALL")
    with pytest.raises(InvalidArgument):
        await catalog.update_group(
            store=store, actor=admin, group_id=group_id, config={"n": float("inf")}
        )


async def test_deleting_the_default_template_clears_the_group_pointer(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    result = await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a", is_default_model=True), BatchItem("b")],
    )
    default_id, other_id = result.llm_template_ids
    await catalog.delete_llm_template(store=store, actor=admin, llm_template_id=other_id)
    assert await defaults(app, group_id) == (["a"], "provider-acme/a")
    await catalog.delete_llm_template(store=store, actor=admin, llm_template_id=default_id)
    assert await defaults(app, group_id) == ([], None)
    with pytest.raises(NotFound):
        await catalog.delete_llm_template(store=store, actor=admin, llm_template_id=default_id)


async def test_members_cannot_delete_other_owners_templates(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    _, provider_id = await setup_provider(app)
    result = await catalog.batch_create_llm_templates(
        store=store, actor=admin, provider_template_id=provider_id, items=[BatchItem("a")]
    )
    member = await principals.create_principal(store=store, actor=admin, name="m2", role="member")
    with pytest.raises(NotFound):
        await catalog.delete_llm_template(
            store=store, actor=member, llm_template_id=result.llm_template_ids[0]
        )
