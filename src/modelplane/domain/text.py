"""The rules of text: what every store and client can hold, and how long a field may be.

A JSON `\\ud800` escape decodes to a lone surrogate, which is no character: UTF-8 cannot
encode it, so no store, response or client could hold it. NUL (U+0000) ends strings in
PostgreSQL and in C clients. Each face checks every string where its input enters
(a JSON body with all its keys and values, a query or form parameter, a path segment),
once, with the rule below, before anything is stored.

How long a text field may be, and whether it must be given, is checked by the domain with
`check_length`, which words every such rule the same way (`length_rule`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelplane.domain.errors import FieldViolation, InvalidArgument, ViolationCollector

NUL_RULE = "must not contain NUL (U+0000)"
SURROGATE_RULE = "must be valid Unicode text (no lone surrogates U+D800..U+DFFF)"
UTF8_RULE = "must be UTF-8 text once percent-decoded"
CHARACTERS = "characters"
BYTES = "bytes (UTF-8)"


def text_rule(value: str) -> str | None:
    """The rule `value` breaks, if any."""
    if "\x00" in value:
        return NUL_RULE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_RULE
    return None


def check_text(value: str, field: str) -> None:
    """Raise InvalidArgument naming `field` unless `value` is storable text."""
    rule = text_rule(value)
    if rule is not None:
        raise InvalidArgument.of(field, rule)


def length_rule(
    most: int, *, required: bool = False, blank: bool = False, unit: str = CHARACTERS
) -> str:
    """The rule of a text field, as every error words it."""
    if not required:
        return f"at most {most} {unit}"
    if blank:
        return f"required, at most {most} {unit}"
    return f"required, 1..{most} {unit}, not only spaces"


def check_length(
    value: str | None,
    field: str,
    errors: ViolationCollector,
    *,
    most: int,
    required: bool = False,
    blank: bool = False,
    unit: str = CHARACTERS,
) -> None:
    """Record `length_rule` for `field` unless `value` keeps it: at most `most` characters
    (or UTF-8 bytes); when `required`, given and (unless `blank`) not only spaces.

    (That it is storable text, without NUL, was checked where it entered: `check_text`.)
    """
    if value is None:
        broken = required
    else:
        size = len(value) if unit == CHARACTERS else len(value.encode("utf-8", "surrogatepass"))
        broken = size > most or (required and not blank and not value.strip())
    if broken:
        errors.add(field, length_rule(most, required=required, blank=blank, unit=unit))


def _named(path: str, keys: list[str | int]) -> str:
    return ".".join([path, *map(str, keys)] if path else map(str, keys)) or "body"


def _children(item: dict[Any, Any] | list[Any], start: int) -> Iterator[tuple[Any, Any]]:
    return iter(item.items()) if isinstance(item, dict) else enumerate(item, start)


def first_bad_text(value: Any, path: str = "", *, first_index: int = 0) -> FieldViolation | None:
    """The first string (object key or value, at any depth) of a JSON value that breaks the
    rule, named by its dotted path from `path`. Items of lists count from 0, except those of
    `value` itself, which count from `first_index` (RPC names list parameters' items from 1).

    A bad key is reported on the object that holds it, since the key itself cannot be
    printed. The walk builds no path until it finds something.
    """
    if isinstance(value, str):
        rule = text_rule(value)
        return None if rule is None else FieldViolation(path or "body", rule)
    if not isinstance(value, dict | list):
        return None
    keys: list[str | int] = []  # the path from `value` to the container being walked
    stack = [_children(value, first_index)]
    while stack:
        for key, child in stack[-1]:
            if isinstance(key, str) and (rule := text_rule(key)) is not None:
                return FieldViolation(_named(path, keys), f"keys {rule}")
            if isinstance(child, str):
                if (rule := text_rule(child)) is not None:
                    return FieldViolation(_named(path, [*keys, key]), rule)
            elif isinstance(child, dict | list):
                keys.append(key)
                stack.append(_children(child, 0))
                break
        else:
            stack.pop()
            if keys:
                keys.pop()
    return None


def check_json_text(value: Any, path: str = "", *, first_index: int = 0) -> None:
    """Raise InvalidArgument naming the first bad string of a JSON value, if any."""
    bad = first_bad_text(value, path, first_index=first_index)
    if bad is not None:
        raise InvalidArgument(f"{bad.field}: {bad.rule}", violations=[bad])
