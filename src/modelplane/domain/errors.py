"""The domain error tree. Every face maps these to its wire format in one table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One broken rule on one input field (`field` is a dotted wire path)."""

    field: str
    rule: str


def listing(violations: Sequence[FieldViolation]) -> str:
    """The message of an InvalidArgument that names `violations`: `field: rule; …`."""
    return "; ".join(f"{v.field}: {v.rule}" for v in violations)


class DomainError(Exception):
    """Base of every error a use case may raise on purpose."""

    def __init__(self, message: str, *, violations: Sequence[FieldViolation] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = tuple(violations)


class InvalidArgument(DomainError):
    """The input breaks a rule; `violations` names the fields."""

    @classmethod
    def of(cls, field_name: str, rule: str) -> InvalidArgument:
        """Build the error for a single field."""
        violation = FieldViolation(field_name, rule)
        return cls(listing([violation]), violations=[violation])


class Unauthenticated(DomainError):
    """No principal could be established from the request."""


class PermissionDenied(DomainError):
    """The principal is known but may not do this."""


class NotFound(DomainError):
    """The resource does not exist or is not visible to the principal."""

    def __init__(self, entity: str, key: str) -> None:
        super().__init__(f"{entity} {key!r} not found")
        self.entity = entity
        self.key = key


class AlreadyExists(DomainError):
    """A resource with the same identity already exists."""

    def __init__(self, entity: str, message: str) -> None:
        super().__init__(message)
        self.entity = entity


class FailedPrecondition(DomainError):
    """The system is not in the state the operation needs."""


class ResourceExhausted(DomainError):
    """A quota or rate limit was hit."""

    def __init__(self, message: str, *, retry_after_seconds: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """A dependency (the store) cannot be reached right now."""


@dataclass
class ViolationCollector:
    """Collects field violations so one error can report all of them."""

    violations: list[FieldViolation] = field(default_factory=list)

    def add(self, field_name: str, rule: str) -> None:
        """Record a broken rule."""
        self.violations.append(FieldViolation(field_name, rule))

    def raise_if_any(self) -> None:
        """Raise InvalidArgument naming every recorded field, if any."""
        if self.violations:
            raise InvalidArgument(listing(self.violations), violations=self.violations)
