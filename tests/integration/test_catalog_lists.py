"""Catalog use cases beyond creation: lists with paging and filters, updates, deletes."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from modelplane.domain.catalog import BatchItem, GroupFilter, ProviderFilter, TemplateFilter
from modelplane.domain.errors import InvalidArgument, NotFound
from modelplane.domain.paging import page_request
from modelplane.services import catalog, principals
from tests.integration.test_catalog_services import admin_of, defaults, setup_provider


async def test_llm_templates_page_in_creation_order_with_a_total(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    for start in (0, 5):
        await catalog.batch_create_llm_templates(
            store=store,
            actor=admin,
            provider_template_id=provider_id,
            items=[BatchItem(f"m{n}") for n in range(start, start + 5)],
        )
    flt = TemplateFilter(provider_template_id=provider_id)
    pages = [
        await catalog.list_llm_templates(
            store=store, actor=admin, flt=flt, page=page_request(number, 4)
        )
        for number in (0, 1, 2, 3)
    ]
    assert pages[0] == pages[1]
    assert [p.total for p in pages] == [10] * 4
    seen = [t.llm_code for p in pages[1:] for t in p.items]
    assert sorted(seen) == sorted(f"m{n}" for n in range(10))
    assert {t.llm_code for t in pages[1].items} <= {f"m{n}" for n in range(5)}
    only = await catalog.list_llm_templates(
        store=store, actor=admin, flt=TemplateFilter(llm_code="m7"), page=page_request()
    )
    assert [t.llm_code for t in only.items] == ["m7"] and only.total == 1
    by_ids = await catalog.list_llm_templates(
        store=store,
        actor=admin,
        flt=TemplateFilter(model_template_id=group_id, ids=(only.items[0].llm_template_id,)),
        page=page_request(),
    )
    assert by_ids.items == only.items


@pytest.mark.parametrize(("number", "size"), [(-1, 10), (1, 0), (1, 501)])
def test_bad_paging_names_the_field(number: int, size: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        page_request(number, size)
    assert caught.value.violations[0].field in ("pageNumber", "pageSize")


async def test_groups_list_with_model_counts_and_filters(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store, actor=admin, provider_template_id=provider_id, items=[BatchItem("a")]
    )
    empty = await catalog.create_group(
        store=store, actor=admin, name="50%_off", ref_scope="ALL_USER"
    )
    everything = await catalog.list_groups(
        store=store, actor=admin, flt=GroupFilter(), page=page_request()
    )
    counts = {s.group.model_template_id: s.model_count for s in everything.items}
    assert counts == {group_id: 1, empty.model_template_id: 0}

    async def ids(flt: GroupFilter) -> list[str]:
        page = await catalog.list_groups(store=store, actor=admin, flt=flt, page=page_request())
        return [s.group.model_template_id for s in page.items]

    assert await ids(GroupFilter(has_model=True)) == [group_id]
    assert await ids(GroupFilter(has_model=False)) == [empty.model_template_id]
    assert await ids(GroupFilter(name="%_")) == [empty.model_template_id]  # wildcards literal
    assert await ids(GroupFilter(name="TEA")) == [group_id]  # substring, any case
    assert await ids(GroupFilter(ref_scope="ALL_USER")) == [empty.model_template_id]
    assert await ids(GroupFilter(ids=(group_id, "mt-missing"))) == [group_id]


async def test_members_list_only_their_own_catalog(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    await setup_provider(app)
    member = await principals.create_principal(store=store, actor=admin, name="m", role="member")
    own = await catalog.create_group(store=store, actor=member, name="mine")
    groups = await catalog.list_groups(
        store=store, actor=member, flt=GroupFilter(), page=page_request()
    )
    assert [s.group.model_template_id for s in groups.items] == [own.model_template_id]
    providers = await catalog.list_providers(
        store=store, actor=member, flt=ProviderFilter(), page=page_request()
    )
    templates = await catalog.list_llm_templates(
        store=store, actor=member, flt=TemplateFilter(), page=page_request()
    )
    assert providers.total == templates.total == 0


async def test_provider_update_changes_only_what_is_given(app: FastAPI) -> None:
    store, secrets = app.state.store, app.state.secrets
    admin = await admin_of(store)
    _, provider_id = await setup_provider(app)
    before = await catalog.get_provider(store=store, actor=admin, provider_template_id=provider_id)
    renamed = await catalog.update_provider(
        store=store, secrets=secrets, actor=admin, provider_template_id=provider_id, name="Acme 2"
    )
    assert (renamed.name, renamed.base_url, renamed.api) == ("Acme 2", before.base_url, before.api)
    rekeyed = await catalog.update_provider(
        store=store,
        secrets=secrets,
        actor=admin,
        provider_template_id=provider_id,
        config={"apiKey": "sk-new-0123456789abcd", "baseUrl": "https://b.test/v1"},
    )
    assert rekeyed.api == before.api and rekeyed.base_url == "https://b.test/v1"
    assert rekeyed.masked_config["apiKey"] == "sk-****abcd"
    async with store.reader() as uow:
        sealed = await uow.catalog.sealed_api_key(provider_id)
    aad = catalog.provider_key_aad(provider_id)
    assert secrets.open(sealed, aad=aad) == b"sk-new-0123456789abcd"
    stored = await catalog.get_provider(store=store, actor=admin, provider_template_id=provider_id)
    assert stored == rekeyed
    cleared = await catalog.update_provider(
        store=store,
        secrets=secrets,
        actor=admin,
        provider_template_id=provider_id,
        config={"apiKey": ""},
    )
    assert not cleared.has_api_key and "apiKey" not in cleared.masked_config
    with pytest.raises(InvalidArgument):
        await catalog.update_provider(
            store=store,
            secrets=secrets,
            actor=admin,
            provider_template_id=provider_id,
            name="",
            config={"baseUrl": "ftp://x"},
        )
    assert (
        await catalog.get_provider(store=store, actor=admin, provider_template_id=provider_id)
        == cleared
    )


async def test_deleting_the_default_provider_clears_the_pointer(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store,
        actor=admin,
        provider_template_id=provider_id,
        items=[BatchItem("a", is_default_model=True)],
    )
    await catalog.delete_provider(store=store, actor=admin, provider_template_id=provider_id)
    assert await defaults(app, group_id) == ([], None)
    with pytest.raises(NotFound):
        await catalog.get_provider(store=store, actor=admin, provider_template_id=provider_id)


async def test_deleting_a_group_removes_everything_under_it(app: FastAPI) -> None:
    store = app.state.store
    admin = await admin_of(store)
    group_id, provider_id = await setup_provider(app)
    await catalog.batch_create_llm_templates(
        store=store, actor=admin, provider_template_id=provider_id, items=[BatchItem("a")]
    )
    await catalog.delete_group(store=store, actor=admin, group_id=group_id)
    with pytest.raises(NotFound):
        await catalog.get_group(store=store, actor=admin, group_id=group_id)
    left = await catalog.list_llm_templates(
        store=store, actor=admin, flt=TemplateFilter(), page=page_request()
    )
    assert left.total == 0
    with pytest.raises(NotFound):
        await catalog.delete_group(store=store, actor=admin, group_id=group_id)
