"""Prices of a model's tokens, and what a call's tokens cost.

A price is per million tokens, as the catalog's `Config.cost` gives it (the Wuying and
OpenClaw model config: `{"input", "output", "cacheRead", "cacheWrite"}`): `input` and
`output` are required; `cacheRead` (input tokens read from a prompt cache) and
`cacheWrite` (input tokens written to it) default to the `input` price, so that a price
without them never counts less than the call cost. The unit of money is whatever the
prices are in (the built-in known-models prices are US dollars).

A cost is kept as an integer of nano-units (10⁻⁹ of the price's unit): sums of millions of
calls stay exact, and a call of a few tokens at a cheap price still costs more than 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelplane.domain.errors import ViolationCollector

PRICE_KEYS = ("input", "output", "cacheRead", "cacheWrite")
REQUIRED_KEYS = ("input", "output")
PRICE_MAX = 1_000_000.0  # per million tokens: far above any list price, below overflow
NANOS = 1_000_000_000  # nano-units in one unit of money
_PER = 1_000_000  # prices are per this many tokens


@dataclass(frozen=True, slots=True)
class Tokens:
    """A call's tokens, the same for every API family.

    `input` counts every input token, cached ones included; `cache_read` and `cache_write`
    are the part of `input` read from and written to a prompt cache.
    """

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def uncached_input(self) -> int:
        """Input tokens paid at the full input price."""
        return max(0, self.input - self.cache_read - self.cache_write)


@dataclass(frozen=True, slots=True)
class Prices:
    """Prices per million tokens of one model."""

    input: float
    output: float
    cache_read: float | None = None  # None: the input price
    cache_write: float | None = None

    def cost_nanos(self, tokens: Tokens) -> int:
        """What `tokens` cost, in nano-units, rounded to the nearest."""
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        total = (
            tokens.uncached_input * self.input
            + tokens.cache_read * read
            + tokens.cache_write * write
            + tokens.output * self.output
        )
        return round(total * NANOS / _PER)

    def as_config(self) -> dict[str, float]:
        """The prices in the `cost` spelling of a config."""
        shown = {"input": self.input, "output": self.output}
        if self.cache_read is not None:
            shown["cacheRead"] = self.cache_read
        if self.cache_write is not None:
            shown["cacheWrite"] = self.cache_write
        return shown


def _price(value: Any) -> float | None:
    """`value` as a price, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number <= PRICE_MAX else None


def check_cost(value: Any, path: str, errors: ViolationCollector) -> None:
    """Record a violation for each rule a config's `cost` (at `path`) breaks."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        errors.add(path, f"must be an object of prices per million tokens: {', '.join(PRICE_KEYS)}")
        return
    for key in sorted(set(value) - set(PRICE_KEYS)):
        errors.add(f"{path}.{key}", f"unknown price; expected {', '.join(PRICE_KEYS)}")
    for key in PRICE_KEYS:
        if key not in value:
            if key in REQUIRED_KEYS:
                errors.add(f"{path}.{key}", "required: the price per million tokens")
        elif _price(value[key]) is None:
            errors.add(f"{path}.{key}", f"must be a number from 0 to {PRICE_MAX:g}")


def prices_of(value: Any) -> Prices | None:
    """The prices a config's `cost` gives; None when it gives none or breaks a rule (a
    config stored before the rule was checked): a cost unknown, never taken as free."""
    if not isinstance(value, Mapping) or set(value) - set(PRICE_KEYS):
        return None
    found = {key: _price(value[key]) for key in PRICE_KEYS if key in value}
    if None in found.values() or any(key not in found for key in REQUIRED_KEYS):
        return None
    return Prices(
        input=found["input"] or 0.0,
        output=found["output"] or 0.0,
        cache_read=found.get("cacheRead"),
        cache_write=found.get("cacheWrite"),
    )


def config_prices(config: Mapping[str, Any] | None) -> Prices | None:
    """The prices in a stored config's `cost` (an LLM template's `config`, a connection's
    `clientConfig`), if it has valid ones."""
    return prices_of((config or {}).get("cost"))
