"""Rate limits per principal: one token bucket each, kept in this process's memory.

A principal's bucket holds up to `burst` tokens and gains `per_second` tokens a second;
every request takes one. A request that finds less than one token is refused with
`ResourceExhausted`, carrying the seconds until a token will be there. The faces check
after authentication, so only a known principal spends tokens.

State is per process: behind a load balancer, N replicas let a principal make up to N
times the configured rate. A bucket that has filled up again is the same as no bucket,
so such buckets are dropped now and then: memory grows with the principals active in
the last few seconds, not with all that ever called.

The clock is injected (seconds, monotonic), so tests need no sleeps. The check does no
I/O and never awaits, so on one event loop it needs no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from modelplane.domain.errors import ResourceExhausted

Clock = Callable[[], float]
# How often (in clock seconds) buckets that have filled up again are dropped.
SWEEP_INTERVAL_SECONDS = 30.0
# A token, give or take float rounding: waiting exactly the announced time is enough.
_ONE_TOKEN = 1.0 - 1e-9


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `burst` requests at once, refilled at `per_second` requests a second."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not self.per_second > 0 or self.per_second == float("inf"):
            raise ValueError(f"per_second must be a positive number, not {self.per_second!r}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, not {self.burst!r}")

    def describe(self) -> str:
        """`50 requests per second (burst 100)`."""
        return f"{self.per_second:g} requests per second (burst {self.burst})"


class _Bucket:
    """The tokens a principal had at `stamp`."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """Token buckets per principal id.

    `default` applies to every principal without an entry in `overrides`; None means
    unlimited, both as the default and as an override.
    """

    def __init__(
        self,
        default: RateLimit | None,
        overrides: Mapping[str, RateLimit | None] | None = None,
        *,
        clock: Clock = time.monotonic,
        sweep_interval: float = SWEEP_INTERVAL_SECONDS,
    ) -> None:
        self.default = default
        self.overrides = dict(overrides or {})
        self.clock = clock
        self.sweep_interval = sweep_interval
        self._buckets: dict[str, _Bucket] = {}
        self._last_sweep = clock()

    @property
    def enabled(self) -> bool:
        """Whether any principal is limited at all."""
        return self.default is not None or any(v is not None for v in self.overrides.values())

    def limit_for(self, principal_id: str) -> RateLimit | None:
        """The limit of one principal (None: unlimited)."""
        if principal_id in self.overrides:
            return self.overrides[principal_id]
        return self.default

    def acquire(self, principal_id: str) -> float:
        """Take a token for one request: 0.0 if one was there, else the seconds to wait."""
        limit = self.limit_for(principal_id)
        if limit is None:
            return 0.0
        now = self.clock()
        if now - self._last_sweep >= self.sweep_interval:
            self.sweep(now)
        bucket = self._buckets.get(principal_id)
        if bucket is None:
            self._buckets[principal_id] = _Bucket(limit.burst - 1.0, now)
            return 0.0
        elapsed = max(0.0, now - bucket.stamp)  # a clock that steps back adds nothing
        tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.per_second)
        bucket.stamp = now
        if tokens >= _ONE_TOKEN:
            bucket.tokens = max(0.0, tokens - 1.0)
            return 0.0
        bucket.tokens = tokens
        return (1.0 - tokens) / limit.per_second

    def check(self, principal_id: str) -> None:
        """Take a token for one request, or raise `ResourceExhausted` with the wait."""
        wait = self.acquire(principal_id)
        if wait > 0.0:
            limit = self.limit_for(principal_id)
            assert limit is not None
            raise ResourceExhausted(
                f"rate limit exceeded: this principal may make {limit.describe()}; "
                f"retry in {wait:.3f} s",
                retry_after_seconds=wait,
            )

    def sweep(self, now: float | None = None) -> int:
        """Drop the buckets that have filled up again (as good as none); how many went."""
        now = self.clock() if now is None else now
        self._last_sweep = now
        full = []
        for principal_id, bucket in self._buckets.items():
            limit = self.limit_for(principal_id)
            if limit is None or (
                bucket.tokens + (now - bucket.stamp) * limit.per_second >= limit.burst
            ):
                full.append(principal_id)
        for principal_id in full:
            del self._buckets[principal_id]
        return len(full)

    def __len__(self) -> int:
        """The number of buckets held."""
        return len(self._buckets)
