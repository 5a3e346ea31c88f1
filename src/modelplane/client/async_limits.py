"""The gateway's limits and budgets of principals and API keys, as the SDK's group
`client.limits`."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, TypeVar

from modelplane.client import limit_calls
from modelplane.client.calls import Call
from modelplane.client.limit_models import LimitsView

T = TypeVar("T")


class AsyncSend(Protocol):
    """How a group sends a call (the client's `_send`)."""

    async def __call__(self, call: Call[T]) -> T: ...


class AsyncLimits:
    """Requests and tokens per minute and a budget per day or month, of a principal or of
    one of its API keys (`api_key_id`); the principal `"me"` is the caller. Admins set
    anyone's; a member reads its own and sets its keys', within its principal's."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def get(self, principal_id: str, *, api_key_id: str | None = None) -> LimitsView:
        """The limits and the current windows' use."""
        return await self._send(limit_calls.get_limits(principal_id, api_key_id))

    async def set(
        self,
        principal_id: str,
        *,
        api_key_id: str | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        budget: float | str | Decimal | None = None,
        period: str | None = None,
    ) -> LimitsView:
        """Replace the limits (those left None are then unlimited); a budget needs its
        `period`, `day` or `month`."""
        return await self._send(
            limit_calls.set_limits(
                principal_id, api_key_id, rpm=rpm, tpm=tpm, budget=budget, period=period
            )
        )

    async def clear(self, principal_id: str, *, api_key_id: str | None = None) -> bool:
        """Remove the limits; whether there were any."""
        return await self._send(limit_calls.clear_limits(principal_id, api_key_id))
