"""Repositories of principals, their API keys and their access keys."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from modelplane.domain.errors import AlreadyExists
from modelplane.domain.key_scopes import KeyScope, ScopedModel
from modelplane.domain.principals import AccessKey, ApiKey, KeyCaller, Principal, Role
from modelplane.store.engine import Connection
from modelplane.store.tables import access_keys, api_keys, principals, signature_nonces

_BY_TOKEN_HASH = (
    sa.select(
        principals,
        api_keys.c.api_key_id,
        api_keys.c.gateway_only,
        api_keys.c.allowed_models,
        api_keys.c.expires_at,
    )
    .join(api_keys, api_keys.c.principal_id == principals.c.principal_id)
    .where(api_keys.c.token_hash == sa.bindparam("token_hash"), api_keys.c.revoked_at.is_(None))
)


_REMEMBER_NONCE = signature_nonces.insert()  # built once: compiled once, on every request


def _principal(row: Any) -> Principal:
    return Principal(
        principal_id=row.principal_id, name=row.name, role=Role(row.role), created_at=row.created_at
    )


def _scope(row: Any) -> KeyScope:
    models = row.allowed_models
    return KeyScope(
        gateway_only=bool(row.gateway_only),
        models=None
        if models is None
        else tuple(ScopedModel(m["name"], m.get("groupId")) for m in models),
        expires_at=row.expires_at,
    )


def _stored_models(scope: KeyScope) -> Any:
    if scope.models is None:
        return sa.null()  # SQL NULL, not the JSON text null
    return [{"name": m.name, "groupId": m.group_id} for m in scope.models]


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        api_key_id=row.api_key_id,
        principal_id=row.principal_id,
        key_prefix=row.key_prefix,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        scope=_scope(row),
    )


def _access_key(row: Any) -> AccessKey:
    return AccessKey(
        access_key_id=row.access_key_id,
        principal_id=row.principal_id,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class PrincipalRepository:
    """Principals and their credentials inside one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, principal: Principal) -> None:
        """Insert; a taken name raises AlreadyExists."""
        try:
            await self._conn.execute(
                principals.insert().values(
                    principal_id=principal.principal_id,
                    name=principal.name,
                    role=principal.role.value,
                    created_at=principal.created_at,
                )
            )
        except IntegrityError:
            raise AlreadyExists(
                "Principal", f"a principal named {principal.name!r} already exists"
            ) from None

    async def get(self, principal_id: str, *, lock: bool = False) -> Principal | None:
        """The principal with this id, or None; `lock`: held until the unit of work ends.

        Locking (PostgreSQL) makes `hold` in other transactions wait, so that nothing is
        given to a principal while it is being deleted.
        """
        query = sa.select(principals).where(principals.c.principal_id == principal_id)
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _principal(row) if row is not None else None

    async def hold(self, principal_id: str) -> bool:
        """Keep the principal from being deleted until the unit of work ends; whether it exists.

        PostgreSQL: `FOR KEY SHARE`, which waits for a deletion in progress and then sees
        its outcome. SQLite serializes writers, so a plain read is enough there.
        """
        query = (
            sa.select(principals.c.principal_id)
            .where(principals.c.principal_id == principal_id)
            .with_for_update(read=True, key_share=True)
        )
        return (await self._conn.execute(query)).first() is not None

    async def get_by_name(self, name: str) -> Principal | None:
        """The principal with this name, or None."""
        query = sa.select(principals).where(principals.c.name == name)
        row = (await self._conn.execute(query)).first()
        return _principal(row) if row is not None else None

    async def all(self) -> list[Principal]:
        """Every principal, oldest first."""
        query = sa.select(principals).order_by(principals.c.created_at, principals.c.name)
        return [_principal(row) for row in await self._conn.execute(query)]

    async def page(
        self, *, role: Role | None, search: str | None, offset: int, limit: int
    ) -> tuple[list[Principal], int]:
        """One page of the principals of `role` (if given) whose name contains `search`
        (case-insensitively), by name, and how many match in all."""
        conditions: list[sa.ColumnElement[bool]] = []
        if role is not None:
            conditions.append(principals.c.role == role.value)
        if search:
            escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(sa.func.lower(principals.c.name).like(f"%{escaped}%", escape="\\"))
        total_query = sa.select(sa.func.count()).select_from(principals).where(*conditions)
        total = int((await self._conn.execute(total_query)).scalar_one())
        query = (
            sa.select(principals)
            .where(*conditions)
            .order_by(principals.c.name)
            .offset(offset)
            .limit(limit)
        )
        return [_principal(row) for row in await self._conn.execute(query)], total

    async def count(self, role: Role | None = None) -> int:
        """How many principals there are (of `role`, if given)."""
        query = sa.select(sa.func.count()).select_from(principals)
        if role is not None:
            query = query.where(principals.c.role == role.value)
        return int((await self._conn.execute(query)).scalar_one())

    async def delete(self, principal_id: str) -> bool:
        """Delete the principal and (by cascade) its keys."""
        await self._conn.execute(api_keys.delete().where(api_keys.c.principal_id == principal_id))
        await self._conn.execute(
            access_keys.delete().where(access_keys.c.principal_id == principal_id)
        )
        result = await self._conn.execute(
            principals.delete().where(principals.c.principal_id == principal_id)
        )
        return bool(result.rowcount)

    async def by_token_hash(self, token_hash: str) -> KeyCaller | None:
        """The unrevoked API key with this hash, with its principal and scope."""
        row = (await self._conn.execute(_BY_TOKEN_HASH, {"token_hash": token_hash})).first()
        if row is None:
            return None
        return KeyCaller(principal=_principal(row), api_key_id=row.api_key_id, scope=_scope(row))

    async def add_api_key(self, key: ApiKey, *, token_hash: str) -> None:
        """Store an API key's metadata and the hash of its token."""
        await self._conn.execute(
            api_keys.insert().values(
                api_key_id=key.api_key_id,
                principal_id=key.principal_id,
                token_hash=token_hash,
                key_prefix=key.key_prefix,
                label=key.label,
                created_at=key.created_at,
                revoked_at=None,
                gateway_only=key.scope.gateway_only,
                allowed_models=_stored_models(key.scope),
                expires_at=key.scope.expires_at,
            )
        )

    async def api_key_by_hash(self, token_hash: str) -> ApiKey | None:
        """The API key (revoked or not) whose token has this hash."""
        query = sa.select(api_keys).where(api_keys.c.token_hash == token_hash)
        row = (await self._conn.execute(query)).first()
        return _api_key(row) if row is not None else None

    async def list_api_keys(self, principal_id: str) -> list[ApiKey]:
        """A principal's API keys, oldest first."""
        query = (
            sa.select(api_keys)
            .where(api_keys.c.principal_id == principal_id)
            .order_by(api_keys.c.created_at, api_keys.c.api_key_id)
        )
        return [_api_key(row) for row in await self._conn.execute(query)]

    async def set_api_key_revoked(self, api_key_id: str, revoked_at: int | None) -> None:
        """Revoke (or, with None, reinstate) an API key."""
        await self._conn.execute(
            api_keys.update()
            .where(api_keys.c.api_key_id == api_key_id)
            .values(revoked_at=revoked_at)
        )

    async def add_access_key(self, key: AccessKey, *, secret_sealed: str) -> None:
        """Store an access key with its sealed secret."""
        await self._conn.execute(
            access_keys.insert().values(
                access_key_id=key.access_key_id,
                principal_id=key.principal_id,
                secret_sealed=secret_sealed,
                created_at=key.created_at,
                revoked_at=None,
            )
        )

    async def access_key(self, access_key_id: str) -> tuple[AccessKey, str] | None:
        """An access key and its sealed secret, or None."""
        query = sa.select(access_keys).where(access_keys.c.access_key_id == access_key_id)
        row = (await self._conn.execute(query)).first()
        return (_access_key(row), row.secret_sealed) if row is not None else None

    async def list_access_keys(self, principal_id: str) -> list[AccessKey]:
        """A principal's access keys, oldest first."""
        query = (
            sa.select(access_keys)
            .where(access_keys.c.principal_id == principal_id)
            .order_by(access_keys.c.created_at, access_keys.c.access_key_id)
        )
        return [_access_key(row) for row in await self._conn.execute(query)]

    async def update_access_key(
        self, access_key_id: str, *, secret_sealed: str | None = None, revoked_at: int | None
    ) -> None:
        """Replace the sealed secret (when given) and set the revocation time."""
        values: dict[str, Any] = {"revoked_at": revoked_at}
        if secret_sealed is not None:
            values["secret_sealed"] = secret_sealed
        await self._conn.execute(
            access_keys.update()
            .where(access_keys.c.access_key_id == access_key_id)
            .values(**values)
        )

    async def remember_nonce(self, access_key_id: str, nonce: str, *, expires_at: int) -> bool:
        """Record a signature nonce; False when it was already seen (a replay)."""
        try:
            await self._conn.execute(
                _REMEMBER_NONCE,
                {"access_key_id": access_key_id, "nonce": nonce, "expires_at": expires_at},
            )
        except IntegrityError:
            return False
        return True

    async def forget_nonces_before(self, now_ms: int) -> None:
        """Drop nonces too old to pass the date check anyway."""
        await self._conn.execute(
            signature_nonces.delete().where(signature_nonces.c.expires_at < now_ms)
        )
