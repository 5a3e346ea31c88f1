"""Checking JSON values against the pydantic models that declare them, key by key.

Pydantic ignores keys a model does not declare, and a model's optional fields may be
left out; `DeclaredFields` is stricter: a value must hold no key its model does not
declare and every key it requires; and, over all the values checked, each key of each
model met must have been sent at least once (`never_sent`). `ANY_VALUE` stands for any value of the
declared type (a value the test cannot know): only its key is checked.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

ANY_VALUE = "\x00any value of the declared type"

_PLACEHOLDERS: dict[type, Any] = {str: "", int: 0, float: 0.0, bool: False, list: [], dict: {}}


class DeclaredFields:
    """Values checked against models, and the keys of each model they sent."""

    def __init__(self) -> None:
        self.sent: dict[type[BaseModel], set[str]] = {}

    def check(self, value: Any, model: type[BaseModel]) -> list[str]:
        """What is wrong with `value` (parsed JSON) as a `model`: undeclared, missing or
        mistyped fields (strictly: `"1"` is no integer, `"yes"` no boolean)."""
        problems: list[str] = []
        filled = self._conform(value, model, model.__name__, problems)
        if not problems:
            try:
                model.model_validate_json(json.dumps(filled), strict=True)
            except ValidationError as exc:
                problems.append(str(exc))
        return problems

    def never_sent(self) -> list[str]:
        """The keys of the models met that none of the values checked held."""
        return [
            f"{model.__name__}.{key}: declared, sent by no answer"
            for model, keys in sorted(self.sent.items(), key=lambda item: item[0].__name__)
            for key in sorted(_fields(model).keys() - keys)
        ]

    def _conform(self, value: Any, hint: Any, path: str, problems: list[str]) -> Any:
        if value == ANY_VALUE:
            return _placeholder(hint, path, problems)
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if isinstance(hint, type) and issubclass(hint, BaseModel):
            if not isinstance(value, dict):
                problems.append(f"{path}: {type(value).__name__}, not a {hint.__name__} object")
                return value
            fields = _fields(hint)
            self.sent.setdefault(hint, set()).update(value.keys() & fields.keys())
            for key in sorted(value.keys() - fields.keys()):
                problems.append(f"{path}.{key}: not a field of {hint.__name__}")
            for key, field in fields.items():
                if field.is_required() and key not in value:
                    problems.append(f"{path}.{key}: required by {hint.__name__}, missing")
            return {
                k: self._conform(v, fields[k].annotation, f"{path}.{k}", problems)
                if k in fields
                else v
                for k, v in value.items()
            }
        if origin in (typing.Union, types.UnionType):
            present = [a for a in args if a is not type(None)]
            if value is None or len(present) != 1:
                return value
            return self._conform(value, present[0], path, problems)
        if origin is list and isinstance(value, list):
            return [self._conform(v, args[0], f"{path}[]", problems) for v in value]
        return value


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _placeholder(hint: Any, path: str, problems: list[str]) -> Any:
    """A value of `hint` standing for `ANY_VALUE`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        return None
    cls = origin or hint
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return next(iter(cls)).value
    if cls in _PLACEHOLDERS:
        return _PLACEHOLDERS[cls]
    if hint is Any:
        return None
    problems.append(f"{path}: a whole {hint!r} the test cannot know, so cannot check")
    return None
