"""The unified diff of two template texts: the same as difflib's where difflib is cheap,
bounded where it is not, and correct either way (applying it gives the new text)."""

from __future__ import annotations

import difflib
import random
import re
import time

from modelplane.domain.prompt_diff import MAX_COMPARED, unified_diff

HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply(old: str, diff: str) -> str:
    """Apply a unified diff to `old` (a small patch(1) for the tests)."""
    source = old.splitlines(keepends=True)
    out: list[str] = []
    at = 0
    lines = diff.splitlines(keepends=True)[2:]
    i = 0
    while i < len(lines):
        found = HUNK.match(lines[i])
        assert found, lines[i]
        start = int(found[1]) - (0 if found[2] == "0" else 1)
        out += source[at:start]
        at = start
        i += 1
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            if i + 1 < len(lines) and lines[i + 1].startswith("\\ No newline"):
                line = line[:-1]
                i += 1
            if line[0] in " -":
                assert source[at] == line[1:], (source[at], line)
                at += 1
            if line[0] in " +":
                out.append(line[1:])
            i += 1
    return "".join(out + source[at:])


def test_the_same_text_has_an_empty_diff() -> None:
    found = unified_diff("a\nb\n", "a\nb\n", old_name="x@1", new_name="x@2")
    assert found.identical and found.text == "" and found.exact


def test_it_matches_difflib_on_texts_ending_with_a_newline() -> None:
    draw = random.Random(7)
    for _ in range(200):
        old = "".join(f"{draw.choice('abcde')}\n" for _ in range(draw.randrange(0, 40)))
        new = "".join(f"{draw.choice('abcdf')}\n" for _ in range(draw.randrange(0, 40)))
        ours = unified_diff(old, new, old_name="old", new_name="new").text
        theirs = "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True), "old", "new"
            )
        )
        assert ours == theirs
        assert apply(old, ours) == new


def test_a_last_line_without_a_newline_is_marked_and_round_trips() -> None:
    found = unified_diff("Hi ${who}", "Hello ${who}", old_name="g@1", new_name="g@2")
    assert found.text == (
        "--- g@1\n+++ g@2\n@@ -1 +1 @@\n-Hi ${who}\n\\ No newline at end of file\n"
        "+Hello ${who}\n\\ No newline at end of file\n"
    )
    assert apply("Hi ${who}", found.text) == "Hello ${who}"


def test_line_numbers_count_from_the_start_of_both_texts() -> None:
    old = "".join(f"line {n}\n" for n in range(1, 101))
    new = old.replace("line 50\n", "line fifty\n").replace("line 90\n", "")
    found = unified_diff(old, new, old_name="a", new_name="b")
    assert re.findall(r"@@.*@@", found.text) == ["@@ -47,7 +47,7 @@", "@@ -87,7 +87,6 @@"]
    assert apply(old, found.text) == new


def test_a_change_too_big_to_compare_is_one_hunk_and_takes_bounded_time() -> None:
    # 20,000 distinct lines on each side: difflib alone takes seconds on this.
    old = "same head\n" + "".join(f"{n}\n" for n in range(20_000)) + "same tail\n"
    new = "same head\n" + "".join(f"{n * 7}\n" for n in range(20_000)) + "same tail\n"
    assert MAX_COMPARED < 20_000 * 20_000
    started = time.perf_counter()
    found = unified_diff(old, new, old_name="a", new_name="b")
    assert time.perf_counter() - started < 0.5
    assert not found.exact
    assert re.findall(r"@@.*@@", found.text) == ["@@ -1,20002 +1,20002 @@"]
    assert apply(old, found.text) == new


def test_the_largest_exact_comparison_stays_fast() -> None:
    side = int(MAX_COMPARED**0.5)
    old = "".join(f"{n}\n" for n in range(side))
    new = "".join(f"{n * 7}\n" for n in range(side))
    started = time.perf_counter()
    found = unified_diff(old, new, old_name="a", new_name="b")
    assert found.exact
    assert time.perf_counter() - started < 1.0
    assert apply(old, found.text) == new
