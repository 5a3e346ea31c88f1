"""The formats of dynamic parameters (the strict `.properties` grammar above all) and the
rules of a batch that need no store."""

from __future__ import annotations

import pytest

from modelplane.domain.config_formats import ConfigFormat, format_problem, properties_problem
from modelplane.domain.configs import BATCH_BYTES_MAX, ConfigWrite, WriteOp, check_batch
from modelplane.domain.errors import InvalidArgument


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n   \n",
        "# only a comment \\\n",  # a comment's trailing backslash continues nothing
        "a=1",
        "a = 1",
        "a:1",
        "a 1",
        "a\t1",
        "a\f1",
        "a=",
        "a =",
        "a ",
        "a\\=b=1",  # an escaped separator belongs to the key
        "a\\ b=1",
        "a\\:b: 1",
        "a=1\\\n  # not a comment: the value goes on\n",
        "a=1\\\\\nb=2",  # an even run of backslashes ends the line
        "a=one \\\n    two \\\n    three\n",
        "k=\\u00e9\\u00E9",
        "k=\\\\u",  # an escaped backslash, then a plain `u`
        "k=\\t\\n\\r\\f\\x",
        "a=1\r\nb=2\rc=3\n",
        "  ! comment\n  # comment\n",
    ],
)
def test_a_properties_text_java_reads_and_nothing_looks_wrong_in_is_accepted(text: str) -> None:
    assert properties_problem(text) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a", "the key 'a' has no `=`, `:` or whitespace and value after it at line 1, col"),
        ("a=1\n\n  key", "the key 'key' has no `=`"),
        ("=1", "an empty key at line 1, column 1"),
        (":1", "an empty key"),
        ("k=\\u00", "needs four hex digits at line 1, column 3"),
        ("k=ab\\\n   cd\\u12x4", "needs four hex digits at line 2, column 6"),
        ("k\\u=1", "needs four hex digits at line 1, column 2"),
        ("a=1\\", "the line continuation at line 1, column 4 continues nothing"),
        ("a=1\nb=\\\\\\", "continues nothing"),
        ("a=1\nb=2\na:3", "the key 'a' at line 3, column 1 repeats the one at line 1, column 1"),
        ("a\\u0062=1\nab=2", "the key 'ab' at line 2, column 1 repeats"),
    ],
)
def test_a_properties_text_that_is_surely_a_mistake_is_refused_with_its_place(
    text: str, said: str
) -> None:
    problem = properties_problem(text)
    assert problem is not None and said in problem, problem


def test_text_takes_anything_and_every_format_names_itself() -> None:
    assert format_problem("{[ not json", ConfigFormat.TEXT) is None
    assert (format_problem("{", ConfigFormat.JSON) or "").startswith("must be valid JSON: ")
    assert (format_problem("{", ConfigFormat.YAML) or "").startswith("must be valid YAML: ")
    assert (format_problem("x", ConfigFormat.PROPERTIES) or "").startswith(
        "must be valid properties: "
    )


def test_a_batch_names_every_bad_item_and_keeps_the_good_ones_in_order() -> None:
    good = check_batch([ConfigWrite("a", value="1", format="json"), ConfigWrite("b", op="delete")])
    assert [(w.index, w.key, w.op, w.value, w.format) for w in good] == [
        (0, "a", WriteOp.SET, "1", ConfigFormat.JSON),
        (1, "b", WriteOp.DELETE, None, None),
    ]
    with pytest.raises(InvalidArgument) as caught:
        check_batch(
            [
                ConfigWrite("a", value="1"),
                ConfigWrite(7, value="1"),
                ConfigWrite("a", value="2"),
                ConfigWrite("c", op="delete", format="json"),
                ConfigWrite("d", op=None),
            ]
        )
    assert [(v.field, v.rule) for v in caught.value.violations] == [
        ("items.1.key", "must match ^[A-Za-z0-9._/-]{1,100}$"),
        ("items.2.key", "repeats items.0: a key once per batch"),
        ("items.3.format", "must be absent for a delete"),
        ("items.4.op", "must be `set` or `delete`"),
    ]


def test_a_batch_whose_values_are_too_large_together_is_refused_naming_items() -> None:
    each = "v" * (64 * 1024)
    items = [ConfigWrite(f"k{n}", value=each) for n in range(BATCH_BYTES_MAX // len(each) + 1)]
    with pytest.raises(InvalidArgument) as caught:
        check_batch(items)
    assert [v.field for v in caught.value.violations] == ["items"]
