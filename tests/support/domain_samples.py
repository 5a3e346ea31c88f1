"""Sample values of domain types, built from their annotations.

`samples(hint)` gives one value with every optional field set (and every collection
holding one item) and one with every optional field None (and every collection empty);
an optional type gives None as well. Nested dataclasses follow the same variant, so a new
field of a domain dataclass is filled without anyone writing it here. `OVERRIDES` holds
the few values the domain reads back (a group's default model lives in its config).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import types
import typing
from typing import Any

from modelplane.domain.catalog import ModelGroup
from modelplane.domain.usage import GROUP_ORDER, UsageGroup

# (class, field) -> the value of that field with every optional field set.
OVERRIDES: dict[tuple[type, str], Any] = {
    (ModelGroup, "config"): {"defaults": {"model": {"primary": "provider-a/model-a"}}},
    # A usage group's values, one per group it is grouped by (a day is a number).
    (UsageGroup, "group_by"): GROUP_ORDER,
    (UsageGroup, "key"): (20_000, "principal", "key", "model", "member"),
}

_LEAVES: dict[type, Any] = {str: "text", int: 7, float: 0.5, bool: True}


def samples(hint: Any) -> list[Any]:
    """Values of `hint`: every optional field set, every optional field None (and None
    itself when `hint` is optional)."""
    args = typing.get_args(hint)
    if _is_union(hint) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return [*samples(inner), None]
    return [build(hint, filled=True), build(hint, filled=False)]


def build(hint: Any, *, filled: bool) -> Any:
    """One value of `hint`; `filled` sets optional fields and puts one item in collections."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or isinstance(hint, typing.TypeVar):
        return "any"
    if _is_union(hint):
        present = [a for a in args if a is not type(None)]
        return build(present[0], filled=filled) if filled or len(present) == len(args) else None
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return (build(args[0], filled=filled),) if filled else ()
        return tuple(build(a, filled=filled) for a in args)
    if origin in (list, set, frozenset):
        return origin([build(args[0], filled=filled)] if filled else [])
    if origin in (dict, collections.abc.Mapping):
        return {build(args[0], filled=True): build(args[1], filled=filled)} if filled else {}
    cls = origin or hint
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return next(iter(cls))
    if cls in _LEAVES:
        return _LEAVES[cls]
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return _dataclass(cls, filled=filled, given=args)
    raise TypeError(f"no sample for {hint!r}: teach tests/support/domain_samples.py")


def _dataclass(cls: type, *, filled: bool, given: tuple[Any, ...] = ()) -> Any:
    """A sample of `cls`; `given` are its type arguments (`Page[BoundRuntime]`)."""
    bound = dict(zip(getattr(cls, "__parameters__", ()), given, strict=False))
    hints = {name: _bind(hint, bound) for name, hint in typing.get_type_hints(cls).items()}
    values = {}
    for field in dataclasses.fields(cls):
        override = OVERRIDES.get((cls, field.name))
        if filled and override is not None:
            values[field.name] = override
        else:
            values[field.name] = build(hints[field.name], filled=filled)
    return cls(**values)


def _bind(hint: Any, bound: dict[Any, Any]) -> Any:
    """`hint` with the type variables of `bound` replaced (`tuple[T, ...]` of a Page)."""
    if isinstance(hint, typing.TypeVar):
        return bound.get(hint, hint)
    parameters = getattr(hint, "__parameters__", ())
    if bound and parameters:
        return hint[tuple(bound.get(p, p) for p in parameters)]
    return hint


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
