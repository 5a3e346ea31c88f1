"""Principals and their API keys and access keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.errors import (
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ViolationCollector,
)
from modelplane.domain.key_scopes import (
    UNSCOPED,
    KeyScope,
    check_expiry,
    check_model_names,
)
from modelplane.domain.paging import Page, PageRequest
from modelplane.domain.principals import (
    NAME_MAX,
    AccessKey,
    ApiKey,
    KeyCaller,
    Permission,
    Principal,
    Role,
)
from modelplane.domain.text import check_length
from modelplane.security.secretbox import SecretBox
from modelplane.security.tokens import (
    display_prefix,
    hash_token,
    new_access_key_id,
    new_access_key_secret,
    new_api_token,
)
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.services.key_scopes import scoped_models
from modelplane.services.ownership import settle_owned
from modelplane.services.sealed_values import open_sealed
from modelplane.store.uow import Store, UnitOfWork

PRINCIPAL = "Principal"
API_KEY = "ApiKey"
ACCESS_KEY = "AccessKey"
LABEL_MAX = 128


@dataclass(frozen=True)
class IssuedApiKey:
    """A new API key with its token, which is shown only this once."""

    api_key: ApiKey
    token: str


@dataclass(frozen=True)
class IssuedAccessKey:
    """A new access key with its secret, which is shown only this once."""

    access_key: AccessKey
    secret: str


def access_key_aad(access_key_id: str) -> str:
    """The associated data binding a sealed access-key secret to its row."""
    return f"access_keys/{access_key_id}/secret"


def _check_name(name: str, role: str) -> Role:
    errors = ViolationCollector()
    check_length(name, "name", errors, most=NAME_MAX, required=True)
    if role not in {r.value for r in Role}:
        errors.add("role", "must be 'admin' or 'member'")
    errors.raise_if_any()
    return Role(role)


def _check_key(label: str | None, models: Sequence[str] | None, expires_at: int | None) -> None:
    errors = ViolationCollector()
    check_length(label, "label", errors, most=LABEL_MAX)
    check_model_names(models, errors)
    check_expiry(expires_at, now_ms(), errors)
    errors.raise_if_any()


def _require_keys_of(actor: Principal, principal_id: str) -> None:
    """Admins act on anyone's API keys; a member on its own only."""
    if principal_id != actor.principal_id:
        actor.require(Permission.MANAGE_PRINCIPALS)


def _scope_details(scope: KeyScope) -> dict[str, object]:
    if not scope.limited:
        return {}
    models = None if scope.models is None else [m.name for m in scope.models]
    return {"gatewayOnly": scope.gateway_only, "models": models, "expiresAt": scope.expires_at}


async def _scope_of_key(uow: UnitOfWork, principal_id: str, api_key_id: str) -> KeyScope:
    """The scope of the principal's live key `api_key_id` (revoked or missing: 401)."""
    for key in await uow.principals.list_api_keys(principal_id):
        if key.api_key_id == api_key_id and key.revoked_at is None:
            return key.scope
    raise Unauthenticated("the API key of this session is no longer valid")


async def _existing(uow: UnitOfWork, principal_id: str, *, lock: bool = False) -> Principal:
    principal = await uow.principals.get(principal_id, lock=lock)
    if principal is None:
        raise NotFound(PRINCIPAL, principal_id)
    return principal


async def create_principal(*, store: Store, actor: Principal, name: str, role: str) -> Principal:
    """Create a principal (admin only)."""
    actor.require(Permission.MANAGE_PRINCIPALS)
    principal = Principal(
        principal_id=str(uuid.uuid4()), name=name, role=_check_name(name, role), created_at=now_ms()
    )
    async with store.writer() as uow:
        await uow.principals.add(principal)
        await record(
            uow,
            actor,
            AuditAction.CREATE,
            ResourceType.PRINCIPAL,
            principal.principal_id,
            {"name": principal.name, "role": principal.role.value},
        )
        await uow.commit()
    return principal


async def list_principals(*, store: Store, actor: Principal) -> list[Principal]:
    """Every principal (admin only)."""
    actor.require(Permission.MANAGE_PRINCIPALS)
    async with store.reader() as uow:
        return await uow.principals.all()


async def list_principal_page(
    *, store: Store, actor: Principal, role: str | None, search: str | None, page: PageRequest
) -> Page[Principal]:
    """One page of the principals (of `role`, named like `search`), by name (admin only)."""
    actor.require(Permission.MANAGE_PRINCIPALS)
    errors = ViolationCollector()
    if role is not None and role not in {r.value for r in Role}:
        errors.add("role", "must be 'admin' or 'member'")
    check_length(search, "q", errors, most=NAME_MAX)
    errors.raise_if_any()
    async with store.reader() as uow:
        items, total = await uow.principals.page(
            role=Role(role) if role is not None else None,
            search=search,
            offset=page.offset,
            limit=page.size,
        )
    return Page(items=items, number=page.number, size=page.size, total=total)


async def get_principal(*, store: Store, actor: Principal, principal_id: str) -> Principal:
    """One principal: any for an admin, itself for anyone."""
    if principal_id != actor.principal_id:
        actor.require(Permission.MANAGE_PRINCIPALS)
    async with store.reader() as uow:
        return await _existing(uow, principal_id)


async def delete_principal(
    *, store: Store, actor: Principal, principal_id: str, transfer_to: str | None = None
) -> None:
    """Delete a principal with its keys, first handing what it owns to `transfer_to`."""
    actor.require(Permission.MANAGE_PRINCIPALS)
    async with store.writer() as uow:
        principal = await _existing(uow, principal_id, lock=True)
        if principal.role is Role.ADMIN and await uow.principals.count(Role.ADMIN) <= 1:
            raise FailedPrecondition("the last admin principal cannot be deleted")
        details = await settle_owned(uow, principal_id, transfer_to=transfer_to)
        await uow.principals.delete(principal_id)
        await record(uow, actor, AuditAction.DELETE, ResourceType.PRINCIPAL, principal_id, details)
        await uow.commit()


async def issue_api_key(
    *,
    store: Store,
    actor: Principal,
    principal_id: str,
    label: str | None = None,
    gateway_only: bool = False,
    models: Sequence[str] | None = None,
    expires_at: int | None = None,
    actor_scope: KeyScope = UNSCOPED,
    actor_key_id: str | None = None,
) -> IssuedApiKey:
    """Create an API key, perhaps scoped; the token is returned once and stored as a hash.

    A member's new key stays within the scope of the key it acts with: `actor_scope`, or
    the stored scope of its key `actor_key_id` (the console's session knows only its id).
    """
    _require_keys_of(actor, principal_id)
    admin = actor.has(Permission.MANAGE_PRINCIPALS)
    if not admin and not gateway_only:
        raise PermissionDenied(
            "gatewayOnly: must be true: a member issues itself only keys for the gateway; "
            "an admin issues keys that manage"
        )
    _check_key(label, models, expires_at)
    async with store.writer() as uow:
        principal = await _existing(uow, principal_id)
        entries, groups = (
            (None, []) if models is None else await scoped_models(uow, principal, models)
        )
        scope = KeyScope(gateway_only=gateway_only, models=entries, expires_at=expires_at)
        if not admin:
            if actor_key_id is not None:
                actor_scope = await _scope_of_key(uow, actor.principal_id, actor_key_id)
            scope.require_within(actor_scope, groups)
        issued = await add_api_key(
            uow, actor=actor, principal_id=principal_id, label=label, scope=scope
        )
        await uow.commit()
    return issued


async def add_api_key(
    uow: UnitOfWork,
    *,
    actor: Principal,
    principal_id: str,
    label: str | None,
    scope: KeyScope,
    details: dict[str, object] | None = None,
) -> IssuedApiKey:
    """Store a new API key with `scope` in `uow`, audited (with `details`); the caller
    checked who may issue it, and commits."""
    token = new_api_token()
    key = ApiKey(
        api_key_id=str(uuid.uuid4()),
        principal_id=principal_id,
        key_prefix=display_prefix(token),
        label=label,
        created_at=now_ms(),
        revoked_at=None,
        scope=scope,
    )
    await uow.principals.add_api_key(key, token_hash=hash_token(token))
    await record(
        uow,
        actor,
        AuditAction.CREATE,
        ResourceType.API_KEY,
        key.api_key_id,
        {"principalId": principal_id, **_scope_details(scope), **(details or {})},
    )
    return IssuedApiKey(api_key=key, token=token)


async def list_api_keys(*, store: Store, actor: Principal, principal_id: str) -> list[ApiKey]:
    """A principal's API keys, revoked ones included (an admin's, or the principal's own)."""
    _require_keys_of(actor, principal_id)
    async with store.reader() as uow:
        await _existing(uow, principal_id)
        return await uow.principals.list_api_keys(principal_id)


async def revoke_api_key(
    *, store: Store, actor: Principal, principal_id: str, api_key_id: str
) -> ApiKey:
    """Revoke an API key; revoking twice keeps the first revocation time."""
    _require_keys_of(actor, principal_id)
    async with store.writer() as uow:
        await _existing(uow, principal_id)
        keys = {k.api_key_id: k for k in await uow.principals.list_api_keys(principal_id)}
        key = keys.get(api_key_id)
        if key is None:
            raise NotFound(API_KEY, api_key_id)
        if key.revoked_at is None:
            key = replace(key, revoked_at=now_ms())
            await uow.principals.set_api_key_revoked(api_key_id, key.revoked_at)
            await record(
                uow,
                actor,
                AuditAction.REVOKE,
                ResourceType.API_KEY,
                api_key_id,
                {"principalId": principal_id},
            )
            await uow.commit()
    return key


async def issue_access_key(
    *, store: Store, secrets: SecretBox, actor: Principal, principal_id: str
) -> IssuedAccessKey:
    """Create an access-key pair for the Alibaba faces; the secret is sealed at rest."""
    actor.require(Permission.MANAGE_PRINCIPALS)
    secret = new_access_key_secret()
    key = AccessKey(
        access_key_id=new_access_key_id(),
        principal_id=principal_id,
        created_at=now_ms(),
        revoked_at=None,
    )
    sealed = secrets.seal(secret.encode(), aad=access_key_aad(key.access_key_id))
    async with store.writer() as uow:
        await _existing(uow, principal_id)
        await uow.principals.add_access_key(key, secret_sealed=sealed)
        await record(
            uow,
            actor,
            AuditAction.CREATE,
            ResourceType.ACCESS_KEY,
            key.access_key_id,
            {"principalId": principal_id},
        )
        await uow.commit()
    return IssuedAccessKey(access_key=key, secret=secret)


async def list_access_keys(*, store: Store, actor: Principal, principal_id: str) -> list[AccessKey]:
    """A principal's access keys, revoked ones included (admin only)."""
    actor.require(Permission.MANAGE_PRINCIPALS)
    async with store.reader() as uow:
        await _existing(uow, principal_id)
        return await uow.principals.list_access_keys(principal_id)


async def revoke_access_key(
    *, store: Store, actor: Principal, principal_id: str, access_key_id: str
) -> AccessKey:
    """Revoke an access key; revoking twice keeps the first revocation time."""
    actor.require(Permission.MANAGE_PRINCIPALS)
    async with store.writer() as uow:
        found = await uow.principals.access_key(access_key_id)
        if found is None or found[0].principal_id != principal_id:
            raise NotFound(ACCESS_KEY, access_key_id)
        key = found[0]
        if key.revoked_at is None:
            key = replace(key, revoked_at=now_ms())
            await uow.principals.update_access_key(access_key_id, revoked_at=key.revoked_at)
            await record(
                uow,
                actor,
                AuditAction.REVOKE,
                ResourceType.ACCESS_KEY,
                access_key_id,
                {"principalId": principal_id},
            )
            await uow.commit()
    return key


async def authenticate_key(*, store: Store, token: str) -> KeyCaller:
    """The principal, key and scope behind an API token (unknown, revoked, expired: 401)."""
    # Kept in the read cache, which every change (a revocation) clears; expiry is per call.
    token_hash = hash_token(token)

    async def load() -> KeyCaller | None:
        async with store.reader() as uow:
            return await uow.principals.by_token_hash(token_hash)

    caller = await store.cached(("principal-by-token", token_hash), load)
    if caller is None:
        raise Unauthenticated("the API key is not valid")
    if caller.scope.expired(now_ms()):
        raise Unauthenticated(caller.scope.expiry_message())
    return caller


async def access_key_secret(
    *, store: Store, secrets: SecretBox, access_key_id: str
) -> tuple[Principal, str]:
    """The principal and plaintext secret of an active access key (for signature checks).

    Kept in the read cache, which every change (a revocation included) clears.
    """

    async def load() -> tuple[Principal, str] | None:
        async with store.reader() as uow:
            found = await uow.principals.access_key(access_key_id)
            principal = await uow.principals.get(found[0].principal_id) if found else None
        if found is None or found[0].revoked_at is not None or principal is None:
            return None
        what = f"access key {access_key_id!r}"
        opened = open_sealed(secrets, found[1], aad=access_key_aad(access_key_id), what=what)
        return principal, opened.decode()

    pair = await store.cached(("access-key", access_key_id), load)
    if pair is None:
        raise Unauthenticated(f"access key {access_key_id!r} is not valid")
    return pair
