"""A signed-in session of the web console, and the overview it opens on."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelplane.domain.audit import AuditEvent
from modelplane.domain.principals import Principal

SESSION_ID_BYTES = 32  # of randomness in a session id (the browser's cookie)
CSRF_SECRET_BYTES = 32  # of randomness in the token a session's forms carry


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """Who a browser is signed in as, the API key it signed in with, the token its forms
    carry, and when it ends (epoch ms)."""

    principal: Principal
    api_key_id: str
    csrf_token: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A new session: its id (for the browser's cookie only; the store keeps its hash)."""

    session_id: str
    session: ConsoleSession


@dataclass(frozen=True, slots=True)
class Counts:
    """How many of each resource a principal sees; None where it may see none."""

    llms: int
    model_groups: int
    prompt_templates: int
    namespaces: int
    principals: int | None
    api_keys: int


@dataclass(frozen=True, slots=True)
class GatewayDay:
    """Gateway calls over the last day (today and yesterday, UTC): all, and failed."""

    calls: int = 0
    client_errors: int = 0
    server_errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Overview:
    """What the console's first screen shows."""

    counts: Counts
    recent: list[AuditEvent] = field(default_factory=list)
    gateway: GatewayDay = field(default_factory=GatewayDay)
