"""A principal with its API keys and limits, or one key with its limits, read together in
one transaction (the console's Keys screen): an admin reads anyone's, a member its own."""

from __future__ import annotations

from dataclasses import dataclass

from modelplane.domain.errors import NotFound
from modelplane.domain.principals import ApiKey, Permission, Principal
from modelplane.domain.spend_limits import SubjectKind
from modelplane.services.principals import API_KEY, PRINCIPAL
from modelplane.services.spend_limits import LimitsView, limits_in_use
from modelplane.store.counters import Counters
from modelplane.store.uow import Store, UnitOfWork


@dataclass(frozen=True)
class PrincipalKeys:
    """A principal, its API keys (newest first, revoked ones included) and its limits."""

    principal: Principal
    api_keys: list[ApiKey]
    limits: LimitsView


@dataclass(frozen=True)
class KeyDetail:
    """One API key, its principal, and the key's limits."""

    principal: Principal
    api_key: ApiKey
    limits: LimitsView


def _may_read(actor: Principal, principal_id: str) -> None:
    if principal_id != actor.principal_id:
        actor.require(Permission.MANAGE_PRINCIPALS)


async def _principal(uow: UnitOfWork, principal_id: str) -> Principal:
    found = await uow.principals.get(principal_id)
    if found is None:
        raise NotFound(PRINCIPAL, principal_id)
    return found


async def principal_keys(
    *, store: Store, counters: Counters, actor: Principal, principal_id: str
) -> PrincipalKeys:
    """A principal, its API keys and its limits with this window's use."""
    _may_read(actor, principal_id)
    async with store.reader() as uow:
        principal = await _principal(uow, principal_id)
        keys = await uow.principals.list_api_keys(principal_id)
        found = await uow.spend_limits.get(SubjectKind.PRINCIPAL, principal_id)
    limits = await limits_in_use(counters, SubjectKind.PRINCIPAL, principal_id, principal_id, found)
    return PrincipalKeys(principal=principal, api_keys=keys[::-1], limits=limits)


async def key_detail(
    *, store: Store, counters: Counters, actor: Principal, principal_id: str, api_key_id: str
) -> KeyDetail:
    """One API key of a principal and its limits with this window's use."""
    _may_read(actor, principal_id)
    async with store.reader() as uow:
        principal = await _principal(uow, principal_id)
        keys = {k.api_key_id: k for k in await uow.principals.list_api_keys(principal_id)}
        key = keys.get(api_key_id)
        if key is None:
            raise NotFound(API_KEY, api_key_id)
        found = await uow.spend_limits.get(SubjectKind.API_KEY, api_key_id)
    limits = await limits_in_use(counters, SubjectKind.API_KEY, api_key_id, principal_id, found)
    return KeyDetail(principal=principal, api_key=key, limits=limits)
