"""Keys for apps: an API key's scope narrows what its principal may do with it.

A scope may say three things, each optional:

- `gateway_only`: the key calls the gateway and nothing else (no management API);
- `models`: the model names and groups the key may call at the gateway. An entry that
  names a whole model group (by id or name) covers every name that resolves through it
  (`GROUP`, `GROUP/CODE`, `GROUP/PROVIDER/CODE`, whatever the group is called then); any
  other entry covers exactly that name;
- `expires_at`: when the key stops working (epoch ms).

A scope only narrows: the key still reaches nothing its principal cannot. A key without
a scope (`UNSCOPED`) behaves as every key did before scopes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from modelplane.domain.errors import PermissionDenied, ViolationCollector
from modelplane.domain.gateway import Route

MODELS_MAX = 100
MODEL_NAME_MAX = 256
EXPIRY_HORIZON_MS = 3650 * 86_400_000  # an expiry is at most about ten years ahead
CONNECTION_MEMBER = "llm/"  # how a connection's member starts (`llm/<llmId>`)


@dataclass(frozen=True, slots=True)
class ScopedModel:
    """One entry of a key's model list: the name as given and, when it names a whole
    model group, that group's id."""

    name: str
    group_id: str | None = None


@dataclass(frozen=True)
class KeyScope:
    """What an API key is limited to; the defaults limit nothing.

    The sets of listed names and groups are built on first use and kept with the scope,
    which the read cache keeps with the key: a check is two set lookups.
    """

    gateway_only: bool = False
    models: tuple[ScopedModel, ...] | None = None
    expires_at: int | None = None

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(m.name for m in self.models or () if m.group_id is None)

    @cached_property
    def _groups(self) -> frozenset[str]:
        return frozenset(m.group_id for m in self.models or () if m.group_id is not None)

    @property
    def limited(self) -> bool:
        """Whether the scope limits anything."""
        return self.gateway_only or self.models is not None or self.expires_at is not None

    def expired(self, now: int) -> bool:
        """Whether the key no longer works at `now` (epoch ms)."""
        return self.expires_at is not None and now >= self.expires_at

    def expiry_message(self) -> str:
        """Why an expired key is refused."""
        return f"the API key expired at {iso_time(self.expires_at or 0)} (expiresAt)"

    def require_management(self) -> None:
        """Raise PermissionDenied when the key may call only the gateway."""
        if self.gateway_only:
            raise PermissionDenied(
                "this API key is limited to the gateway (gatewayOnly): it cannot call the "
                "management API; use a key without that limit"
            )

    def allows(self, name: str, group_id: str | None) -> bool:
        """Whether the key may call `name`, which lies in model group `group_id` (None: a
        connection's name)."""
        if self.models is None:
            return True
        return name in self._names or (group_id is not None and group_id in self._groups)

    def allows_route(self, route: Route) -> bool:
        """Whether the key may call `route`: its name is listed, or every member of its
        pool is in a listed group."""
        if self.models is None or route.name in self._names:
            return True
        return bool(self._groups) and all(
            _group_of(t.member) in self._groups for t in route.targets
        )

    def require_route(self, route: Route) -> None:
        """Raise PermissionDenied unless the key may call `route`."""
        if not self.allows_route(route):
            raise PermissionDenied(
                f"this API key may not call model {route.name!r}: its scope lists "
                f"{len(self.models or ())} models and groups (GET /models lists what it may use)"
            )

    def require_within(self, issuer: KeyScope, groups: Sequence[str | None]) -> None:
        """Raise PermissionDenied when this scope reaches beyond `issuer`'s, the scope of
        the key a member issues it with (`groups`: the group each model lies in)."""
        if issuer.models is not None:
            if self.models is None:
                raise PermissionDenied(
                    "models: required: the key you call with is limited to some models, "
                    "so a key it issues lists some of them"
                )
            for index, (entry, group) in enumerate(zip(self.models, groups, strict=True)):
                if not issuer.allows(entry.name, group):
                    raise PermissionDenied(
                        f"models.{index}: {entry.name!r} is beyond the models of the key "
                        "you call with"
                    )
        limit = issuer.expires_at
        if limit is not None and (self.expires_at is None or self.expires_at > limit):
            raise PermissionDenied(
                f"expiresAt: required and at most {iso_time(limit)}: the key you call with "
                "expires then"
            )


UNSCOPED = KeyScope()


def _group_of(member: str) -> str | None:
    """The model group of a pool member (`<groupId>/<provider>/<code>`), None for a
    connection (`llm/<llmId>`)."""
    if member.startswith(CONNECTION_MEMBER):
        return None
    return member.partition("/")[0]


def iso_time(ms: int) -> str:
    """Epoch ms as an ISO 8601 UTC time, to the second."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def check_model_names(models: Sequence[str] | None, errors: ViolationCollector) -> None:
    """Record what is wrong with a requested model list (None: every model)."""
    if models is None:
        return
    if not models:
        errors.add("models", "must list at least one model name or group; leave it out for all")
        return
    if len(models) > MODELS_MAX:
        errors.add("models", f"at most {MODELS_MAX} model names and groups")
        return
    seen: set[str] = set()
    for index, name in enumerate(models):
        where = f"models.{index}"
        rule = _name_rule(name)
        if rule is not None:
            errors.add(where, rule)
        elif name in seen:
            errors.add(where, f"{name!r} is listed twice")
        seen.add(name)


def _name_rule(name: str) -> str | None:
    if not name:
        return "must not be empty"
    if len(name) > MODEL_NAME_MAX:
        return f"at most {MODEL_NAME_MAX} characters"
    if any(c.isspace() for c in name):
        return "a model name has no spaces"
    if "" in name.split("/"):
        return "a model name has no empty part: GROUP, GROUP/CODE, GROUP/PROVIDER/CODE or a model"
    return None


def check_expiry(expires_at: int | None, now: int, errors: ViolationCollector) -> None:
    """Record what is wrong with a requested expiry (None: never)."""
    if expires_at is None:
        return
    if expires_at <= now:
        errors.add("expiresAt", f"must be in the future (now is {iso_time(now)})")
    elif expires_at > now + EXPIRY_HORIZON_MS:
        errors.add(
            "expiresAt", "at most 3650 days from now; leave it out for a key that never expires"
        )
