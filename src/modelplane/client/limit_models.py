"""What the limits routes (`/v1/principals/…/limits`) return, as the SDK's models."""

from __future__ import annotations

from modelplane.client.models import ApiModel


class SpendLimits(ApiModel):
    """A subject's limits at the gateway; None: no such limit. `budget` is money per
    `period` (`day` or `month`, UTC), `budget_nanos` the same in 10⁻⁹ units, exact."""

    rpm: int | None = None
    tpm: int | None = None
    budget: float | None = None
    budget_nanos: int | None = None
    period: str | None = None


class WindowUse(ApiModel):
    """What was used in the current window, and when it resets (epoch ms)."""

    used: int
    resets_at: int


class SpendUse(ApiModel):
    """What was spent in the budget's current window (`used_nanos`: exact), reservations
    of calls under way included, and when it resets (epoch ms)."""

    used: float
    used_nanos: int
    resets_at: int


class LimitsUse(ApiModel):
    """The current windows' use: requests and tokens this minute, spend this period
    (None without a budget)."""

    requests: WindowUse
    tokens: WindowUse
    spend: SpendUse | None = None


class LimitsView(ApiModel):
    """The limits of a principal (`api_key_id` None) or of one of its API keys, and their
    use (None: no limits, or the counters did not answer)."""

    principal_id: str
    api_key_id: str | None = None
    limits: SpendLimits | None = None
    updated_at: int | None = None
    use: LimitsUse | None = None
