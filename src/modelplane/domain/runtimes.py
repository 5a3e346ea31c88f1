"""Runtimes bound to model groups: a runtime asks which models it may use.

A runtime is named by `(runtimeType, runtimeId)` and is bound to at most one group;
binding it again moves it. Each runtime of a request gets its own outcome, which each face
words in its own codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from modelplane.domain.catalog import LlmTemplate, ModelGroup, ProviderTemplate
from modelplane.domain.errors import ViolationCollector

RUNTIME = "Runtime"
RUNTIME_TYPE_DEFAULT = "Default"
RUNTIMES_MAX = 100
_RUNTIME_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")
_RUNTIME_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")


class Binding(StrEnum):
    """What a bind or unbind request did with one runtime."""

    BOUND = "bound"  # now bound to the group (it was unbound, or already there)
    MOVED = "moved"  # now bound to the group, taken from another group
    UNBOUND = "unbound"  # no longer bound to the group
    HELD = "held"  # bound to a group the actor may not change: it stays there
    NOT_BOUND = "not_bound"  # not bound to the group: nothing to unbind


@dataclass(frozen=True, slots=True)
class BindingOutcome:
    """What happened to one runtime of a bind or unbind request, and why in words."""

    runtime_id: str
    result: Binding
    message: str

    @property
    def success(self) -> bool:
        """Whether the runtime is where the request wanted it."""
        return self.result in (Binding.BOUND, Binding.MOVED, Binding.UNBOUND)


@dataclass(frozen=True, slots=True)
class RuntimeModelConfig:
    """What a bound runtime sees: its group, the group's providers and their models."""

    group: ModelGroup
    providers: list[tuple[ProviderTemplate, list[LlmTemplate]]]

    @property
    def default_model(self) -> str | None:
        """`providerName/llmCode` of the group's default model, if any."""
        return self.group.default_model


def check_runtime_type(runtime_type: str | None, errors: ViolationCollector) -> str:
    """The runtime type to use (`Default` when none is given)."""
    if runtime_type is None or not runtime_type.strip():
        return RUNTIME_TYPE_DEFAULT
    if not _RUNTIME_TYPE.match(runtime_type):
        errors.add("runtimeType", "1..64 of [A-Za-z0-9._-], starting with a letter")
    return runtime_type


def check_runtime_ids(runtime_ids: list[str], errors: ViolationCollector) -> list[str]:
    """The distinct runtime ids of a request, in order; each must be well formed."""
    if not runtime_ids:
        errors.add("runtimeIds", "at least one runtime id is required")
    if len(runtime_ids) > RUNTIMES_MAX:
        errors.add("runtimeIds", f"at most {RUNTIMES_MAX} runtime ids per request")
    for n, runtime_id in enumerate(runtime_ids):
        if not _RUNTIME_ID.match(runtime_id):
            errors.add(f"runtimeIds.{n}", "1..128 of [A-Za-z0-9._:@/-], starting alphanumeric")
    return list(dict.fromkeys(runtime_ids))


def check_runtime_id(runtime_id: str | None, errors: ViolationCollector) -> str:
    """One runtime id, which is required."""
    if runtime_id is None or not _RUNTIME_ID.match(runtime_id):
        errors.add("runtimeId", "required, 1..128 of [A-Za-z0-9._:@/-]")
        return ""
    return runtime_id
