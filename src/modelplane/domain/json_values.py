"""Free-form JSON values (configs) that every store and every client can hold as given."""

from __future__ import annotations

import math
from typing import Any

from modelplane.domain.errors import ViolationCollector

DEPTH_MAX = 32  # nesting of objects and lists
INT_MAX = 2**63 - 1


def depth(value: Any) -> int:
    """How deeply objects and lists nest in `value` (a scalar is 0)."""
    levels, level = 0, [value]
    while level:
        containers = [v for v in level if isinstance(v, dict | list)]
        if not containers:
            break
        levels += 1
        level = [c for v in containers for c in (v.values() if isinstance(v, dict) else v)]
    return levels


def _number_fits(item: Any) -> bool:
    if isinstance(item, bool):
        return True
    if isinstance(item, int):
        return abs(item) <= INT_MAX
    return not isinstance(item, float) or math.isfinite(item)


def _numbers_fit(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif not _number_fits(item):
            return False
    return True


def check_json_value(value: Any, path: str, errors: ViolationCollector) -> None:
    """Record a violation when `value` nests too deeply or holds an unrepresentable number."""
    if depth(value) > DEPTH_MAX:
        errors.add(path, f"must nest at most {DEPTH_MAX} levels deep")
    elif not _numbers_fit(value):
        errors.add(path, "numbers must be finite and integers fit in 64 bits")
