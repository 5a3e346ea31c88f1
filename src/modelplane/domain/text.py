"""Text that every store and every client can hold: Unicode scalar values without NUL.

A JSON `\\ud800` escape decodes to a lone surrogate, which is no character: UTF-8 cannot
encode it, so no store, response or client could hold it. NUL (U+0000) ends strings in
PostgreSQL and in C clients. Each face checks every string where its input enters
(a JSON body with all its keys and values, a query or form parameter, a path segment),
once, with the rule below, before anything is stored.
"""

from __future__ import annotations

from typing import Any

from modelplane.domain.errors import FieldViolation, InvalidArgument

NUL_RULE = "must not contain NUL (U+0000)"
SURROGATE_RULE = "must be valid Unicode text (no lone surrogates U+D800..U+DFFF)"
UTF8_RULE = "must be UTF-8 text once percent-decoded"


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


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


def first_bad_text(value: Any, path: str = "", *, first_index: int = 0) -> FieldViolation | None:
    """The first string (object key or value, at any depth) of a JSON value that breaks the
    rule, named by its dotted path from `path` (list items by index from `first_index`).

    A bad key is reported on the object that holds it, since the key itself cannot be
    printed.
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            rule = text_rule(item)
            if rule is not None:
                return FieldViolation(where or "body", rule)
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                if isinstance(key, str) and text_rule(key) is not None:
                    return FieldViolation(where or "body", f"keys {text_rule(key)}")
                children.append((child, _join(where, key)))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(
                (child, _join(where, n))
                for n, child in reversed(list(enumerate(item, first_index)))
            )
    return None


def check_json_text(value: Any, path: str = "", *, first_index: int = 0) -> None:
    """Raise InvalidArgument naming the first bad string of a JSON value, if any."""
    bad = first_bad_text(value, path, first_index=first_index)
    if bad is not None:
        raise InvalidArgument(f"{bad.field}: {bad.rule}", violations=[bad])
