"""Model catalog rules: provider naming, batch planning, the default-model pointer."""

from __future__ import annotations

import dataclasses

import pytest

from modelplane.domain.catalog import (
    EXISTS_REASON,
    REPEAT_REASON,
    BatchItem,
    ModelGroup,
    ProviderConfig,
    ProviderKind,
    ProviderTemplate,
    changed_template,
    default_pointer,
    new_group,
    new_provider,
    plan_batch,
    provider_config,
    provider_patch,
    require_in_group,
)
from modelplane.domain.errors import InvalidArgument, ViolationCollector


def group() -> ModelGroup:
    return new_group(owner_id="owner", name="team models", now_ms=1)


def provider(name: str = "provider-acme", kind: str = "Custom") -> ProviderTemplate:
    return new_provider(
        group=group(),
        owner_id="owner",
        name="Acme",
        provider_name=name,
        provider_type=kind,
        config=ProviderConfig(base_url="https://api.acme.test/v1", api="openai", api_key="k"),
        now_ms=1,
    )


def fields(exc: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in exc.value.violations]


def test_ids_carry_their_resource_prefix() -> None:
    assert group().model_template_id.startswith("mt-")
    made = provider()
    assert made.provider_template_id.startswith("mpt-")
    plan = plan_batch([BatchItem("m1")], provider=made, existing_codes=set(), now_ms=1)
    assert plan.create[0].llm_template_id.startswith("llmt-")


@pytest.mark.parametrize(
    ("kind", "name", "ok"),
    [
        ("Custom", "provider-acme", True),
        ("Custom", "acme", False),
        ("WuyingCredit", "wuying-credit", True),
        ("WuyingCredit", "credit", False),
        ("Managed", "dashscope", True),
        ("Managed", "Bad Name", False),
    ],
)
def test_provider_names_follow_their_type(kind: str, name: str, ok: bool) -> None:
    if ok:
        assert provider(name, kind).provider_name == name
    else:
        with pytest.raises(InvalidArgument) as caught:
            provider(name, kind)
        assert fields(caught) == ["providerName"]


def test_unknown_provider_type_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        provider("x", "Other")
    assert fields(caught) == ["providerType"]


def test_provider_config_keeps_the_key_out_of_the_entity() -> None:
    errors = ViolationCollector()
    config = provider_config(
        {"baseUrl": "https://x.test/v1", "api": "openai", "apiKey": "sk-1"}, errors
    )
    assert errors.violations == []
    assert (config.base_url, config.api, config.api_key) == ("https://x.test/v1", "openai", "sk-1")
    made = new_provider(
        group=group(),
        owner_id="o",
        name="n",
        provider_name="provider-x",
        provider_type="Custom",
        config=config,
        now_ms=1,
    )
    assert made.has_api_key and "sk-1" not in repr(made)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"baseUrl": "ftp://x"}, "config.baseUrl"),
        ({"BaseUrl": "https://x.test"}, "config.BaseUrl"),
        ({"token": "x"}, "config.token"),
        ({"apiKey": 3}, "config.apiKey"),
        ({"api": "a" * 65}, "config.api"),
    ],
)
def test_bad_provider_config_is_named(values: dict[str, object], field: str) -> None:
    for read in (provider_config, provider_patch):
        errors = ViolationCollector()
        read(values, errors)
        assert [v.field for v in errors.violations] == [field]


def test_a_provider_patch_clears_with_null_or_empty_and_keeps_what_is_absent() -> None:
    errors = ViolationCollector()
    patch = provider_patch({"apiKey": "", "api": None, "baseUrl": "https://x.test"}, errors)
    assert errors.violations == []
    assert patch == {"apiKey": None, "api": None, "baseUrl": "https://x.test"}


def test_batch_skips_existing_codes_and_repeats_and_counts_add_up() -> None:
    items = [BatchItem("a"), BatchItem("b"), BatchItem("a"), BatchItem("c")]
    plan = plan_batch(items, provider=provider(), existing_codes={"c"}, now_ms=1)
    assert [t.llm_code for t in plan.create] == ["a", "b"]
    assert [(s.llm_code, s.reason) for s in plan.skipped] == [
        ("a", REPEAT_REASON),
        ("c", EXISTS_REASON),
    ]
    assert len(plan.create) + len(plan.skipped) == plan.total == 4


def test_two_defaults_in_one_batch_fail_the_whole_batch() -> None:
    items = [BatchItem("a", is_default_model=True), BatchItem("b", is_default_model=True)]
    with pytest.raises(InvalidArgument) as caught:
        plan_batch(items, provider=provider(), existing_codes=set(), now_ms=1)
    assert fields(caught) == ["items"]


def test_the_default_of_a_batch_is_reported() -> None:
    items = [BatchItem("a"), BatchItem("b", is_default_model=True)]
    plan = plan_batch(items, provider=provider(), existing_codes=set(), now_ms=1)
    assert plan.default is not None and plan.default.llm_code == "b"


def test_a_skipped_default_changes_nothing() -> None:
    items = [BatchItem("a", is_default_model=True)]
    plan = plan_batch(items, provider=provider(), existing_codes={"a"}, now_ms=1)
    assert plan.default is None and plan.create == []


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (BatchItem(None), "items.0.llmCode"),
        (BatchItem("bad code"), "items.0.llmCode"),
        (BatchItem("ok", config={"n": 2**70}), "items.0.config"),
        (BatchItem("ok", config={"n": float("nan")}), "items.0.config"),
        (BatchItem("ok", config={"t": "x" * 70_000}), "items.0.config"),
        (BatchItem("ok", name="n" * 129), "items.0.name"),
    ],
)
def test_an_invalid_item_names_its_field(item: BatchItem, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        plan_batch([item], provider=provider(), existing_codes=set(), now_ms=1)
    assert fields(caught) == [field]


def test_item_config_is_kept_as_given() -> None:
    config = {"id": "qwen3.6-plus", "maxTokens": 65536, "input": ["image", "text"]}
    plan = plan_batch(
        [BatchItem("qwen3.6-plus", config=config)],
        provider=provider(),
        existing_codes=set(),
        now_ms=1,
    )
    assert plan.create[0].config == config


def test_the_default_pointer_lives_in_the_group_config() -> None:
    base = group()
    assert base.default_model is None
    pointed = base.with_default(default_pointer("provider-acme", "m1"), now_ms=5)
    assert pointed.config == {"defaults": {"model": {"primary": "provider-acme/m1"}}}
    assert pointed.default_model == "provider-acme/m1"
    assert base.config == {}  # the original is untouched
    assert pointed.with_default(None, now_ms=6).default_model is None


def test_a_pointer_must_name_a_provider_and_code_of_the_group() -> None:
    acme = provider()
    providers = {"provider-acme": acme}
    assert require_in_group(
        "provider-acme/m1", group=group(), providers=providers, codes={"m1"}
    ) == ("provider-acme", "m1")
    for bad in ("nope", "provider-other/m1", "provider-acme/m2", "/m1"):
        with pytest.raises(InvalidArgument):
            require_in_group(bad, group=group(), providers=providers, codes={"m1"})


def test_provider_kind_values_are_the_wire_values() -> None:
    assert [k.value for k in ProviderKind] == ["Managed", "Custom", "WuyingCredit"]


def test_a_batchs_ids_sort_in_the_order_of_its_items() -> None:
    codes = [f"m{n}" for n in range(300, 0, -1)]
    plan = plan_batch(
        [BatchItem(c) for c in codes], provider=provider(), existing_codes=set(), now_ms=1
    )
    ids = [t.llm_template_id for t in plan.create]
    assert sorted(ids) == ids and len(set(ids)) == len(ids)
    assert all(len(i) <= 32 and i.startswith("llmt-") for i in ids)


def test_a_changed_template_keeps_its_id_code_and_default_and_what_is_not_given() -> None:
    plan = plan_batch(
        [
            BatchItem(
                "qwen-max", name="Qwen", description="d", config={"t": 1}, is_default_model=True
            )
        ],
        provider=provider(),
        existing_codes=set(),
        now_ms=1,
    )
    template = plan.create[0]
    renamed = changed_template(template, name="Qwen Max", llm_code="qwen-max")
    assert renamed == dataclasses.replace(template, name="Qwen Max")
    replaced = changed_template(template, config={"cost": {"input": 1, "output": 2}})
    assert replaced.config == {"cost": {"input": 1, "output": 2}}
    assert (replaced.name, replaced.description, replaced.is_default_model) == ("Qwen", "d", True)
    assert changed_template(template) == template


def test_a_changed_template_refuses_a_new_code_and_names_every_bad_field() -> None:
    template = plan_batch([BatchItem("a")], provider=provider(), existing_codes=set(), now_ms=1)
    with pytest.raises(InvalidArgument) as refused:
        changed_template(
            template.create[0],
            llm_code="b",
            name="n" * 129,
            description="d" * 1025,
            config={"cost": {"input": "free", "output": 1}},
        )
    fields = [v.field for v in refused.value.violations]
    assert fields == ["llmCode", "name", "description", "config.cost.input"]
