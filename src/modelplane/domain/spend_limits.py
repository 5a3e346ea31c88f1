"""Limits and budgets of gateway calls, per principal and per API key.

A subject (a principal, or one of its API keys) may have any of three limits:

- `rpm`: requests per minute;
- `tpm`: tokens per minute (input and output), checked before a call: a call is refused
  once the minute's tokens reached the limit, and its own tokens count when it ends;
- a budget: an amount of money (in the unit of the prices, as integer nano-units like
  `domain/prices.py`) per UTC day or calendar month (UTC).

Windows are fixed: a minute, a UTC day, a calendar month; a refusal's `Retry-After` is the
time to the window's end. A call takes from the key's and the principal's limits at once,
all or nothing (`plan`): one request, a check of the tokens, and a reservation of an upper
bound of its cost (`Estimate`) against each budget. When it ends, `settlement` adds the
real cost minus the reservation, and its tokens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from modelplane.domain.errors import FieldViolation, ResourceExhausted, ViolationCollector
from modelplane.domain.gateway import Operation
from modelplane.domain.prices import NANOS, Prices

MINUTE_MS = 60_000
RPM_MAX = 10_000_000
TPM_MAX = 10_000_000_000
BUDGET_MAX = 1_000_000  # units of money: kept exact in Redis's Lua numbers (< 2**53 nanos)
BUDGET_DECIMALS = 9  # a budget is a whole number of nano-units
# Output tokens a call is assumed to produce when it names no maximum (nor its model a
# default): the reservation's bound; the real usage settles it.
OUTPUT_TOKENS_DEFAULT = 16_384
# Tokens a provider may add to the input for tool definitions (Anthropic's tool prompt is
# a few hundred): added to the bound of a call that sends tools.
TOOLS_ALLOWANCE = 1024
# Counter rows and keys outlive their window this long (late settlements find them).
EXPIRY_SLACK_MS = 10 * MINUTE_MS
_MAX_NAMES = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_PER = 1_000_000  # prices are per this many tokens


class SubjectKind(StrEnum):
    """Whose limits: a principal's (all its keys together) or one API key's."""

    PRINCIPAL = "principal"
    API_KEY = "api_key"

    @property
    def label(self) -> str:
        """How a message names it."""
        return "principal" if self is SubjectKind.PRINCIPAL else "API key"


class BudgetPeriod(StrEnum):
    """The window of a budget (UTC)."""

    DAY = "day"
    MONTH = "month"


class Metric(StrEnum):
    """What a counter counts."""

    REQUESTS = "requests"
    TOKENS = "tokens"
    SPEND = "spend"


class BudgetSpent(ResourceExhausted):
    """A budget cannot take the call: spent, or too little left for its upper bound."""


@dataclass(frozen=True, slots=True)
class Limits:
    """A subject's limits; None: no such limit. A budget always has its period."""

    rpm: int | None = None
    tpm: int | None = None
    budget_nanos: int | None = None
    period: BudgetPeriod | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is limited."""
        return self.rpm is None and self.tpm is None and self.budget_nanos is None


@dataclass(frozen=True, slots=True)
class SubjectLimits:
    """The stored limits of one subject; `principal_id` is the principal they concern."""

    kind: SubjectKind
    subject_id: str
    principal_id: str
    limits: Limits
    updated_at: int

    @property
    def api_key_id(self) -> str | None:
        """The key, for a key's limits."""
        return self.subject_id if self.kind is SubjectKind.API_KEY else None


@dataclass(frozen=True, slots=True)
class CallLimits:
    """What limits one call: its key's and its principal's (None: none set)."""

    principal_id: str
    api_key_id: str
    key: Limits | None = None
    principal: Limits | None = None

    @property
    def subjects(self) -> list[tuple[SubjectKind, str, Limits]]:
        """Each subject with limits, key first."""
        found = []
        if self.key is not None:
            found.append((SubjectKind.API_KEY, self.api_key_id, self.key))
        if self.principal is not None:
            found.append((SubjectKind.PRINCIPAL, self.principal_id, self.principal))
        return found

    @property
    def budgeted(self) -> bool:
        """Whether a budget applies to the call."""
        return any(limits.budget_nanos is not None for _, _, limits in self.subjects)


def _whole(value: Any, name: str, most: int, errors: ViolationCollector) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        errors.add(name, f"must be a whole number from 1 to {most}")
        return None
    return value


def parse_budget(value: Any, errors: ViolationCollector) -> int | None:
    """A budget (a number of units, or its decimal text) in nano-units."""
    if value is None:
        return None
    rule = f"must be an amount of money above 0 and at most {BUDGET_MAX}, with at most 9 decimals"
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        errors.add("budget", rule)
        return None
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        errors.add("budget", rule)
        return None
    if not amount.is_finite() or not 0 < amount <= BUDGET_MAX:
        errors.add("budget", rule)
        return None
    nanos = amount * NANOS
    if nanos != nanos.to_integral_value():
        errors.add("budget", rule)
        return None
    return int(nanos)


def parse_limits(*, rpm: Any, tpm: Any, budget: Any, period: Any) -> Limits:
    """The limits asked for; InvalidArgument names each field and rule broken."""
    errors = ViolationCollector()
    rpm_value = _whole(rpm, "rpm", RPM_MAX, errors)
    tpm_value = _whole(tpm, "tpm", TPM_MAX, errors)
    budget_nanos = parse_budget(budget, errors)
    periods = ", ".join(p.value for p in BudgetPeriod)
    chosen: BudgetPeriod | None = None
    if period is not None:
        if period not in {p.value for p in BudgetPeriod}:
            errors.add("period", f"must be one of {periods}")
        else:
            chosen = BudgetPeriod(period)
    if budget is not None and period is None:
        errors.add("period", f"required with a budget: one of {periods}")
    if period is not None and budget is None:
        errors.add("budget", "required with a period: the amount of money per period")
    if rpm is None and tpm is None and budget is None and period is None:
        errors.add("limits", "set at least one of rpm, tpm and budget (DELETE removes them all)")
    errors.raise_if_any()
    return Limits(rpm_value, tpm_value, budget_nanos, chosen)


def beyond(key: Limits, principal: Limits | None) -> list[FieldViolation]:
    """How a key's limits reach beyond its principal's (a member sets its keys' only
    within them): a limit the key sets must be at most the principal's of the same name
    (a budget by amount, whatever the periods). A limit the key leaves out is the
    principal's anyway: both apply to every call."""
    if principal is None:
        return []
    found = []
    for name, mine, theirs in (
        ("rpm", key.rpm, principal.rpm),
        ("tpm", key.tpm, principal.tpm),
        ("budget", key.budget_nanos, principal.budget_nanos),
    ):
        if mine is not None and theirs is not None and mine > theirs:
            shown = amount_text(theirs) if name == "budget" else str(theirs)
            found.append(FieldViolation(name, f"at most {shown}: the limit of your principal"))
    return found


def amount_text(nanos: int) -> str:
    """Nano-units as a decimal amount, at least two decimals (`25.00`, `0.000123`)."""
    text = f"{Decimal(nanos) / NANOS:.9f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed window: `start <= t < end` (epoch ms)."""

    start: int
    end: int

    def left_seconds(self, now_ms: int) -> float:
        """Seconds until the window ends."""
        return max(0.0, (self.end - now_ms) / 1000)


def minute_window(now_ms: int) -> Window:
    """The UTC minute of `now_ms`."""
    start = now_ms - now_ms % MINUTE_MS
    return Window(start, start + MINUTE_MS)


def period_window(period: BudgetPeriod, now_ms: int) -> Window:
    """The UTC day or calendar month of `now_ms`."""
    moment = datetime.fromtimestamp(now_ms / 1000, UTC)
    if period is BudgetPeriod.DAY:
        first = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        start = int(first.timestamp() * 1000)
        return Window(start, start + 86_400_000)
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    return Window(int(first.timestamp() * 1000), int(following.timestamp() * 1000))


def counter_key(kind: SubjectKind, subject_id: str, metric: Metric, window: Window) -> str:
    """The name of one counter: subject, what it counts, and its window's start."""
    return f"{kind.value}:{subject_id}:{metric.value}:{window.start}"


@dataclass(frozen=True, slots=True)
class Take:
    """Add `amount` to counter `key` if the sum stays at most `cap` (None: always). The
    rest says what a refusal means."""

    key: str
    amount: int
    cap: int | None
    expires_at: int
    kind: SubjectKind
    subject_id: str
    metric: Metric
    window: Window
    limit: int


@dataclass(frozen=True, slots=True)
class Estimate:
    """An upper bound of a call: its tokens, and its cost (None: not needed, or no price)."""

    input_tokens: int
    output_tokens: int
    cost_nanos: int | None = None

    @property
    def tokens(self) -> int:
        """Input and output tokens."""
        return self.input_tokens + self.output_tokens


def input_bound(body: Mapping[str, Any], body_bytes: int) -> int:
    """An upper bound of a call's input tokens: a token is at least one byte of the text
    it stands for, and the body's JSON bytes hold every text sent, with more than a
    message's framing in its own syntax; plus `TOOLS_ALLOWANCE` when it sends tools."""
    return body_bytes + (TOOLS_ALLOWANCE if body.get("tools") else 0)


def output_bound(
    body: Mapping[str, Any], operation: Operation, default_max: int | None, cap: int
) -> int:
    """An upper bound of a call's output tokens: the most it names (`max_tokens`,
    `max_completion_tokens`, `max_output_tokens`), else its model's default maximum, else
    `cap`; none for embeddings."""
    if operation is Operation.EMBEDDINGS:
        return 0
    named = [
        value
        for name in _MAX_NAMES
        if isinstance(value := body.get(name), int) and not isinstance(value, bool) and value >= 0
    ]
    if named:
        return max(named)
    return default_max if default_max is not None else cap


def cost_bound(prices: Prices, input_tokens: int, output_tokens: int) -> int:
    """An upper bound of the cost of these tokens: every input token at the dearest input
    price (cache reads and writes included), rounded up."""
    dearest = max(
        prices.input,
        prices.input if prices.cache_read is None else prices.cache_read,
        prices.input if prices.cache_write is None else prices.cache_write,
    )
    total = input_tokens * dearest + output_tokens * prices.output
    return math.ceil(total * NANOS / _PER) + 1  # + 1: float rounding never undercounts


def plan(limits: CallLimits, estimate: Estimate, now_ms: int) -> list[Take]:
    """What a call takes from its counters, all or nothing: a request from each `rpm`,
    a check of each `tpm` (refused once the minute's tokens reached it), its cost's bound
    from each budget."""
    minute = minute_window(now_ms)
    takes = []
    for kind, subject_id, own in limits.subjects:
        # Requests are counted even without an rpm: GET shows the minute's requests.
        takes.append(_take(kind, subject_id, Metric.REQUESTS, minute, 1, own.rpm, own.rpm or 0))
        if own.tpm is not None:
            takes.append(_take(kind, subject_id, Metric.TOKENS, minute, 0, own.tpm - 1, own.tpm))
        if own.budget_nanos is not None and own.period is not None:
            window = period_window(own.period, now_ms)
            cost, budget = estimate.cost_nanos or 0, own.budget_nanos
            takes.append(_take(kind, subject_id, Metric.SPEND, window, cost, budget, budget))
    return takes


def _take(
    kind: SubjectKind,
    subject_id: str,
    metric: Metric,
    window: Window,
    amount: int,
    cap: int | None,
    limit: int,
) -> Take:
    key = counter_key(kind, subject_id, metric, window)
    expires = window.end + EXPIRY_SLACK_MS
    return Take(key, amount, cap, expires, kind, subject_id, metric, window, limit)


def settlement(
    reserved: Sequence[Take],
    limits: CallLimits,
    *,
    cost_nanos: int,
    tokens: int,
    now_ms: int,
) -> list[Take]:
    """What a call adds when it ends: to each budget it reserved from, its cost minus the
    reservation; to each subject's minute, its tokens. Never refused."""
    minute = minute_window(now_ms)
    adds = [
        _take(t.kind, t.subject_id, t.metric, t.window, cost_nanos - t.amount, None, t.limit)
        for t in reserved
        if t.metric is Metric.SPEND and cost_nanos != t.amount
    ]
    if tokens > 0:
        for kind, subject_id, _ in limits.subjects:
            adds.append(_take(kind, subject_id, Metric.TOKENS, minute, tokens, None, 0))
    return adds


def refusal(take: Take, estimate: Estimate, used: int | None, now_ms: int) -> ResourceExhausted:
    """The error of a call `take` refused (`used`: the counter's value, if known)."""
    who = f"{take.kind.label} {take.subject_id}"
    wait = take.window.left_seconds(now_ms)
    resets = datetime.fromtimestamp(take.window.end / 1000, UTC).isoformat(timespec="seconds")
    if take.metric is Metric.REQUESTS:
        return ResourceExhausted(
            f"rate limit reached: {who} may make {take.limit} requests per minute; "
            f"retry in {math.ceil(wait)} s",
            retry_after_seconds=wait,
        )
    if take.metric is Metric.TOKENS:
        return ResourceExhausted(
            f"token limit reached: {who} may use {take.limit} tokens per minute; "
            f"retry in {math.ceil(wait)} s",
            retry_after_seconds=wait,
        )
    left = max(0, take.limit - used) if used is not None else None
    shown_left = f"{amount_text(left)} of it is left" if left is not None else "too little is left"
    return BudgetSpent(
        f"budget spent: {who} has a budget of {amount_text(take.limit)} per "
        f"{_period_name(take.window)}; {shown_left}, and this call may cost up to "
        f"{amount_text(estimate.cost_nanos or 0)} (a lower max_tokens lowers that); "
        f"the budget resets at {resets}",
        retry_after_seconds=wait,
    )


def _period_name(window: Window) -> str:
    return "day" if window.end - window.start == 86_400_000 else "month"
