"""How a face spells the fields that the core names in errors.

The domain and the services name fields as the native API does: lowerCamelCase, list
items counted from 0 (`items.0.llmCode`). A face that spells them otherwise keeps one
`FieldNames` table and applies it where it renders an error (the RPC face: `ProviderName`,
`LlmTemplateItems.1.LlmCode`). Only the names in the table change, so a path the face
itself made in its own spelling, or one inside a free-form object, stays as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from modelplane.domain.errors import FieldViolation, InvalidArgument, listing


@dataclass(frozen=True)
class FieldNames:
    """One face's table: the core's field name -> the face's, and for the core's lists whose
    items the face counts from 1, the names of their items' fields."""

    names: Mapping[str, str]
    one_based: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def path(self, path: str) -> str:
        """`path` as the face spells it."""
        head, *rest = path.split(".")
        if head not in self.names:
            return path
        parts = [self.names[head]]
        items = self.one_based.get(head)
        if items is not None and rest and rest[0].isdigit():
            parts.append(str(int(rest[0]) + 1))
            rest = rest[1:]
            if rest:
                parts.append(items.get(rest[0], rest[0]))
                rest = rest[1:]
        return ".".join(parts + rest)

    def error(self, exc: Exception) -> Exception:
        """`exc`, or the InvalidArgument it is with its fields (and message) spelled here."""
        if not isinstance(exc, InvalidArgument) or not exc.violations:
            return exc
        violations = [FieldViolation(self.path(v.field), v.rule) for v in exc.violations]
        if violations == list(exc.violations):
            return exc
        message = listing(violations) if exc.message == listing(exc.violations) else exc.message
        return InvalidArgument(message, violations=violations)
