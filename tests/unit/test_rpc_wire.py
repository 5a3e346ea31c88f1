"""RPC parameter decoding: merged query and form, both list encodings, typed values."""

from __future__ import annotations

import json

import pytest

from modelplane.domain.errors import InvalidArgument
from modelplane.faces.aliyun.rpc.errors import FIELD_NAMES, RpcError
from modelplane.faces.aliyun.rpc.wire import Params, merged, paging
from modelplane.faces.aliyun.transport import parse_pairs


def params(**values: str) -> Params:
    return Params(values)


def flat(*pairs: tuple[str, str]) -> Params:
    return Params(dict(pairs))


def field_of(caught: pytest.ExceptionInfo[InvalidArgument]) -> str:
    """The field the error names, as this face renders it."""
    return FIELD_NAMES.path(caught.value.violations[0].field)


def test_pairs_decode_plus_as_space_and_percent_escapes_as_utf8() -> None:
    assert parse_pairs("Name=a+b%2Bc&Description=%E5%8D%83%E9%97%AE&&Empty=", "Query") == [
        ("Name", "a b+c"),
        ("Description", "千问"),
        ("Empty", ""),
    ]


@pytest.mark.parametrize("text", ["Name", "a=1&broken", "%FF=1"])
def test_a_malformed_form_names_where_it_came_from(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_pairs(text, "Body")
    assert field_of(caught) == "Body"


@pytest.mark.parametrize("text", ["Name=%FF", "Name=%ED%A0%80", "Name=a%00", "a=1&Name=%00"])
def test_a_value_that_is_not_storable_text_names_its_parameter(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_pairs(text, "Body")
    assert field_of(caught) == "Name"


def test_query_and_form_merge_and_agreeing_repeats_are_fine() -> None:
    got = merged([("Action", "X"), ("Name", "n")], [("Name", "n"), ("Description", "d")])
    assert dict(got.values) == {"Action": "X", "Name": "n", "Description": "d"}


def test_a_name_with_two_different_values_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        merged([("Name", "a")], [("Name", "b")])
    assert field_of(caught) == "Name"


def test_flattened_and_json_text_lists_read_the_same() -> None:
    flattened = flat(("RuntimeIds.2", "rt-b"), ("RuntimeIds.1", "rt-a"))
    as_json = params(RuntimeIds=json.dumps(["rt-a", "rt-b"]))
    assert flattened.strings("RuntimeIds") == as_json.strings("RuntimeIds") == ["rt-a", "rt-b"]
    assert params().strings("RuntimeIds") is None
    assert params(LlmTemplateIds="[]").strings("LlmTemplateIds") == []


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ((("RuntimeIds.1", "a"), ("RuntimeIds.3", "c")), "RuntimeIds.2"),
        ((("RuntimeIds.0", "a"),), "RuntimeIds.0"),
        ((("RuntimeIds.x", "a"),), "RuntimeIds.x"),
        ((("RuntimeIds.1.Id", "a"),), "RuntimeIds.1.Id"),
        ((("RuntimeIds", '["a"]'), ("RuntimeIds.1", "a")), "RuntimeIds"),
        ((("RuntimeIds", "rt-1"),), "RuntimeIds"),
        ((("RuntimeIds", '{"a": 1}'),), "RuntimeIds"),
        ((("RuntimeIds", '["a", 2]'),), "RuntimeIds.2"),
        ((("RuntimeIds", "[" * 100_000),), "RuntimeIds"),
        ((("RuntimeIds", "[" + "9" * 5000 + "]"),), "RuntimeIds"),
    ],
)
def test_a_bad_list_names_the_parameter(pairs: tuple[tuple[str, str], ...], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        flat(*pairs).strings("RuntimeIds")
    assert field_of(caught) == field


def test_a_required_list_that_is_absent_or_empty_is_missing() -> None:
    for given in (params(), params(RuntimeIds="[]")):
        with pytest.raises(RpcError) as caught:
            given.strings("RuntimeIds", required=True)
        assert caught.value.code == "MissingParameter"
        assert "RuntimeIds" in caught.value.message


def test_nested_object_lists_in_both_encodings() -> None:
    flattened = flat(
        ("LlmTemplateItems.1.LlmCode", "qwen-plus"),
        ("LlmTemplateItems.1.IsDefaultModel", "True"),
        ("LlmTemplateItems.1.Config", '{"maxTokens": 8}'),
        ("LlmTemplateItems.2.LlmCode", "qwen-max"),
    )
    items = json.dumps(
        [
            {"LlmCode": "qwen-plus", "IsDefaultModel": True, "Config": {"maxTokens": 8}},
            {"LlmCode": "qwen-max", "Name": None},
        ]
    )
    for given in (flattened, params(LlmTemplateItems=items)):
        first, second = given.objects("LlmTemplateItems") or []
        assert first.text("LlmCode") == "qwen-plus"
        assert first.boolean("IsDefaultModel") is True
        assert first.json_object("Config") == {"maxTokens": 8}
        assert (second.text("LlmCode"), second.text("Name")) == ("qwen-max", None)
        assert second.boolean("IsDefaultModel") is None
    assert params().objects("LlmTemplateItems") is None


def test_errors_inside_an_object_name_its_place() -> None:
    given = flat(("LlmTemplateItems.1.LlmCode", "a"), ("LlmTemplateItems.2.IsDefaultModel", "yes"))
    second = (given.objects("LlmTemplateItems") or [])[1]
    with pytest.raises(InvalidArgument) as caught:
        second.boolean("IsDefaultModel")
    assert field_of(caught) == "LlmTemplateItems.2.IsDefaultModel"
    with pytest.raises(RpcError) as missing:
        second.required("LlmCode")
    assert "LlmTemplateItems.2.LlmCode" in missing.value.message


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ((("LlmTemplateItems.1", "a"),), "LlmTemplateItems.1"),
        ((("LlmTemplateItems", '["a"]'),), "LlmTemplateItems.1"),
        ((("LlmTemplateItems", "not json"),), "LlmTemplateItems"),
    ],
)
def test_object_lists_refuse_items_that_are_not_objects(
    pairs: tuple[tuple[str, str], ...], field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        flat(*pairs).objects("LlmTemplateItems")
    assert field_of(caught) == field


def test_an_object_as_json_text_or_flattened_fields() -> None:
    as_json = params(Config='{"ApiKey": "sk-1", "BaseUrl": "https://x.test"}')
    flattened = flat(("Config.ApiKey", "sk-1"), ("Config.BaseUrl", "https://x.test"))
    assert as_json.json_object("Config") == flattened.json_object("Config")
    assert params().json_object("Config") is None
    assert params(Config=" ").json_object("Config") == {}
    for pairs in ((("Config", "{}"), ("Config.ApiKey", "k")), (("Config", "[1]"),)):
        with pytest.raises(InvalidArgument) as caught:
            flat(*pairs).json_object("Config")
        assert field_of(caught) == "Config"


@pytest.mark.parametrize(("text", "value"), [("True", True), ("true", True), ("False", False)])
def test_booleans_in_python_and_json_spelling(text: str, value: bool) -> None:
    assert params(HasModel=text).boolean("HasModel") is value
    assert params(HasModel="false").boolean("HasModel") is False
    assert params().boolean("HasModel") is None


@pytest.mark.parametrize("text", ["TRUE", "1", "yes", "", "false "])
def test_anything_else_is_not_a_boolean(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        params(HasModel=text).boolean("HasModel")
    assert field_of(caught) == "HasModel"


def test_integers_are_decimal_and_32_bit() -> None:
    assert params(BizType="3").integer("BizType") == 3
    assert params(BizType="-1").integer("BizType") == -1
    assert params(BizType=str(2**31 - 1)).integer("BizType") == 2**31 - 1
    assert params().integer("BizType") is None
    for bad in ("1.5", "x", "", " 1", "1e3", str(2**31), "9" * 30):
        with pytest.raises(InvalidArgument) as caught:
            params(BizType=bad).integer("BizType")
        assert field_of(caught) == "BizType"


@pytest.mark.parametrize("given", [{}, {"Name": ""}, {"Name": "  "}])
def test_required_text_must_be_present_and_not_blank(given: dict[str, str]) -> None:
    with pytest.raises(RpcError) as caught:
        Params(given).required("Name")
    assert caught.value.status == 400
    assert caught.value.code == "MissingParameter"
    assert "Name" in caught.value.message
    assert params(Name="n").required("Name") == "n"


def test_paging_reads_zero_and_one_as_the_first_page() -> None:
    assert paging(params(PageNumber="0", PageSize="5")) == paging(
        params(PageNumber="1", PageSize="5")
    )
    assert paging(params(PageNumber="3", PageSize="5")).offset == 10
    for name, bad in (("PageNumber", "-1"), ("PageSize", "0"), ("PageSize", "x")):
        with pytest.raises(InvalidArgument) as caught:
            paging(params(**{name: bad}))
        assert field_of(caught) == name
