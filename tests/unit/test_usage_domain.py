"""What a call costs, how its tokens are counted per API family, how records sum into daily
rollups, and what a usage query may ask (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.gateway import ApiFamily
from modelplane.domain.known_models import lookup_model, parse_catalog
from modelplane.domain.prices import Prices, Tokens, check_cost, prices_of
from modelplane.domain.usage import (
    DAY_MS,
    NAME_MAX,
    NO_ANSWER,
    GroupBy,
    RollupKey,
    Totals,
    UsageRecord,
    connection_prices,
    monthly,
    parse_group_by,
    record_query,
    rollup,
    spans,
    tokens_of,
    usage_filter,
    usage_query,
    usage_record,
)
from modelplane.faces.gateway.sse import Usage

GPT_4O = Prices(input=2.5, output=10, cache_read=1.25)
SONNET = Prices(input=3, output=15, cache_read=0.3, cache_write=3.75)


def test_openai_cached_tokens_are_part_of_the_input_and_cost_the_cache_price() -> None:
    tokens = tokens_of(
        ApiFamily.OPENAI, input_tokens=1000, output_tokens=100, cache_read=400, cache_write=None
    )
    assert tokens == Tokens(input=1000, output=100, cache_read=400, cache_write=0)
    # 600 uncached at 2.5, 400 cached at 1.25, 100 out at 10: $0.003
    assert GPT_4O.cost_nanos(tokens) == 3_000_000


def test_anthropic_cache_reads_and_writes_are_added_to_its_input() -> None:
    tokens = tokens_of(
        ApiFamily.ANTHROPIC, input_tokens=100, output_tokens=50, cache_read=1000, cache_write=200
    )
    assert tokens == Tokens(input=1300, output=50, cache_read=1000, cache_write=200)
    # 100 at 3, 1000 at 0.3, 200 at 3.75 and 50 at 15 per million: $0.0021
    assert SONNET.cost_nanos(tokens) == 2_100_000


def test_a_price_without_cache_prices_counts_cached_tokens_at_the_input_price() -> None:
    tokens = Tokens(input=1000, output=0, cache_read=500, cache_write=500)
    assert Prices(input=1, output=1).cost_nanos(tokens) == 1_000_000


def test_a_few_tokens_at_a_cheap_price_still_cost_something() -> None:
    assert Prices(input=0.05, output=0.4).cost_nanos(Tokens(input=1, output=0)) == 50


def test_a_free_model_costs_zero_and_an_unpriced_one_has_no_cost() -> None:
    free = prices_of({"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0})
    assert free is not None and free.cost_nanos(Tokens(input=10, output=10)) == 0
    record = usage_record(
        at=0,
        principal_id="p",
        api_key_id=None,
        model="m",
        member=None,
        operation="chat/completions",
        status=200,
        streamed=False,
        tokens=Tokens(input=10, output=10),
        prices=None,
        latency_us=5,
    )
    assert record.cost_nanos is None


@pytest.mark.parametrize(
    ("cost", "fields"),
    [
        ("cheap", ["clientConfig.cost"]),
        ({"input": 1}, ["clientConfig.cost.output"]),
        ({"input": -1, "output": 1}, ["clientConfig.cost.input"]),
        ({"input": True, "output": 1}, ["clientConfig.cost.input"]),
        ({"input": 1, "output": 2e6}, ["clientConfig.cost.output"]),
        ({"input": 1, "output": 1, "imput": 1}, ["clientConfig.cost.imput"]),
        ({"input": 1, "output": 1, "cacheRead": "0.1"}, ["clientConfig.cost.cacheRead"]),
    ],
)
def test_a_cost_that_breaks_a_rule_names_its_field(cost: Any, fields: list[str]) -> None:
    errors = ViolationCollector()
    check_cost(cost, "clientConfig.cost", errors)
    assert [v.field for v in errors.violations] == fields
    assert prices_of(cost) is None  # a stored one that breaks a rule: no price, not free


def test_the_wuying_seed_cost_is_a_valid_price() -> None:
    errors = ViolationCollector()
    seed = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}
    check_cost(seed, "config.cost", errors)
    assert errors.violations == []
    assert prices_of(seed) == Prices(0, 0, 0, 0)


def test_a_connection_override_beats_the_list_price_and_a_broken_one_gives_none() -> None:
    listed = connection_prices(None, "gpt-4o-2024-08-06")
    assert listed == GPT_4O
    own = connection_prices({"cost": {"input": 1, "output": 2}}, "gpt-4o")
    assert own == Prices(input=1, output=2)
    assert connection_prices({"cost": {"input": 1}}, "gpt-4o") is None
    assert connection_prices({"weight": 2}, "my-local-model") is None


def test_known_model_prices_are_dated_and_checked() -> None:
    known = lookup_model("claude-sonnet-4-5-20250929")
    assert known is not None and known.prices == SONNET
    assert known.prices_as_of is not None and len(known.prices_as_of) == 10
    unpriced = lookup_model("qwen-max")
    assert unpriced is not None and unpriced.prices is None
    entry = {
        "match": ["some-model"],
        "family": "openai",
        "providerType": "OPENAI",
        "endpointUrl": None,
        "maxContextLength": 1000,
        "modalities": ["TEXT"],
        "capabilities": {
            name: True
            for name in (
                "supportsChat",
                "supportsCompletion",
                "supportsFunctionCalling",
                "supportsSystemMessages",
                "supportsStreaming",
                "supportsSamplingParameters",
            )
        },
    }
    with pytest.raises(ValueError, match="asOf"):
        parse_catalog([entry | {"prices": {"input": 1, "output": 1}}])
    with pytest.raises(ValueError, match=r"prices\.output"):
        parse_catalog([entry | {"prices": {"input": 1, "asOf": "2025-12-01"}}])


def test_the_relay_reads_cached_tokens_of_every_family() -> None:
    openai = Usage()
    openai.take(
        {"prompt_tokens": 10, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 4}}
    )
    assert (openai.input_tokens, openai.cache_read_tokens) == (10, 4)
    responses = Usage()
    responses.take({"input_tokens": 9, "input_tokens_details": {"cached_tokens": 3}})
    assert responses.cache_read_tokens == 3
    anthropic = Usage()
    anthropic.take(
        {"input_tokens": 5, "cache_read_input_tokens": 50, "cache_creation_input_tokens": 7}
    )
    anthropic.take({"output_tokens": 6})  # message_delta: keeps what message_start said
    assert (anthropic.input_tokens, anthropic.cache_read_tokens) == (5, 50)
    assert (anthropic.cache_write_tokens, anthropic.output_tokens) == (7, 6)
    deepseek = Usage()
    deepseek.take({"prompt_tokens": 8, "prompt_cache_hit_tokens": 6})
    assert deepseek.cache_read_tokens == 6


def record(**changes: Any) -> UsageRecord:
    base = UsageRecord(
        at=10 * DAY_MS + 5,
        principal_id="p-1",
        api_key_id="k-1",
        model="gpt",
        member="llm/1",
        operation="chat/completions",
        status=200,
        streamed=False,
        tokens=Tokens(input=10, output=5, cache_read=2),
        cost_nanos=100,
        latency_us=1000,
    )
    return replace(base, **changes)


def test_records_of_one_day_key_model_member_and_status_sum_into_one_rollup_row() -> None:
    sums = rollup(
        [
            record(),
            record(at=11 * DAY_MS - 1, streamed=True),
            record(cost_nanos=None),
            record(at=11 * DAY_MS),  # the next day
            record(status=429),
            record(api_key_id=None, member=None),
        ]
    )
    key = RollupKey(10, "p-1", "k-1", "gpt", "llm/1", 200)
    assert sums[key] == Totals(
        calls=3,
        streamed_calls=1,
        input_tokens=30,
        output_tokens=15,
        cache_read_tokens=6,
        cache_write_tokens=0,
        cost_nanos=200,
        unpriced_calls=1,
        latency_us=3000,
    )
    assert sums[RollupKey(10, "p-1", "", "gpt", "", 200)].calls == 1
    assert {k.day for k in sums} == {10, 11}
    assert len(sums) == 4


def test_merging_totals_adds_every_sum_and_a_cost_is_none_only_when_nothing_had_a_price() -> None:
    first = Totals(calls=2, cost_nanos=500, unpriced_calls=1, input_tokens=3)
    first.merge(Totals(calls=1, cost_nanos=0, unpriced_calls=0, input_tokens=4))
    assert (first.calls, first.cost_nanos, first.unpriced_calls, first.input_tokens) == (
        3,
        500,
        1,
        7,
    )
    assert first.cost == pytest.approx(5e-7)
    assert Totals(calls=2, unpriced_calls=2).cost is None
    assert Totals().cost == 0.0


def test_a_record_without_an_answer_is_499_and_long_names_are_cut() -> None:
    made = usage_record(
        at=1,
        principal_id="p",
        api_key_id=None,
        model="m" * 600,
        member="x" * 600,
        operation="chat/completions",
        status=0,
        streamed=True,
        tokens=Tokens(),
        prices=GPT_4O,
        latency_us=-3,
    )
    assert made.status == NO_ANSWER
    assert (len(made.model), len(made.member or "")) == (NAME_MAX, NAME_MAX)
    assert (made.cost_nanos, made.latency_us) == (0, 0)


def test_groups_are_kept_in_group_order_and_an_unknown_one_names_group_by() -> None:
    errors = ViolationCollector()
    assert parse_group_by(["model,day", "key"], errors) == (GroupBy.DAY, GroupBy.KEY, GroupBy.MODEL)
    assert errors.violations == []
    parse_group_by(["model,tenant"], errors)
    assert [v.field for v in errors.violations] == ["groupBy"]


def query(**given: Any) -> Any:
    errors = ViolationCollector()
    flt = usage_filter(
        principal_id=given.pop("principal_id", None),
        api_key_id=None,
        model=None,
        status=given.pop("status", None),
        errors=errors,
    )
    made = usage_query(
        today=20_000,
        group_by=given.pop("group_by", ()),
        first=given.pop("first", None),
        last=given.pop("last", None),
        flt=flt,
        page_size=given.pop("page_size", None),
        errors=errors,
    )
    errors.raise_if_any()
    return made


def test_a_report_covers_the_last_30_days_by_default_and_at_most_366() -> None:
    made = query()
    assert (made.first_day, made.last_day) == (20_000 - 29, 20_000)
    assert (
        query(first="2025-01-01", last="2025-12-31").last_day == query(last="2025-12-31").last_day
    )
    with pytest.raises(InvalidArgument) as raised:
        query(first="2024-01-01", last="2025-01-02")
    assert [v.field for v in raised.value.violations] == ["to"]


def test_a_status_filter_is_one_status_or_a_class() -> None:
    assert query(status="5xx").filter.status.low == 500
    assert query(status="5xx").filter.status.high == 599
    assert query(status="429").filter.status.low == 429
    with pytest.raises(InvalidArgument) as raised:
        query(status="6xx", page_size=5000, principal_id="")
    assert [v.field for v in raised.value.violations] == ["principalId", "status", "pageSize"]


def test_a_record_list_covers_the_last_day_by_default_and_at_most_7() -> None:
    errors = ViolationCollector()
    flt = usage_filter(principal_id=None, api_key_id=None, model=None, status=None, errors=errors)
    made = record_query(
        now_ms=DAY_MS * 30, since=None, until=None, flt=flt, page_size=None, errors=errors
    )
    assert (made.until - made.since, errors.violations) == (DAY_MS, [])
    record_query(now_ms=0, since=0, until=8 * DAY_MS, flt=flt, page_size=None, errors=errors)
    assert [v.field for v in errors.violations] == ["until"]


def day(text: str) -> int:
    return (date.fromisoformat(text) - date(1970, 1, 1)).days


@pytest.mark.parametrize(
    ("first", "last", "months", "days"),
    [
        (
            "2026-09-08",
            "2026-12-06",
            ("2026-10-01", "2026-11-01"),
            [("2026-09-08", "2026-09-30"), ("2026-12-01", "2026-12-06")],
        ),
        ("2026-01-01", "2026-12-31", ("2026-01-01", "2026-12-01"), []),
        ("2026-02-01", "2026-02-28", ("2026-02-01", "2026-02-01"), []),
        (
            "2026-01-31",
            "2026-03-01",
            ("2026-02-01", "2026-02-01"),
            [("2026-01-31", "2026-01-31"), ("2026-03-01", "2026-03-01")],
        ),
        ("2025-12-31", "2026-01-31", ("2026-01-01", "2026-01-01"), [("2025-12-31", "2025-12-31")]),
        ("2026-03-05", "2026-03-20", None, [("2026-03-05", "2026-03-20")]),
        ("2024-02-01", "2024-02-28", None, [("2024-02-01", "2024-02-28")]),  # a leap year's
    ],
)
def test_a_range_reads_whole_months_from_the_monthly_sums_and_the_rest_by_day(
    first: str, last: str, months: tuple[str, str] | None, days: list[tuple[str, str]]
) -> None:
    found = spans(day(first), day(last))
    assert found.months == (None if months is None else (day(months[0]), day(months[1])))
    assert found.days == tuple((day(a), day(b)) for a, b in days)


def test_daily_sums_merge_into_their_months() -> None:
    sums = rollup(
        [
            record(at=day("2026-03-31") * DAY_MS),
            record(at=day("2026-03-01") * DAY_MS),
            record(at=day("2026-04-01") * DAY_MS),
        ]
    )
    merged = monthly(sums)
    assert {key.day: totals.calls for key, totals in merged.items()} == {
        day("2026-03-01"): 2,
        day("2026-04-01"): 1,
    }
