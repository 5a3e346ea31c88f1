"""The text difference between two versions of a template, as a unified diff.

The lines both texts start and end with are set aside first; difflib compares only what
lies between. Its work grows with the product of the two sides' line counts, so when that
product is over `MAX_COMPARED` (seconds of work for texts of 100,000 characters) the
changed block is shown whole, as every old line removed and every new line added: still a
correct diff, only not the smallest one (`exact` is then False).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

MAX_COMPARED = 4_000_000  # lines times lines difflib may compare: about a tenth of a second
CONTEXT = 3  # unchanged lines shown around each change

Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True, slots=True)
class TextDiff:
    """A unified diff (empty when the texts are the same), and whether it is minimal."""

    text: str
    exact: bool

    @property
    def identical(self) -> bool:
        """Whether the two texts are the same."""
        return not self.text


def _common_ends(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """How many lines the two start with in common, and end with (not overlapping)."""
    shortest = min(len(old), len(new))
    head = 0
    while head < shortest and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < shortest - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def _range(start: int, length: int) -> str:
    """A hunk range as unified diffs write it (1-based; an empty range names the line
    before it)."""
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def _hunks(
    old: Sequence[str], new: Sequence[str], groups: Iterable[list[Opcode]], offset: int
) -> Iterator[str]:
    """The hunks of `groups` (opcodes of the windows `old` and `new`, which start at line
    `offset` of both texts)."""
    for group in groups:
        a1, a2 = group[0][1], group[-1][2]
        b1, b2 = group[0][3], group[-1][4]
        yield f"@@ -{_range(offset + a1, a2 - a1)} +{_range(offset + b1, b2 - b1)} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in old[i1:i2])
                continue
            yield from ("-" + line for line in old[i1:i2])
            yield from ("+" + line for line in new[j1:j2])


def _ended(line: str) -> str:
    """A diff line ends with a newline; a text's last line without one says so."""
    return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


def unified_diff(
    old: str, new: str, *, old_name: str, new_name: str, context: int = CONTEXT
) -> TextDiff:
    """The unified diff from `old` to `new`, its files named `old_name` and `new_name`."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    if a == b:
        return TextDiff(text="", exact=True)
    head, tail = _common_ends(a, b)
    start = max(0, head - context)  # the diff is of a window around the changed block
    a_window = a[start : len(a) - max(0, tail - context)]
    b_window = b[start : len(b) - max(0, tail - context)]
    changed_a, changed_b = len(a) - head - tail, len(b) - head - tail
    exact = changed_a * changed_b <= MAX_COMPARED
    if exact:
        matcher = difflib.SequenceMatcher(None, a_window, b_window, autojunk=True)
        groups = matcher.get_grouped_opcodes(context)
    else:
        lead = head - start
        groups = [
            [
                ("equal", 0, lead, 0, lead),
                ("replace", lead, lead + changed_a, lead, lead + changed_b),
                ("equal", lead + changed_a, len(a_window), lead + changed_b, len(b_window)),
            ]
        ]
    lines = [f"--- {old_name}\n", f"+++ {new_name}\n"]
    lines.extend(_ended(line) for line in _hunks(a_window, b_window, groups, start))
    return TextDiff(text="".join(lines), exact=exact)
