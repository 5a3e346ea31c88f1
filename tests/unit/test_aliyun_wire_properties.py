"""Properties of the Alibaba request parsers (no I/O): query and form pairs, RPC parameters.

Whatever arrives, the parsers return values or refuse with `InvalidArgument` (or the
RPC face's own `MissingParameter`); nothing else escapes them.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import quote, quote_from_bytes, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.text import NUL_RULE, UTF8_RULE
from modelplane.faces.aliyun.rpc.errors import RpcError
from modelplane.faces.aliyun.rpc.wire import Params, merged, paging
from modelplane.faces.aliyun.transport import parse_pairs, single_values

FAST = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
REFUSALS = (InvalidArgument, RpcError)

# Storable text: lone surrogates and NUL are refused where text enters (see below).
text = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
names = st.text(text, min_size=0, max_size=30)
values = st.text(text, max_size=60) | st.text(text, max_size=3000).map(lambda s: s * 3)
pairs = st.lists(st.tuples(names, values), max_size=12)


def encode(items: list[tuple[str, str]], plus: bool) -> str:
    """As a form or query: `+` or `%20` for spaces, everything else percent-encoded."""
    code = quote_plus if plus else (lambda s: quote(s, safe=""))
    return "&".join(f"{code(name)}={code(value)}" for name, value in items)


@FAST
@given(pairs, st.booleans())
def test_pairs_survive_either_encoding_of_spaces(items: list[tuple[str, str]], plus: bool) -> None:
    decoded = parse_pairs(encode(items, plus), "Body")
    # An empty field (`&&`) is no pair; `=` alone is the pair ("", "").
    assert decoded == items


@FAST
@given(pairs, st.integers(min_value=0, max_value=11), st.booleans(), st.booleans())
def test_a_nul_in_a_name_or_value_is_refused_naming_it(
    items: list[tuple[str, str]], at: int, in_name: bool, plus: bool
) -> None:
    items = [*items, ("k", "v")]
    name, value = items[at % len(items)]
    poisoned = (name + "\x00", value) if in_name else (name, "\x00" + value)
    items[at % len(items)] = poisoned
    with pytest.raises(InvalidArgument) as caught:
        parse_pairs(encode(items, plus), "Body")
    field = "Body" if in_name else poisoned[0]
    assert [(v.field, v.rule) for v in caught.value.violations] == [(field, NUL_RULE)]


# What a client may put between `&`s: escapes that are not UTF-8 or not escapes at all,
# fields without `=`, stray `+`, `%`, control characters.
junk = st.sampled_from(
    ["", "=", "%", "%%", "%G1=2", "a=%", "%FF=1", "x=%C3%28", "+=+", "a", "a==b", "%00=%00"]
)
raw_bytes = st.binary(max_size=40).map(lambda b: quote_from_bytes(b, safe="=&+%"))
fields = st.lists(junk | raw_bytes | st.text(max_size=20), max_size=10)


@FAST
@given(fields)
def test_any_query_text_is_pairs_or_invalid_argument(parts: list[str]) -> None:
    text = "&".join(parts)
    try:
        decoded = parse_pairs(text, "Query")
    except InvalidArgument as exc:
        (refused,) = exc.violations
        # Malformed text names the query; a value that is not UTF-8 or holds NUL, its name.
        assert refused.field == "Query" or refused.rule in (NUL_RULE, UTF8_RULE)
        return
    for name, value in decoded:
        assert isinstance(name, str)
        assert isinstance(value, str)


@FAST
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "A"]), st.sampled_from(["1", "2", ""]))))
def test_a_name_twice_is_one_value_or_refused(items: list[tuple[str, str]]) -> None:
    try:
        values = single_values(items)
    except InvalidArgument:
        assert any(v1 != v2 for n1, v1 in items for n2, v2 in items if n1 == n2), (
            "refused without two different values"
        )
        return
    assert values == dict(items)


# RPC parameter names as clients send them: flattened lists with odd indices, objects,
# JSON text, page numbers.
BASES = ["LlmTemplateItems", "LlmTemplateIds", "RuntimeIds", "Config"]
FIELDS = ["", "LlmCode", "IsDefaultModel", "Config", "Name", "ApiKey", "x.y"]
INDICES = ["1", "2", "3", "0", "01", "-1", "a", "", "999999", "1000000", "1 "]


@st.composite
def flattened_name(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(BASES))
    index = draw(st.sampled_from(INDICES))
    name = f"{base}.{index}" if draw(st.booleans()) or base != "Config" else base
    tail = draw(st.sampled_from(FIELDS))
    return f"{name}.{tail}" if tail else name


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(text, max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(text, max_size=8), inner),
    max_leaves=12,
)


def deep(depth: int, kind: str) -> str:
    opener, closer = ("[", "]") if kind == "list" else ('{"a":', "}")
    return opener * depth + "1" + closer * depth


param_values = st.one_of(
    st.text(max_size=40),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.sampled_from(["true", "True", "false", "FALSE", "1", "", " ", "null", "[]", "{}"]),
    st.sampled_from(["1e999999", "9" * 5000, "-0", "2147483648", "-2147483649", "0x10"]),
    st.tuples(st.integers(1, 20_000), st.sampled_from(["list", "object"])).map(lambda t: deep(*t)),
)
params = st.dictionaries(
    flattened_name() | st.sampled_from(["PageNumber", "PageSize", "IsDefaultModel"]),
    param_values,
    max_size=8,
)


def read_everything(p: Params) -> None:
    """Every reading the RPC operations make of a parameter set."""
    for base in BASES:
        for reader in (p.strings, p.objects, p.json_object):
            try:
                found: Any = reader(base)
            except REFUSALS:
                continue
            if reader is p.objects and found:
                for item in found:
                    for name in ("LlmCode", "Config", "IsDefaultModel"):
                        try:
                            item.text(name)
                            item.json_object(name)
                            item.boolean(name)
                        except REFUSALS:
                            pass
    for name in ("PageNumber", "PageSize", "IsDefaultModel"):
        for read_scalar in (p.integer, p.boolean, p.required):
            with contextlib.suppress(*REFUSALS):
                read_scalar(name)
    with contextlib.suppress(*REFUSALS):
        paging(p)


@FAST
@given(params)
def test_rpc_parameters_are_read_or_refused(values: dict[str, str]) -> None:
    read_everything(Params(values))


@FAST
@given(params, params)
def test_query_and_form_merge_or_refuse(query: dict[str, str], form: dict[str, str]) -> None:
    try:
        p = merged(query.items(), form.items())
    except InvalidArgument:
        assert any(query[k] != form[k] for k in query.keys() & form.keys())
        return
    assert dict(p.values) == query | form
    read_everything(p)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.text(text, max_size=10), json_values), min_size=1, max_size=6))
def test_objects_as_json_text_or_flattened_read_alike(items: list[tuple[str, Any]]) -> None:
    objects = [{"LlmCode": code, "IsDefaultModel": flag} for code, flag in items]
    as_json = Params({"LlmTemplateItems": json.dumps(objects)}).objects("LlmTemplateItems")
    assert as_json is not None
    flat_values = {}
    for n, obj in enumerate(as_json, start=1):
        for key, value in obj.values.items():
            flat_values[f"LlmTemplateItems.{n}.{key}"] = value
    if not flat_values:
        return
    as_flat = Params(flat_values).objects("LlmTemplateItems")
    assert as_flat is not None
    # Objects without fields vanish from the flattened form; the rest read alike.
    assert [dict(o.values) for o in as_flat] == [dict(o.values) for o in as_json if o.values]
