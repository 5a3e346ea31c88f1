"""Revoking the gateway keys that runtime bindings keep, inside the change that ends them.

Kept apart from `services/runtimes.py` so that deleting a model group
(`services/catalog.py`) can revoke its bindings' keys in its own transaction: this module
needs only the store and the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.principals import Principal
from modelplane.domain.runtimes import RuntimeKey
from modelplane.services.audit import record
from modelplane.services.clock import now_ms
from modelplane.store.uow import UnitOfWork


def runtime_key_aad(api_key_id: str) -> str:
    """The associated data binding a sealed gateway token to its row."""
    return f"runtime_gateway_keys/{api_key_id}/token"


async def revoke_runtime_keys(
    uow: UnitOfWork, actor: Principal, keys: Sequence[RuntimeKey], *, reason: str
) -> None:
    """Revoke each key (audited with `reason`) and forget it; the caller commits."""
    now = now_ms()
    for key in keys:
        if key.revoked_at is None:
            await uow.principals.set_api_key_revoked(key.api_key_id, now)
            await record(
                uow,
                actor,
                AuditAction.REVOKE,
                ResourceType.API_KEY,
                key.api_key_id,
                {
                    "principalId": key.principal_id,
                    "runtime": key.runtime,
                    "modelTemplateId": key.model_template_id,
                    "reason": reason,
                },
            )
        await uow.catalog.drop_runtime_key(key.api_key_id)
