"""The rules of limits and budgets: their fields, fixed windows, the upper bound a call
reserves, what a call takes and what it settles (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from modelplane.domain.errors import InvalidArgument, ResourceExhausted
from modelplane.domain.gateway import ApiFamily, Operation, Route, Target
from modelplane.domain.llm_types import SamplingParams
from modelplane.domain.prices import Prices
from modelplane.domain.spend_limits import (
    OUTPUT_TOKENS_DEFAULT,
    TOOLS_ALLOWANCE,
    BudgetPeriod,
    BudgetSpent,
    CallLimits,
    Estimate,
    Limits,
    Metric,
    SubjectKind,
    amount_text,
    beyond,
    cost_bound,
    input_bound,
    minute_window,
    output_bound,
    parse_limits,
    period_window,
    plan,
    refusal,
    settlement,
)
from modelplane.services.spend_guard import Outcome, Reservation, charged, estimate
from modelplane.settings import Settings


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def named(exc: InvalidArgument) -> set[str]:
    return {v.field for v in exc.violations}


def test_limits_parse_and_name_every_broken_field() -> None:
    assert parse_limits(rpm=60, tpm=None, budget="25.00", period="day") == Limits(
        60, None, 25_000_000_000, BudgetPeriod.DAY
    )
    assert parse_limits(rpm=None, tpm=None, budget=0.1, period="month").budget_nanos == 100_000_000
    assert parse_limits(rpm=None, tpm=None, budget=1e-9, period="day").budget_nanos == 1
    with pytest.raises(InvalidArgument) as caught:
        parse_limits(rpm=0, tpm=True, budget="1e-10", period="week")
    assert named(caught.value) == {"rpm", "tpm", "budget", "period"}
    with pytest.raises(InvalidArgument) as caught:
        parse_limits(rpm=None, tpm=None, budget=None, period=None)
    assert named(caught.value) == {"limits"}
    with pytest.raises(InvalidArgument) as caught:
        parse_limits(rpm=None, tpm=None, budget=float("nan"), period="day")
    assert named(caught.value) == {"budget"}


def test_amounts_show_at_least_two_decimals_and_every_nano() -> None:
    assert amount_text(25_000_000_000) == "25.00"
    assert amount_text(123_000) == "0.000123"
    assert amount_text(1) == "0.000000001"


def test_windows_are_the_utc_minute_day_and_calendar_month() -> None:
    now = ms("2026-02-28T23:59:30.250")
    assert minute_window(now).start == ms("2026-02-28T23:59:00")
    assert minute_window(now).end == ms("2026-03-01T00:00:00")
    day = period_window(BudgetPeriod.DAY, now)
    assert (day.start, day.end) == (ms("2026-02-28T00:00:00"), ms("2026-03-01T00:00:00"))
    month = period_window(BudgetPeriod.MONTH, now)
    assert (month.start, month.end) == (ms("2026-02-01T00:00:00"), ms("2026-03-01T00:00:00"))
    december = period_window(BudgetPeriod.MONTH, ms("2026-12-31T12:00:00"))
    assert december.end == ms("2027-01-01T00:00:00")
    assert minute_window(now).left_seconds(now) == 29.75


def test_a_members_key_limits_stay_within_its_principals() -> None:
    principal = Limits(rpm=100, tpm=None, budget_nanos=10, period=BudgetPeriod.MONTH)
    assert beyond(Limits(rpm=100, tpm=5), principal) == []
    assert beyond(Limits(tpm=10**9), principal) == []  # the principal sets no tpm
    over = beyond(Limits(rpm=101, budget_nanos=11, period=BudgetPeriod.DAY), principal)
    assert [v.field for v in over] == ["rpm", "budget"]
    assert beyond(Limits(rpm=10**6), None) == []


def test_the_input_bound_is_the_bodys_bytes_and_tools_add_their_allowance() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "héllo"}]}
    assert input_bound(body, 100) == 100
    assert input_bound({**body, "tools": [{"type": "function"}]}, 100) == 100 + TOOLS_ALLOWANCE


def test_the_output_bound_is_the_most_named_else_the_default_else_the_cap() -> None:
    chat = Operation.CHAT
    assert output_bound({"max_tokens": 10}, chat, 500, 9) == 10
    assert output_bound({"max_tokens": 10, "max_completion_tokens": 30}, chat, None, 9) == 30
    assert output_bound({"max_output_tokens": 7}, Operation.RESPONSES, None, 9) == 7
    assert output_bound({"max_tokens": True}, chat, 500, 9) == 500
    assert output_bound({}, chat, None, 9) == 9
    assert output_bound({"max_tokens": 10}, Operation.EMBEDDINGS, None, 9) == 0


def test_the_cost_bound_takes_the_dearest_input_price_and_rounds_up() -> None:
    prices = Prices(input=1.0, output=2.0, cache_read=0.1, cache_write=1.25)
    # 1000 input at 1.25/M and 500 output at 2/M: 1250 + 1000 = 2250 nano-units per 1e-3.
    assert cost_bound(prices, 1000, 500) == 2_250_000 + 1
    assert cost_bound(Prices(input=0.0, output=0.0), 10, 10) == 1


def limited(key: Limits | None, principal: Limits | None) -> CallLimits:
    return CallLimits("p-1", "k-1", key, principal)


def test_a_call_takes_a_request_checks_tokens_and_reserves_from_each_budget() -> None:
    now = ms("2026-05-10T10:00:30")
    limits = limited(
        Limits(rpm=5, tpm=1000),
        Limits(budget_nanos=5_000, period=BudgetPeriod.DAY),
    )
    takes = plan(limits, Estimate(10, 20, 700), now)
    shown = [(t.kind, t.metric, t.amount, t.cap) for t in takes]
    assert shown == [
        (SubjectKind.API_KEY, Metric.REQUESTS, 1, 5),
        (SubjectKind.API_KEY, Metric.TOKENS, 0, 999),  # refused once 1000 were used
        (SubjectKind.PRINCIPAL, Metric.REQUESTS, 1, None),  # counted, not limited
        (SubjectKind.PRINCIPAL, Metric.SPEND, 700, 5_000),
    ]
    assert takes[0].key == f"api_key:k-1:requests:{ms('2026-05-10T10:00:00')}"
    assert takes[3].key == f"principal:p-1:spend:{ms('2026-05-10T00:00:00')}"
    assert all(t.expires_at > t.window.end for t in takes)


def test_a_settlement_adds_the_real_cost_minus_the_reservation_and_the_tokens() -> None:
    now = ms("2026-05-10T23:59:59")
    limits = limited(Limits(rpm=5), Limits(budget_nanos=5_000, period=BudgetPeriod.DAY))
    takes = plan(limits, Estimate(10, 20, 700), now)
    later = ms("2026-05-11T00:00:02")  # the next day: the reservation's day is settled
    adds = settlement(takes, limits, cost_nanos=250, tokens=33, now_ms=later)
    spend = [a for a in adds if a.metric is Metric.SPEND]
    assert [(a.key, a.amount, a.cap) for a in spend] == [(takes[2].key, -450, None)]
    tokens = [(a.kind, a.amount) for a in adds if a.metric is Metric.TOKENS]
    assert tokens == [(SubjectKind.API_KEY, 33), (SubjectKind.PRINCIPAL, 33)]
    assert all(
        a.window.start == ms("2026-05-11T00:00:00") for a in adds if a.metric is Metric.TOKENS
    )
    exact = settlement(takes, limits, cost_nanos=700, tokens=0, now_ms=later)
    assert exact == []


def test_refusals_say_which_limit_and_wait_for_the_windows_end() -> None:
    now = ms("2026-05-10T10:00:45")
    limits = limited(Limits(rpm=5), Limits(budget_nanos=5_000_000_000, period=BudgetPeriod.MONTH))
    takes = plan(limits, Estimate(10, 20, 700_000_000), now)
    rate = refusal(takes[0], Estimate(0, 0), 5, now)
    assert type(rate) is ResourceExhausted and rate.retry_after_seconds == 15.0
    assert "5 requests per minute" in rate.message and "API key k-1" in rate.message
    budget = refusal(takes[2], Estimate(10, 20, 700_000_000), 4_500_000_000, now)
    assert isinstance(budget, BudgetSpent)
    assert budget.retry_after_seconds == (ms("2026-06-01T00:00:00") - now) / 1000
    assert "budget of 5.00 per month" in budget.message
    assert "0.50 of it is left" in budget.message and "up to 0.70" in budget.message


def target(member: str, prices: Prices | None, max_tokens: int | None = None) -> Target:
    sampling = SamplingParams(max_tokens=max_tokens) if max_tokens is not None else None
    return Target(member, ApiFamily.OPENAI, "http://u", "m", prices=prices, sampling=sampling)


def test_a_budgeted_estimate_takes_the_dearest_member_and_refuses_an_unpriced_one() -> None:
    cheap, dear = Prices(input=1.0, output=1.0), Prices(input=2.0, output=4.0)
    route = Route("pool", (target("a", cheap, 100), target("b", dear, 50)))
    budgeted = limited(None, Limits(budget_nanos=10**9, period=BudgetPeriod.DAY))
    body = {"model": "pool", "messages": []}
    found = estimate(budgeted, route, body, Operation.CHAT, OUTPUT_TOKENS_DEFAULT)
    assert found.output_tokens == 100  # both members have a default: the larger
    assert found.cost_nanos == cost_bound(dear, found.input_tokens, 100)
    rate_only = estimate(limited(Limits(rpm=1), None), route, body, Operation.CHAT, 9)
    assert rate_only.cost_nanos is None
    mixed = Route("pool", (target("a", cheap), target("b", None)))
    with pytest.raises(Exception, match="no price") as caught:
        estimate(budgeted, mixed, body, Operation.CHAT, 9)
    assert type(caught.value).__name__ == "FailedPrecondition"
    assert (
        estimate(budgeted, Route("x", (target("a", cheap),)), body, Operation.CHAT, 9).output_tokens
        == 9
    )


def test_an_ended_call_is_charged_its_usage_else_its_estimate_unless_refused() -> None:
    prices = Prices(input=1.0, output=2.0)
    route = Route("m", (target("a", prices),))
    limits = limited(Limits(rpm=1), None)
    reservation = Reservation(limits, (), Estimate(100, 50, 999))
    reported = Outcome(200, "a", ApiFamily.OPENAI, input_tokens=1000, output_tokens=10)
    cost, tokens = charged(reservation, route, reported)
    assert (cost, tokens) == (1_020_000, 1010)
    assert charged(reservation, route, Outcome(200, "a", ApiFamily.OPENAI)) == (999, 150)
    assert charged(reservation, route, Outcome(0, None, ApiFamily.OPENAI)) == (999, 150)
    assert charged(reservation, route, Outcome(502, "a", ApiFamily.OPENAI)) == (0, 0)
    anthropic = Outcome(
        200, "a", ApiFamily.ANTHROPIC, input_tokens=10, output_tokens=1, cache_read=90
    )
    assert (
        charged(reservation, route, anthropic)[1] == 101
    )  # Anthropic's input leaves out the cache


def test_settings_take_a_redis_url_and_refuse_anything_else() -> None:
    assert Settings(redis_url="redis://127.0.0.1:6379/0").redis_url is not None
    with pytest.raises(ValidationError, match="redis://"):
        Settings(redis_url="http://127.0.0.1:6379")
    with pytest.raises(ValidationError):
        Settings(redis_key_prefix="has space")
    assert Settings().limits_fail_open is False
