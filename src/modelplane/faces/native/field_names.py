"""Field paths of domain errors in the native spelling.

The domain names fields as the Alibaba RPC face spells them, with 1-based list indices
(`LlmTemplateItems.2.LlmCode`); the native face speaks lowerCamelCase with 0-based
indices, as pydantic reports them (`items.1.llmCode`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from modelplane.domain.errors import FieldViolation, InvalidArgument

_RENAMED = {"LlmTemplateItems": "items"}
_ONE_BASED = frozenset({"items", "runtimeIds"})


def native_field(path: str, renamed: Mapping[str, str] | None = None) -> str:
    """`path` as the native face names it; `renamed` overrides whole paths."""
    if renamed and path in renamed:
        return renamed[path]
    parts: list[str] = []
    for part in path.split("."):
        if part.isdigit() and parts and parts[-1] in _ONE_BASED:
            parts.append(str(int(part) - 1))
        else:
            name = _RENAMED.get(part, part)
            parts.append(name[:1].lower() + name[1:])
    return ".".join(parts)


@contextmanager
def native_fields(renamed: Mapping[str, str] | None = None) -> Iterator[None]:
    """Re-raise an InvalidArgument raised inside with its fields in the native spelling."""
    try:
        yield
    except InvalidArgument as exc:
        if not exc.violations:
            raise
        violations = [
            FieldViolation(native_field(v.field, renamed), v.rule) for v in exc.violations
        ]
        message = "; ".join(f"{v.field}: {v.rule}" for v in violations)
        raise InvalidArgument(message, violations=violations) from None
