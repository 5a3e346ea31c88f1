"""The `${name}` placeholder grammar, and filling a text's placeholders.

Shared by the server's domain (which adds the rules: value lengths, the rendered size,
the error that names missing variables) and the SDK's cached templates (which render
without the server). A name starts with a letter of any script (so `${主题}` works) or
`_`, and goes on with letters, digits, `_`, `.` or `-`, at most 64 characters in all;
`$${x}` is the literal text `${x}`; anything else is plain text.
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import compress, filterfalse

PLACEHOLDER = re.compile(r"\$(\$?)\{([^\W\d][\w.-]{0,63})\}")


def variables_of(content: str) -> tuple[str, ...]:
    """The distinct `${name}` placeholders of `content`, in order of first appearance."""
    names = (name for escape, name in PLACEHOLDER.findall(content) if not escape)
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class Placeholders:
    """A text cut at its placeholders: `[text, escape, name, text, …, text]` (one pass of
    the regex in C), how often each name occurs, and how many escapes there are."""

    parts: list[str]
    counts: Counter[str]
    escapes: int

    @classmethod
    def of(cls, content: str) -> Placeholders:
        """Cut `content`."""
        parts = PLACEHOLDER.split(content)
        escaped, used = parts[1::3], parts[2::3]
        counts = Counter(compress(used, map(operator.not_, escaped)))  # not the escapes
        return cls(parts, counts, escaped.count("$"))

    def missing(self, values: Mapping[str, str]) -> tuple[str, ...]:
        """The names without a value, in order of first appearance."""
        return tuple(filterfalse(values.__contains__, self.counts))

    def unused(self, values: Mapping[str, str]) -> tuple[str, ...]:
        """The names given that the text does not use."""
        return tuple(filterfalse(self.counts.__contains__, values))

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with each placeholder that has a value filled (the others as written)
        and each escape made literal."""
        parts = list(self.parts)
        for i in range(1, len(parts), 3):
            name = parts[i + 1]
            value = None if parts[i] else values.get(name)
            parts[i], parts[i + 1] = ("${" + name + "}" if value is None else value), ""
        return "".join(parts)
