"""What a principal owns when it is deleted: refuse, or hand it all to another principal."""

from __future__ import annotations

from typing import Any

from modelplane.domain.errors import AlreadyExists, InvalidArgument, Unauthenticated
from modelplane.domain.llms import RESOURCE as LLM
from modelplane.domain.ownership import TRANSFER_TO, check_transfer_target, still_owns
from modelplane.domain.principals import Principal
from modelplane.store.uow import UnitOfWork

COLLISIONS_NAMED = 3


async def hold_owner(uow: UnitOfWork, actor: Principal, owner_id: str) -> None:
    """Keep `owner_id` from being deleted while this unit of work gives it something.

    A principal deleted meanwhile owns nothing new: for the actor itself that is
    Unauthenticated, for another owner an InvalidArgument on `ownerId`.
    """
    if await uow.principals.hold(owner_id):
        return
    if owner_id == actor.principal_id:
        raise Unauthenticated("the principal of this API key has been deleted")
    raise InvalidArgument.of("ownerId", f"no principal {owner_id!r} exists")


async def settle_owned(
    uow: UnitOfWork, principal_id: str, *, transfer_to: str | None
) -> dict[str, Any]:
    """Hand what `principal_id` owns to `transfer_to`, or refuse if it owns anything.

    Its workspace memberships (access, not ownership) are dropped. Returns the audit
    details: to whom, how many of each kind moved, how many memberships went.
    """
    details: dict[str, Any] = {}
    if transfer_to is None:
        counts = await uow.ownership.counts(principal_id)
        if any(counts.values()):
            raise still_owns(principal_id, counts)
    else:
        details = await _transfer(uow, principal_id, transfer_to)
    memberships = await uow.ownership.drop_memberships(principal_id)
    if memberships:
        details["membershipsRemoved"] = memberships
    return details


async def _transfer(uow: UnitOfWork, principal_id: str, transfer_to: str) -> dict[str, Any]:
    check_transfer_target(principal_id, transfer_to)
    if not await uow.principals.hold(transfer_to):
        raise InvalidArgument.of(TRANSFER_TO, f"no principal {transfer_to!r} exists")
    counts = await uow.ownership.counts(principal_id)
    await _refuse_collisions(uow, principal_id, transfer_to)
    await uow.ownership.transfer(principal_id, transfer_to)
    return {"transferredTo": transfer_to, "counts": counts}


async def _refuse_collisions(uow: UnitOfWork, principal_id: str, transfer_to: str) -> None:
    pairs = await uow.ownership.llm_collisions(principal_id, transfer_to)
    if pairs:
        named = "; ".join(
            f"LLM {mine} has the same connection as LLM {theirs} of {transfer_to}"
            for mine, theirs in pairs[:COLLISIONS_NAMED]
        )
        more = (
            f" (and {len(pairs) - COLLISIONS_NAMED} more)" if len(pairs) > COLLISIONS_NAMED else ""
        )
        raise AlreadyExists(LLM, f"cannot transfer to {transfer_to}: {named}{more}")
