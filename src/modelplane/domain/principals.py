"""Principals, roles and the permissions each role grants."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from modelplane.domain.errors import PermissionDenied
from modelplane.domain.key_scopes import UNSCOPED, KeyScope


class Role(StrEnum):
    """`admin` may act on every resource; `member` only on its own."""

    ADMIN = "admin"
    MEMBER = "member"


class Permission(StrEnum):
    """Named permissions; `_OWN` covers resources the principal owns, `_ANY` all."""

    CREATE_LLM_OWN = "CREATE_LLM_OWN"
    CREATE_LLM_ANY = "CREATE_LLM_ANY"
    READ_LLM_OWN = "READ_LLM_OWN"
    READ_LLM_ANY = "READ_LLM_ANY"
    UPDATE_LLM_OWN = "UPDATE_LLM_OWN"
    UPDATE_LLM_ANY = "UPDATE_LLM_ANY"
    DELETE_LLM_OWN = "DELETE_LLM_OWN"
    DELETE_LLM_ANY = "DELETE_LLM_ANY"
    CREATE_MODEL_GROUP_OWN = "CREATE_MODEL_GROUP_OWN"
    CREATE_MODEL_GROUP_ANY = "CREATE_MODEL_GROUP_ANY"
    READ_MODEL_GROUP_OWN = "READ_MODEL_GROUP_OWN"
    READ_MODEL_GROUP_ANY = "READ_MODEL_GROUP_ANY"
    UPDATE_MODEL_GROUP_OWN = "UPDATE_MODEL_GROUP_OWN"
    UPDATE_MODEL_GROUP_ANY = "UPDATE_MODEL_GROUP_ANY"
    DELETE_MODEL_GROUP_OWN = "DELETE_MODEL_GROUP_OWN"
    DELETE_MODEL_GROUP_ANY = "DELETE_MODEL_GROUP_ANY"
    CREATE_WORKSPACE_OWN = "CREATE_WORKSPACE_OWN"
    CREATE_WORKSPACE_ANY = "CREATE_WORKSPACE_ANY"
    READ_WORKSPACE_OWN = "READ_WORKSPACE_OWN"
    READ_WORKSPACE_ANY = "READ_WORKSPACE_ANY"
    UPDATE_WORKSPACE_OWN = "UPDATE_WORKSPACE_OWN"
    UPDATE_WORKSPACE_ANY = "UPDATE_WORKSPACE_ANY"
    DELETE_WORKSPACE_OWN = "DELETE_WORKSPACE_OWN"
    DELETE_WORKSPACE_ANY = "DELETE_WORKSPACE_ANY"
    CREATE_CONFIG_NAMESPACE_OWN = "CREATE_CONFIG_NAMESPACE_OWN"
    CREATE_CONFIG_NAMESPACE_ANY = "CREATE_CONFIG_NAMESPACE_ANY"
    READ_CONFIG_NAMESPACE_OWN = "READ_CONFIG_NAMESPACE_OWN"
    READ_CONFIG_NAMESPACE_ANY = "READ_CONFIG_NAMESPACE_ANY"
    UPDATE_CONFIG_NAMESPACE_OWN = "UPDATE_CONFIG_NAMESPACE_OWN"
    UPDATE_CONFIG_NAMESPACE_ANY = "UPDATE_CONFIG_NAMESPACE_ANY"
    DELETE_CONFIG_NAMESPACE_OWN = "DELETE_CONFIG_NAMESPACE_OWN"
    DELETE_CONFIG_NAMESPACE_ANY = "DELETE_CONFIG_NAMESPACE_ANY"
    MANAGE_PRINCIPALS = "MANAGE_PRINCIPALS"
    READ_AUDIT_EVENTS = "READ_AUDIT_EVENTS"


_OWN_ONLY = frozenset(p for p in Permission if p.value.endswith("_OWN"))
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MEMBER: _OWN_ONLY,
}


class Action(StrEnum):
    """The verb of an ownership-scoped permission."""

    CREATE = "CREATE"
    READ = "READ"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    principal_id: str
    name: str
    role: Role
    created_at: int

    def has(self, permission: Permission) -> bool:
        """Whether the role grants `permission`."""
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise PermissionDenied unless the role grants `permission`."""
        if not self.has(permission):
            raise PermissionDenied(f"permission {permission.value} is required")

    def may(self, action: Action, resource: str, owner_id: str) -> bool:
        """Whether the principal may `action` a `resource` owned by `owner_id`."""
        if self.has(Permission(f"{action.value}_{resource}_ANY")):
            return True
        return owner_id == self.principal_id and self.has(
            Permission(f"{action.value}_{resource}_OWN")
        )

    def sees_all(self, resource: str) -> bool:
        """Whether listing `resource` is unrestricted by owner."""
        return self.has(Permission(f"READ_{resource}_ANY"))


NAME_MAX = 128


@dataclass(frozen=True, slots=True)
class ApiKey:
    """Metadata of an API key; the token itself is never stored, only its hash."""

    api_key_id: str
    principal_id: str
    key_prefix: str
    label: str | None
    created_at: int
    revoked_at: int | None
    scope: KeyScope = UNSCOPED


@dataclass(frozen=True, slots=True)
class KeyCaller:
    """Who presented an API key: its principal, the key, and what the key is limited to."""

    principal: Principal
    api_key_id: str
    scope: KeyScope


@dataclass(frozen=True, slots=True)
class AccessKey:
    """Metadata of an access-key pair for the Alibaba faces; the secret is sealed."""

    access_key_id: str
    principal_id: str
    created_at: int
    revoked_at: int | None
