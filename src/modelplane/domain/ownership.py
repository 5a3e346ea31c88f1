"""What a principal owns, by kind: counted before it is deleted or handed over."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from modelplane.domain.errors import FailedPrecondition, InvalidArgument

TRANSFER_TO = "transferTo"


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
