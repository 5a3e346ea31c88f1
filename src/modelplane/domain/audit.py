"""Audit events: who changed what, when, through which face and in which request."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AuditAction(StrEnum):
    """What a change did to its resource."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REVOKE = "revoke"
    ROTATE = "rotate"
    PROMOTE = "promote"


class ResourceType(StrEnum):
    """The kinds of resources whose changes are audited."""

    LLM = "llm"
    MODEL_GROUP = "model_group"
    PROVIDER_TEMPLATE = "provider_template"
    LLM_TEMPLATE = "llm_template"
    RUNTIME_BINDING = "runtime_binding"
    WORKSPACE = "workspace"
    WORKSPACE_MEMBER = "workspace_member"
    PROMPT_TEMPLATE = "prompt_template"
    CONFIG = "config"
    CONFIG_CANDIDATE = "config_candidate"
    PRINCIPAL = "principal"
    API_KEY = "api_key"
    ACCESS_KEY = "access_key"
    MASTER_KEY = "master_key"


FACES = ("native", "rpc", "bailian", "eas", "console", "cli", "system")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One recorded change. `details` names what changed, never a secret's value.

    `event_id` sorts in the order the events were recorded (it starts with `at`);
    `actor_id` is None only for changes nobody asked for (the bootstrap at start).
    """

    event_id: str
    at: int
    actor_id: str | None
    face: str
    request_id: str | None
    action: AuditAction
    resource_type: ResourceType
    resource_id: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events a list returns; every field given must match."""

    principal_id: str | None = None
    resource_type: ResourceType | None = None
    resource_id: str | None = None
    since: int | None = None
    until: int | None = None
    action: AuditAction | None = None
    face: str | None = None
