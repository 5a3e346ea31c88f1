"""The gateway's rules: which upstream a model name means, and what is sent there.

A caller names a model; the registry turns the name into a pool of targets (upstreams it
may call), tried in turn until one answers. What a name may be, in this order:

- a model group, by id (`mt-…`) or by name: the group's default model;
- `GROUP/LLMCODE`: that model code in the group, on every provider that offers it (a pool);
- `GROUP/PROVIDER/LLMCODE`: that code on that one provider;
- an LLM connection, by `llmId` or by `modelIdentifier` (every connection of the caller
  with that identifier: a pool).

A target speaks one API family: OpenAI's (chat completions, completions, embeddings,
responses) or Anthropic's Messages. A connection whose `apiPath` ends in `/messages`, or a
provider whose `api` names Anthropic, speaks Anthropic's; every other speaks OpenAI's. The
gateway relays bodies within a family and never translates between them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.llm_types import SamplingParams
from modelplane.domain.prices import Prices

GATEWAY = "Model"  # the entity of NotFound errors: the name a caller gave
ANTHROPIC_APIS = frozenset({"anthropic", "anthropic-messages", "messages"})
ANTHROPIC_VERSION = "2023-06-01"  # sent when the client names none


class ApiFamily(StrEnum):
    """The wire API an upstream speaks."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"


class Operation(StrEnum):
    """What a call asks of the upstream: the path below the family's base URL."""

    CHAT = "chat/completions"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"
    RESPONSES = "responses"
    MESSAGES = "messages"

    @property
    def family(self) -> ApiFamily:
        """The family that serves this operation."""
        return ApiFamily.ANTHROPIC if self is Operation.MESSAGES else ApiFamily.OPENAI

    @property
    def generates(self) -> bool:
        """Whether the operation generates text (so default sampling parameters apply)."""
        return self is not Operation.EMBEDDINGS


@dataclass(frozen=True, slots=True)
class Target:
    """One upstream a pool may send a call to: where, as which model, with which key.

    `member` names it in headers, metrics and logs (never a secret). `auth` is the header
    the upstream expects its key in, already with its prefix; it lives only in memory.
    `chat_path` is the path a connection stores for chat completions (`apiPath`); other
    operations go to their own path below `base_url`. `prices` are its tokens' prices
    (None: unknown, so its calls' cost is unknown).
    """

    member: str
    family: ApiFamily
    base_url: str
    model: str
    auth: tuple[str, str] | None = None
    chat_path: str = "/chat/completions"
    sampling: SamplingParams | None = None
    weight: float = 1.0
    prices: Prices | None = None

    def url(self, operation: Operation) -> str:
        """The upstream URL of `operation`."""
        base = self.base_url.rstrip("/")
        if operation is Operation.CHAT:
            return base + self.chat_path
        return f"{base}/{operation.value}"

    def __repr__(self) -> str:  # the key stays out of every log and traceback
        return f"Target(member={self.member!r}, family={self.family.value}, model={self.model!r})"


@dataclass(frozen=True, slots=True)
class Route:
    """What a name resolved to: a pool of targets (connections of one `modelIdentifier`
    may speak different families)."""

    name: str
    targets: tuple[Target, ...]

    @property
    def family(self) -> ApiFamily:
        """The family of the pool's first target."""
        return self.targets[0].family

    def called_as(self, family: ApiFamily) -> Route:
        """The pool's targets that speak `family`, for a call in its API: there is no
        translation between families, so a pool with none is refused (naming `model`)."""
        targets = tuple(t for t in self.targets if t.family is family)
        if not targets:
            raise InvalidArgument.of(
                "model",
                f"{self.name!r} is served by upstreams of the {self.family.value} API; "
                f"call it through its own routes, not {family.value}'s",
            )
        return self if len(targets) == len(self.targets) else Route(self.name, targets)

    def prices_of(self, member: str | None) -> Prices | None:
        """The prices of the member that answered (None: no member, or no price)."""
        target = next((t for t in self.targets if t.member == member), None)
        return target.prices if target is not None else None


def family_of_connection(api_path: str) -> ApiFamily:
    """The family of an LLM connection, by its `apiPath`."""
    return ApiFamily.ANTHROPIC if api_path.rstrip("/").endswith("/messages") else ApiFamily.OPENAI


def family_of_provider(api: str | None) -> ApiFamily:
    """The family of a catalog provider, by its `api`."""
    return ApiFamily.ANTHROPIC if (api or "").lower() in ANTHROPIC_APIS else ApiFamily.OPENAI


def auth_header(
    family: ApiFamily, key: str, header: str | None, prefix: str | None
) -> tuple[str, str]:
    """The header that carries `key`: as stored, else the family's own way."""
    if family is ApiFamily.ANTHROPIC:
        name, lead = header or "x-api-key", "" if prefix is None else prefix
    else:
        name, lead = header or "Authorization", "Bearer " if prefix is None else prefix
    return name, lead + key


def weight_of(config: Mapping[str, Any] | None) -> float:
    """A member's share of a pool's calls: `weight` in its stored config (default 1)."""
    value = (config or {}).get("weight", 1)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return 1.0
    return float(value)


# Default sampling parameters by family: the wire name of each, where a request sets none.
_SAMPLING_NAMES: dict[ApiFamily, dict[str, str]] = {
    ApiFamily.OPENAI: {
        "max_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "frequency_penalty": "frequency_penalty",
        "presence_penalty": "presence_penalty",
        "stop_sequences": "stop",
    },
    ApiFamily.ANTHROPIC: {
        "max_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "top_k": "top_k",
        "stop_sequences": "stop_sequences",
    },
}
# Names a request may already use for the same setting (then the default stays out).
_ALSO_SET_BY = {
    "max_tokens": ("max_completion_tokens", "max_output_tokens"),
}


def with_defaults(body: dict[str, Any], target: Target, operation: Operation) -> dict[str, Any]:
    """`body` for `target`: its real model id, and its default sampling parameters where
    the request sets none (never over what the caller sent)."""
    sent = dict(body)
    sent["model"] = target.model
    params = target.sampling
    if params is None or not operation.generates:
        return sent
    names = _SAMPLING_NAMES[target.family]
    if operation is Operation.RESPONSES:
        names = {**names, "max_tokens": "max_output_tokens"}
        names.pop("stop_sequences", None)  # the Responses API has no stop sequences
    for field_name, wire in names.items():
        value = getattr(params, field_name)
        if value is None or wire in sent:
            continue
        if any(other in sent for other in _ALSO_SET_BY.get(field_name, ())):
            continue
        sent[wire] = list(value) if isinstance(value, tuple) else value
    return sent


_DRAW = random.Random()  # noqa: S311 - spreading load, not security; seeded once


def attempt_order(
    targets: Sequence[Target], cooling: set[str], rng: random.Random | None = None
) -> list[Target]:
    """The order in which to try a pool: healthy members first, drawn by weight; members
    cooling down after failures last (tried only when no healthy one answers)."""
    draw = rng or _DRAW
    healthy = [t for t in targets if t.member not in cooling]
    cold = [t for t in targets if t.member in cooling]
    ordered: list[Target] = []
    while healthy:
        pick = draw.choices(range(len(healthy)), weights=[t.weight for t in healthy])[0]
        ordered.append(healthy.pop(pick))
    return ordered + cold
