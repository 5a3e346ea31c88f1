"""Owners in a stack: principals named in the file, resolved to ids when planning (the
ones that exist) or when applying (the ones `principals` creates on the way).

Owners and workspace members are named, never given by id: a principal's id differs from
one instance to another, its name does not.
"""

from __future__ import annotations

from collections.abc import Callable

from modelplane.client import Client, PermissionDenied, Principal
from modelplane.stack.changes import Ids
from modelplane.stack.spec import StackError

OwnerOf = Callable[[Ids], str | None]


class Owner:
    """Who owns an entry, for the runs of a batch (they get the client, not the ids): the
    id known when planning, else the principal found by name when the batch runs (after
    the change that created it)."""

    def __init__(self, owner_id: str | None, name: str | None = None) -> None:
        self.owner_id, self.name = owner_id, name

    def at_apply(self, client: Client) -> str | None:
        """The owner's id, once what comes before the batch has run."""
        if self.owner_id is not None or self.name is None:
            return self.owner_id
        found = [p for p in client.principals.list() if p.name == self.name]
        if not found:
            raise StackError(f"principal {self.name!r} does not exist")
        return found[0].principal_id


def fixed(owner_id: str | None) -> OwnerOf:
    """An owner known when planning (None: not named, the principal applying)."""
    return lambda _ids: owner_id


class Principals:
    """The instance's principals by name and id, read once when a stack names any."""

    def __init__(self, client: Client, *, needed: bool) -> None:
        self.listed: list[Principal] | None = None
        if needed:
            try:
                self.listed = client.principals.list()
            except PermissionDenied:
                self.listed = None
        self.by_name = {p.name: p for p in self.listed or []}
        self.by_id = {p.principal_id: p for p in self.listed or []}

    def id_now(self, place: str, name: str) -> str | None:
        """The id of the principal named `name` (None: apply creates it)."""
        if self.listed is None:
            raise StackError(
                f"{place}: naming principals needs a token that may list them (an admin's)"
            )
        found = self.by_name.get(name)
        return None if found is None else found.principal_id

    def owner_of(self, place: str, name: str | None, owner_id: str | None) -> OwnerOf:
        """Who is to own what an entry creates: by name (resolved now, or when applying
        for a principal apply creates), else the entry's `ownerId` (or None)."""
        if name is None:
            return fixed(owner_id)
        known = self.id_now(place, name)
        if known is not None:
            return fixed(known)
        return lambda ids: ids.principals[name]

    def name_of(self, principal_id: str) -> str:
        """A principal's name, for messages (its id when it cannot be listed)."""
        found = self.by_id.get(principal_id)
        return principal_id if found is None else found.name

    def check_owner(self, place: str, what: str, owner_id: str, name: str | None) -> None:
        """StackError when an existing resource is not owned by the principal named."""
        if name is None or self.id_now(place, name) == owner_id:
            return
        raise StackError(
            f"{place}: {what} is owned by {self.name_of(owner_id)!r}, not {name!r}; a stack "
            "does not move a resource to another owner"
        )

    def owner(self, place: str, name: str | None, owner_id: str | None) -> Owner:
        """`owner_of` for a batch."""
        if name is None:
            return Owner(owner_id)
        return Owner(self.id_now(place, name), name)
