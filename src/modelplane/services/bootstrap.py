"""First-start and environment-driven creation of an admin principal."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.errors import FailedPrecondition
from modelplane.domain.principals import AccessKey, ApiKey, Principal, Role
from modelplane.security.secretbox import SecretBox
from modelplane.security.tokens import display_prefix, hash_token, new_api_token
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.services.principals import access_key_aad
from modelplane.services.sealed_values import why_unopenable
from modelplane.store.uow import Store, UnitOfWork

BOOTSTRAP_NAME = "bootstrap-admin"
FIRST_ADMIN_NAME = "admin"
log = logging.getLogger("modelplane.bootstrap")


@dataclass(frozen=True)
class BootstrapResult:
    """What bootstrapping did; `first_token` is set only on a first start."""

    first_token: str | None = None
    principal_id: str | None = None


async def _admin(uow: UnitOfWork, name: str) -> Principal:
    principal = await uow.principals.get_by_name(name)
    if principal is None:
        principal = Principal(
            principal_id=str(uuid.uuid4()), name=name, role=Role.ADMIN, created_at=now_ms()
        )
        await uow.principals.add(principal)
        await record(
            uow,
            None,
            AuditAction.CREATE,
            ResourceType.PRINCIPAL,
            principal.principal_id,
            {"name": name, "role": Role.ADMIN.value, "bootstrap": True},
        )
    elif principal.role is not Role.ADMIN:
        raise FailedPrecondition(f"principal {name!r} exists but is not an admin")
    return principal


async def _ensure_token(uow: UnitOfWork, principal: Principal, token: str) -> None:
    existing = await uow.principals.api_key_by_hash(hash_token(token))
    if existing is None:
        key = ApiKey(
            api_key_id=str(uuid.uuid4()),
            principal_id=principal.principal_id,
            key_prefix=display_prefix(token),
            label="bootstrap",
            created_at=now_ms(),
            revoked_at=None,
        )
        await uow.principals.add_api_key(key, token_hash=hash_token(token))
        await record(
            uow,
            None,
            AuditAction.CREATE,
            ResourceType.API_KEY,
            key.api_key_id,
            {"principalId": principal.principal_id, "bootstrap": True},
        )
    elif existing.principal_id != principal.principal_id:
        raise FailedPrecondition("MODELPLANE_BOOTSTRAP_TOKEN belongs to another principal")
    elif existing.revoked_at is not None:
        log.warning("MODELPLANE_BOOTSTRAP_TOKEN was revoked; it stays revoked")


async def _ensure_access_key(
    uow: UnitOfWork, secrets: SecretBox, principal: Principal, key_id: str, secret: str
) -> None:
    sealed = secrets.seal(secret.encode(), aad=access_key_aad(key_id))
    found = await uow.principals.access_key(key_id)
    if found is None:
        key = AccessKey(
            access_key_id=key_id,
            principal_id=principal.principal_id,
            created_at=now_ms(),
            revoked_at=None,
        )
        await uow.principals.add_access_key(key, secret_sealed=sealed)
        await record(
            uow,
            None,
            AuditAction.CREATE,
            ResourceType.ACCESS_KEY,
            key_id,
            {"principalId": principal.principal_id, "bootstrap": True},
        )
        return
    key, current = found
    if key.principal_id != principal.principal_id:
        raise FailedPrecondition("MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID belongs to another principal")
    unopenable = why_unopenable(secrets, current, aad=access_key_aad(key_id)) is not None
    if unopenable:  # sealed under a key this server does not have: the given secret wins
        log.warning(
            "the stored secret of MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID cannot be decrypted with "
            "this server's master keys; it is replaced by MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET"
        )
    if unopenable or secrets.open(current, aad=access_key_aad(key_id)).decode() != secret:
        await uow.principals.update_access_key(
            key_id, secret_sealed=sealed, revoked_at=key.revoked_at
        )
        await record(
            uow,
            None,
            AuditAction.UPDATE,
            ResourceType.ACCESS_KEY,
            key_id,
            {"principalId": principal.principal_id, "fields": ["secret"], "bootstrap": True},
        )
    if key.revoked_at is not None:
        log.warning("MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID was revoked; it stays revoked")


async def bootstrap(
    *,
    store: Store,
    secrets: SecretBox,
    token: str | None,
    access_key: tuple[str, str] | None,
) -> BootstrapResult:
    """Create or refresh the bootstrap admin; on an empty store without one, mint a key."""
    async with store.writer() as uow:
        if token is None and access_key is None:
            if await uow.principals.count() > 0:
                return BootstrapResult()
            principal = await _admin(uow, FIRST_ADMIN_NAME)
            first = new_api_token()
            await _ensure_token(uow, principal, first)
            await uow.commit()
            return BootstrapResult(first_token=first, principal_id=principal.principal_id)
        principal = await _admin(uow, BOOTSTRAP_NAME)
        if token is not None:
            await _ensure_token(uow, principal, token)
        if access_key is not None:
            await _ensure_access_key(uow, secrets, principal, *access_key)
        await uow.commit()
    return BootstrapResult(principal_id=principal.principal_id)
