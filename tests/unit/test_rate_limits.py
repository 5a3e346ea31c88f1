"""Rate limits per principal: the token bucket (with a hand-driven clock), the settings
that configure it, the headers each face sends, and the SDK reading `Retry-After`."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from modelplane.app import rate_limiter
from modelplane.client.errors import ModelplaneError, ResourceExhausted, error_from_response
from modelplane.domain import errors as domain
from modelplane.faces.aliyun.errors import throttling_headers
from modelplane.faces.native.errors import render, retry_after_header
from modelplane.security.rate_limits import RateLimit, RateLimiter
from modelplane.settings import Settings


class Clock:
    """Seconds that move only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter(
    per_second: float = 5, burst: int = 5, clock: Clock | None = None, **overrides: RateLimit | None
) -> tuple[RateLimiter, Clock]:
    clock = clock or Clock()
    return RateLimiter(RateLimit(per_second, burst), overrides, clock=clock), clock


def served(rates: RateLimiter, principal_id: str, n: int) -> int:
    """How many of `n` requests in a row (no time passing) get through."""
    return sum(rates.acquire(principal_id) == 0.0 for _ in range(n))


def test_a_full_bucket_serves_the_burst_then_refuses_with_the_wait_for_one_token() -> None:
    rates, _ = limiter(per_second=5, burst=5)
    assert served(rates, "p-1", 5) == 5
    assert rates.acquire("p-1") == pytest.approx(0.2)
    with pytest.raises(domain.ResourceExhausted) as caught:
        rates.check("p-1")
    assert caught.value.retry_after_seconds == pytest.approx(0.2)
    assert "5 requests per second (burst 5)" in caught.value.message


def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst() -> None:
    rates, clock = limiter(per_second=5, burst=5)
    assert served(rates, "p-1", 6) == 5
    clock.advance(0.1)  # half a token
    assert rates.acquire("p-1") == pytest.approx(0.1)
    clock.advance(0.1)
    assert served(rates, "p-1", 2) == 1
    clock.advance(3600)  # an hour idle still fills only the burst
    assert served(rates, "p-1", 10) == 5


def test_waiting_the_announced_time_is_enough() -> None:
    rates, clock = limiter(per_second=3, burst=2)
    assert served(rates, "p-1", 2) == 2
    for _ in range(20):
        wait = rates.acquire("p-1")
        assert wait > 0
        clock.advance(wait)
        assert rates.acquire("p-1") == 0.0


def test_a_refused_request_takes_no_token() -> None:
    rates, clock = limiter(per_second=1, burst=1)
    assert served(rates, "p-1", 1) == 1
    assert served(rates, "p-1", 100) == 0  # hammering does not push the wait out
    clock.advance(1.0)
    assert served(rates, "p-1", 1) == 1


def test_principals_have_buckets_of_their_own() -> None:
    rates, _ = limiter(per_second=1, burst=2)
    assert served(rates, "p-1", 5) == 2
    assert served(rates, "p-2", 5) == 2


def test_overrides_give_one_principal_another_limit_or_none() -> None:
    rates, _ = limiter(per_second=1, burst=2, vip=RateLimit(100, 50), robot=None)
    assert served(rates, "p-1", 100) == 2
    assert served(rates, "vip", 100) == 50
    assert served(rates, "robot", 1000) == 1000
    assert rates.limit_for("robot") is None
    assert len(rates) == 2  # no bucket for the unlimited principal


def test_no_default_limits_only_the_overridden() -> None:
    clock = Clock()
    rates = RateLimiter(None, {"slow": RateLimit(1, 1)}, clock=clock)
    assert rates.enabled
    assert served(rates, "anyone", 1000) == 1000
    assert served(rates, "slow", 3) == 1
    assert not RateLimiter(None, {"x": None}).enabled


def test_a_clock_that_steps_back_gives_no_tokens() -> None:
    rates, clock = limiter(per_second=1, burst=1)
    assert served(rates, "p-1", 1) == 1
    clock.advance(-50)
    assert served(rates, "p-1", 1) == 0
    clock.advance(1)  # one second after the last request, not after the step back
    assert served(rates, "p-1", 1) == 1


def test_buckets_of_idle_principals_are_dropped() -> None:
    clock = Clock()
    rates = RateLimiter(RateLimit(10, 20), clock=clock, sweep_interval=30)
    for n in range(1000):
        rates.acquire(f"p-{n}")
    assert len(rates) == 1000
    clock.advance(0.05)  # half a token short of full: nothing is dropped early
    assert rates.sweep() == 0
    clock.advance(30)  # the next request after the interval sweeps the full buckets
    rates.acquire("active")
    assert len(rates) == 1


def test_dropping_a_full_bucket_changes_nothing_for_its_principal() -> None:
    clock = Clock()
    rates = RateLimiter(RateLimit(2, 4), clock=clock, sweep_interval=0)
    assert served(rates, "p-1", 4) == 4
    clock.advance(1.0)  # two tokens back: kept
    assert rates.sweep() == 0
    assert served(rates, "p-1", 3) == 2
    clock.advance(2.0)  # full again: dropped, and a new bucket is as full as the old one
    assert rates.sweep() == 1
    assert served(rates, "p-1", 5) == 4


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 1), (float("inf"), 1), (1, 0)])
def test_a_rate_limit_must_be_positive(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError, match=r"per_second|burst"):
        RateLimit(per_second, burst)


# Settings


def test_the_defaults_do_not_bother_normal_use(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PER_SECOND", "BURST", "OVERRIDES"):
        monkeypatch.delenv(f"MODELPLANE_RATE_LIMIT_{name}", raising=False)
    settings = Settings()
    assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (50, 100)
    rates = rate_limiter(settings)
    assert rates.default == RateLimit(50, 100)
    assert rates.overrides == {}


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPLANE_RATE_LIMIT_PER_SECOND", "0")
    monkeypatch.setenv("MODELPLANE_RATE_LIMIT_BURST", "7")
    monkeypatch.setenv(
        "MODELPLANE_RATE_LIMIT_OVERRIDES",
        '{"p-fast": 200, "p-slow": {"perSecond": 0.5, "burst": 2}, "p-free": 0}',
    )
    rates = rate_limiter(Settings())
    assert rates.default is None
    assert rates.overrides == {
        "p-fast": RateLimit(200, 7),  # a number keeps MODELPLANE_RATE_LIMIT_BURST
        "p-slow": RateLimit(0.5, 2),
        "p-free": None,
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MODELPLANE_RATE_LIMIT_PER_SECOND", "-1"),
        ("MODELPLANE_RATE_LIMIT_PER_SECOND", "nan"),
        ("MODELPLANE_RATE_LIMIT_PER_SECOND", "inf"),
        ("MODELPLANE_RATE_LIMIT_PER_SECOND", "fast"),
        ("MODELPLANE_RATE_LIMIT_BURST", "0"),
        ("MODELPLANE_RATE_LIMIT_BURST", "-5"),
        ("MODELPLANE_RATE_LIMIT_OVERRIDES", '{"p-1": -1}'),
        ("MODELPLANE_RATE_LIMIT_OVERRIDES", '{"p-1": {"perSecond": 1}}'),
        ("MODELPLANE_RATE_LIMIT_OVERRIDES", '{"p-1": {"perSecond": 1, "burst": 0}}'),
        ("MODELPLANE_RATE_LIMIT_OVERRIDES", '{"p-1": {"perSecond": 1, "burst": 1, "x": 1}}'),
        ("MODELPLANE_RATE_LIMIT_OVERRIDES", '{" ": 5}'),
        ("MODELPLANE_RATE_LIMIT_OVERRIDES", "[5]"),
    ],
)
def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises((ValidationError, ValueError), match="rate_limit"):
        Settings()


# What the faces send


@pytest.mark.parametrize(
    ("seconds", "native", "acs_ms"),
    [(0.0001, "1", "1"), (0.2, "1", "200"), (1.0, "1", "1000"), (1.2, "2", "1200")],
)
def test_the_wait_is_rounded_up(seconds: float, native: str, acs_ms: str) -> None:
    assert retry_after_header(seconds) == native
    assert throttling_headers(seconds) == {"x-acs-retry-after": acs_ms, "Retry-After": native}


def test_the_native_answer_is_429_resource_exhausted_with_retry_after() -> None:
    response = render(domain.ResourceExhausted("slow down", retry_after_seconds=1.5))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.body == b'{"code":"RESOURCE_EXHAUSTED","message":"slow down","details":[]}'


# The SDK


def answer(status: int, body: dict[str, object], headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_the_sdk_exposes_retry_after_on_resource_exhausted() -> None:
    body: dict[str, object] = {"code": "RESOURCE_EXHAUSTED", "message": "slow down", "details": []}
    error = error_from_response(answer(429, body, {"Retry-After": "3", "x-request-id": "r1"}))
    assert isinstance(error, ResourceExhausted)
    assert (error.retry_after, error.status_code, error.request_id) == (3.0, 429, "r1")
    # A proxy's 429 without a native body is ResourceExhausted too, with its wait.
    proxied = error_from_response(httpx.Response(429, text="busy", headers={"Retry-After": "2"}))
    assert isinstance(proxied, ResourceExhausted) and proxied.retry_after == 2.0


@pytest.mark.parametrize("value", [None, "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "nan", ""])
def test_the_sdk_ignores_a_retry_after_it_cannot_use(value: str | None) -> None:
    headers = {} if value is None else {"Retry-After": value}
    error = error_from_response(answer(429, {"code": "RESOURCE_EXHAUSTED"}, headers))
    assert isinstance(error, ModelplaneError) and error.retry_after is None
