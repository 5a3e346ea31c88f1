"""Where the current change comes from: the face and the request id, framework-free.

The faces' middleware sets it for each request; the CLI sets face `cli` for commands
that work on the database directly. Anything else (the bootstrap at start) is `system`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Origin:
    """The face a change came through and the id of its request (None outside requests)."""

    face: str
    request_id: str | None = None


_SYSTEM = Origin(face="system")
_ORIGIN: ContextVar[Origin] = ContextVar("modelplane_origin", default=_SYSTEM)


def current_origin() -> Origin:
    """The origin of the code running now."""
    return _ORIGIN.get()


def enter(face: str, request_id: str | None = None) -> Token[Origin]:
    """Make (`face`, `request_id`) the origin until `leave(token)`."""
    return _ORIGIN.set(Origin(face=face, request_id=request_id))


def set_face(face: str) -> None:
    """Name the face of the current request (once the route knows it), keeping its id."""
    _ORIGIN.set(Origin(face=face, request_id=_ORIGIN.get().request_id))


def leave(token: Token[Origin]) -> None:
    """Restore the origin that was current before `enter`."""
    _ORIGIN.reset(token)


@contextmanager
def acting_from(face: str, request_id: str | None = None) -> Iterator[None]:
    """Run a block with this origin."""
    token = enter(face, request_id)
    try:
        yield
    finally:
        leave(token)
