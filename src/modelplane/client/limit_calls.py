"""The calls of the limits routes: `/v1/principals/{id}/limits` and
`/v1/principals/{id}/api-keys/{keyId}/limits`."""

from __future__ import annotations

from decimal import Decimal

from modelplane.client.calls import Call, given, seg
from modelplane.client.limit_models import LimitsView


def _limits(principal_id: str, api_key_id: str | None) -> str:
    path = f"/v1/principals/{seg(principal_id)}"
    if api_key_id is not None:
        path += f"/api-keys/{seg(api_key_id)}"
    return path + "/limits"


def get_limits(principal_id: str, api_key_id: str | None) -> Call[LimitsView]:
    """`GET …/limits`."""
    return Call("GET", _limits(principal_id, api_key_id), LimitsView.model_validate)


def set_limits(
    principal_id: str,
    api_key_id: str | None,
    *,
    rpm: int | None,
    tpm: int | None,
    budget: float | str | Decimal | None,
    period: str | None,
) -> Call[LimitsView]:
    """`PUT …/limits` (a budget as a number; a text or Decimal is sent as its number)."""
    amount = float(budget) if isinstance(budget, str | Decimal) else budget
    body = given(rpm=rpm, tpm=tpm, budget=amount, period=period)
    return Call("PUT", _limits(principal_id, api_key_id), LimitsView.model_validate, json=body)


def clear_limits(principal_id: str, api_key_id: str | None) -> Call[bool]:
    """`DELETE …/limits`: whether there were any."""
    return Call("DELETE", _limits(principal_id, api_key_id), lambda d: bool(d["deleted"]))
