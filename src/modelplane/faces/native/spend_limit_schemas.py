"""Request and response shapes of the gateway's limits and budgets (`/v1/principals/…/limits`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from modelplane.domain.prices import NANOS
from modelplane.domain.spend_limits import BUDGET_MAX, RPM_MAX, TPM_MAX, SubjectKind
from modelplane.services.spend_limits import LimitsView, WindowUse


class LimitsIn(BaseModel):
    """Body of `PUT …/limits`: the limits that replace the subject's (at least one)."""

    model_config = ConfigDict(extra="forbid")
    rpm: int | None = Field(
        default=None, strict=True, description=f"Requests per minute, 1..{RPM_MAX}"
    )
    tpm: int | None = Field(
        default=None,
        strict=True,
        description=f"Tokens (input and output) per minute, 1..{TPM_MAX}: a call is refused "
        "once the minute's tokens reached it",
    )
    budget: float | None = Field(
        default=None,
        description=f"Money per period, in the unit of the models' prices (above 0, at most "
        f"{BUDGET_MAX}, at most 9 decimals); needs `period`",
    )
    period: str | None = Field(
        default=None, description="The budget's window: `day` (UTC) or `month` (calendar, UTC)"
    )


class LimitsSetOut(BaseModel):
    """A subject's limits; each absent one is null."""

    rpm: int | None = None
    tpm: int | None = None
    budget: float | None = Field(default=None, description="Money per period")
    budgetNanos: int | None = Field(default=None, description="The budget in 10⁻⁹ units, exact")
    period: str | None = None


class WindowUseOut(BaseModel):
    """What was used in the current window, and when it resets (epoch ms)."""

    used: int
    resetsAt: int


class SpendUseOut(BaseModel):
    """What was spent in the budget's current window (reservations of calls under way
    included), and when it resets (epoch ms)."""

    used: float = Field(description="Money spent")
    usedNanos: int = Field(description="Money spent in 10⁻⁹ units, exact")
    resetsAt: int


class LimitsUseOut(BaseModel):
    """The current windows' use: requests and tokens this minute, spend this period."""

    requests: WindowUseOut
    tokens: WindowUseOut
    spend: SpendUseOut | None = None


class LimitsOut(BaseModel):
    """The limits of a principal (`apiKeyId` null) or of one of its API keys."""

    principalId: str
    apiKeyId: str | None = None
    limits: LimitsSetOut | None = Field(default=None, description="Null: no limits set")
    updatedAt: int | None = None
    use: LimitsUseOut | None = Field(
        default=None,
        description="Null without limits (nothing is counted), or while the counters do not answer",
    )


def _window(use: WindowUse) -> dict[str, int]:
    return {"used": use.used, "resetsAt": use.resets_at}


def render_limits(view: LimitsView) -> dict[str, object]:
    """The answer of every limits route."""
    limits = view.limits
    shown: dict[str, object] | None = None
    if limits is not None:
        nanos = limits.budget_nanos
        shown = {
            "rpm": limits.rpm,
            "tpm": limits.tpm,
            "budget": nanos / NANOS if nanos is not None else None,
            "budgetNanos": nanos,
            "period": limits.period.value if limits.period is not None else None,
        }
    use: dict[str, object] | None = None
    if view.requests is not None and view.tokens is not None:
        spend = view.spend
        use = {
            "requests": _window(view.requests),
            "tokens": _window(view.tokens),
            "spend": None
            if spend is None
            else {"used": spend.used / NANOS, "usedNanos": spend.used, "resetsAt": spend.resets_at},
        }
    return {
        "principalId": view.principal_id,
        "apiKeyId": view.subject_id if view.kind is SubjectKind.API_KEY else None,
        "limits": shown,
        "updatedAt": view.updated_at,
        "use": use,
    }
