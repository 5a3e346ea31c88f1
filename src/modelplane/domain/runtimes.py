"""Runtimes bound to model groups: a runtime asks which models it may use.

A runtime is named by `(runtimeType, runtimeId)` and is bound to at most one group;
binding it again moves it. Each runtime of a request gets its own outcome, which each face
words in its own codes.

A runtime may ask for its config through the gateway: then it gets the gateway's base URL
and the token of an API key of its binding, limited to the gateway and to its group and
owned by the group's owner, and the gateway's names of its models. The binding keeps one
such key (its token sealed) until the binding moves or goes, or the group does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from modelplane.domain.catalog import LlmTemplate, ModelGroup, ProviderTemplate
from modelplane.domain.errors import FailedPrecondition, PermissionDenied, ViolationCollector
from modelplane.domain.gateway import ApiFamily, family_of_provider
from modelplane.domain.key_scopes import KeyScope, ScopedModel
from modelplane.domain.principals import Permission, Principal

RUNTIME = "Runtime"
RUNTIME_TYPE_DEFAULT = "Default"
RUNTIMES_MAX = 100
_RUNTIME_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")
_RUNTIME_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
KEY_LABEL_MAX = 128  # an API key's label (services/principals.py LABEL_MAX)
OPENAI_PATH = "/openai/v1"  # the gateway's OpenAI base below the public URL
ANTHROPIC_PATH = "/anthropic"  # the Anthropic SDK's base (it adds /v1/messages)


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
class BoundRuntime:
    """A runtime bound to a group, and since when (epoch ms)."""

    runtime_type: str
    runtime_id: str
    created_at: int


@dataclass(frozen=True, slots=True)
class GatewayModel:
    """A model of the group as the gateway names it, and the API it is called through."""

    name: str
    api: ApiFamily


@dataclass(frozen=True, slots=True)
class GatewayAccess:
    """How a runtime calls its group through the gateway: where, with which key, which
    names (`default_model`: the group's id, None while the group has no default)."""

    openai_base_url: str
    anthropic_base_url: str
    api_key_id: str
    token: str
    default_model: str | None
    models: tuple[GatewayModel, ...]


@dataclass(frozen=True, slots=True)
class RuntimeKey:
    """The API key a binding keeps for the gateway, with its key's state."""

    api_key_id: str
    runtime_type: str
    runtime_id: str
    model_template_id: str
    token_sealed: str
    principal_id: str
    revoked_at: int | None
    expires_at: int | None

    @property
    def runtime(self) -> str:
        """`runtimeType/runtimeId`, as audit events name a binding."""
        return f"{self.runtime_type}/{self.runtime_id}"

    def stale(self, group: ModelGroup, now: int) -> str | None:
        """Why the key can no longer serve the binding to `group`, or None when it can."""
        if self.model_template_id != group.model_template_id:
            return f"the runtime is bound to {group.model_template_id} now"
        if self.revoked_at is not None:
            return "the key was revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "the key expired"
        if self.principal_id != group.owner_id:
            return "the model group has another owner"
        return None


@dataclass(frozen=True, slots=True)
class RuntimeModelConfig:
    """What a bound runtime sees: its group, the group's providers and their models, and
    with `gateway` how to call them through the gateway."""

    group: ModelGroup
    providers: list[tuple[ProviderTemplate, list[LlmTemplate]]]
    gateway: GatewayAccess | None = None

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


def gateway_base(public_url: str | None) -> str:
    """The gateway's public base URL (no trailing slash); FailedPrecondition when the
    replica knows none (it serves no gateway and `MODELPLANE_PUBLIC_URL` is unset)."""
    if not public_url:
        raise FailedPrecondition(
            "this replica does not serve the gateway (MODELPLANE_SERVE=control-plane), so "
            "it cannot tell a runtime where the gateway is: set MODELPLANE_PUBLIC_URL to the "
            "gateway's public URL"
        )
    return public_url.rstrip("/")


def gateway_scope(group_id: str) -> KeyScope:
    """The scope of a binding's key: the gateway only, the group's models only, no expiry."""
    return KeyScope(gateway_only=True, models=(ScopedModel(group_id, group_id),))


def key_label(runtime_type: str, runtime_id: str) -> str:
    """The label of a binding's key (cut to an API key label's length)."""
    label = f"runtime {runtime_type}/{runtime_id}"
    return label if len(label) <= KEY_LABEL_MAX else label[: KEY_LABEL_MAX - 1] + "…"


def require_may_receive(actor: Principal, caller_scope: KeyScope, group_id: str) -> None:
    """Raise PermissionDenied when `actor`, calling with a key of `caller_scope`, may not be
    handed a key to the group's models: as when issuing keys, an admin may, and a member
    only within the key it calls with."""
    if actor.has(Permission.MANAGE_PRINCIPALS):
        return
    if not caller_scope.allows(group_id, group_id):
        raise PermissionDenied(
            f"the API key you call with may not call the models of {group_id}, so it cannot "
            "be handed a key for them"
        )
    if caller_scope.expires_at is not None:
        raise PermissionDenied(
            "the API key you call with expires and a runtime's key does not: ask with a key "
            "without an expiry"
        )


def gateway_access(
    base: str,
    group: ModelGroup,
    providers: list[tuple[ProviderTemplate, list[LlmTemplate]]],
    key: tuple[str, str],
) -> GatewayAccess:
    """What a runtime needs to call its group at the gateway under `base`, with `key`
    (its id and token): the group's models by their gateway names."""
    group_id = group.model_template_id
    models = tuple(
        GatewayModel(f"{group_id}/{p.provider_name}/{t.llm_code}", family_of_provider(p.api))
        for p, templates in providers
        for t in templates
    )
    return GatewayAccess(
        openai_base_url=base + OPENAI_PATH,
        anthropic_base_url=base + ANTHROPIC_PATH,
        api_key_id=key[0],
        token=key[1],
        default_model=group_id if group.default_model is not None else None,
        models=models,
    )
