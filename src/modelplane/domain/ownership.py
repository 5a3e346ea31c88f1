"""What a principal owns: counted before it is deleted or handed over, and named before
anybody else writes into it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from modelplane.domain.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from modelplane.domain.llms import is_uuid
from modelplane.domain.principals import Action, Principal

TRANSFER_TO = "transferTo"
OWNER_ID = "ownerId"


@dataclass(frozen=True)
class OwnedKind:
    """A kind of resource with an owner: its key in counts and its names in messages."""

    key: str
    singular: str
    plural: str

    def describe(self, count: int) -> str:
        """`1 llm`, `3 llms`."""
        return f"{count} {self.singular if count == 1 else self.plural}"


LLMS = OwnedKind("llms", "llm", "llms")
MODEL_GROUPS = OwnedKind("modelGroups", "model group", "model groups")
WORKSPACES = OwnedKind("workspaces", "workspace", "workspaces")
CONFIG_NAMESPACES = OwnedKind("configNamespaces", "config namespace", "config namespaces")
OWNED_KINDS = (LLMS, MODEL_GROUPS, WORKSPACES, CONFIG_NAMESPACES)


def describe_owned(counts: Mapping[str, int]) -> str:
    """The non-zero counts in words, e.g. `3 llms, 1 model group`."""
    return ", ".join(k.describe(counts[k.key]) for k in OWNED_KINDS if counts.get(k.key))


def still_owns(principal_id: str, counts: Mapping[str, int]) -> FailedPrecondition:
    """The refusal to delete a principal that owns resources.

    Config namespaces have no delete, so with one the only way on is a transfer.
    """
    hint = f"pass {TRANSFER_TO} to hand them to another principal"
    if not counts.get(CONFIG_NAMESPACES.key):
        hint = f"delete them or {hint}"
    return FailedPrecondition(
        f"principal {principal_id} still owns {describe_owned(counts)}; {hint}"
    )


def check_transfer_target(principal_id: str, transfer_to: str) -> None:
    """A new owner must be named and differ from the principal being deleted."""
    if not transfer_to.strip():
        raise InvalidArgument.of(TRANSFER_TO, "must name a principal when given")
    if transfer_to == principal_id:
        raise InvalidArgument.of(TRANSFER_TO, "must differ from the principal being deleted")


def check_owner_id(owner_id: str) -> None:
    """An `ownerId` given names a principal by its id, which is a UUID."""
    if not is_uuid(owner_id):
        raise InvalidArgument.of(OWNER_ID, "must be a principal's id (a UUID)")


def check_named_owner(actor: Principal, resource: str, named_owner: str | None) -> None:
    """Only a principal that may write any owner's `resource` (an admin) names another owner.

    Checked before anything is looked up, so the refusal tells a member nothing.
    """
    if named_owner is None:
        return
    check_owner_id(named_owner)
    if not actor.may(Action.UPDATE, resource, named_owner):
        raise PermissionDenied(f"{OWNER_ID}: only an admin may name an owner other than itself")


def check_write_into(
    kind: str, name: str, owner_id: str, *, actor: Principal, named_owner: str | None
) -> None:
    """A write into the `kind` `name`, owned by `owner_id`, must name that owner unless
    it is the actor's.

    Called once the actor may write there at all: it keeps an admin from writing into
    another principal's namespace or workspace without knowing whose it is.
    """
    if named_owner is None and owner_id == actor.principal_id:
        return
    if named_owner is None:
        raise FailedPrecondition(
            f"{kind} {name} is owned by principal {owner_id}; a write into another "
            f"principal's {kind} must name its owner ({OWNER_ID}={owner_id}, on the native API)"
        )
    if named_owner != owner_id:
        raise FailedPrecondition(
            f"{kind} {name} is owned by principal {owner_id}, not by {named_owner} ({OWNER_ID})"
        )
