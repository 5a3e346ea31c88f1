"""Smoke mode for the benchmarks: `MODELPLANE_BENCH_SMOKE=1` caps every size and duration.

A smoke run goes through the same code paths end to end (servers, seeding, load, report)
with tiny sizes, so that it takes seconds; its numbers mean nothing. The test suite runs
each command of BENCHMARKS.md this way (tests/e2e/test_benchmark_commands.py) to keep
the commands working. Without the variable nothing is capped and nothing is printed.

    args = smoke.cap_args(parser.parse_args(), duration=1, rounds=1)  # command-line sizes
    LLMS = smoke.cap(200, 10)                                          # sizes in the code
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from typing import TypeVar

ENV = "MODELPLANE_BENCH_SMOKE"
N = TypeVar("N", int, float)


def active() -> bool:
    """Whether this is a smoke run."""
    return os.environ.get(ENV) == "1"


def cap(value: N, limit: N) -> N:
    """`value`, or at most `limit` in a smoke run."""
    return min(value, limit) if active() else value


def cap_args(args: argparse.Namespace, **limits: float) -> argparse.Namespace:
    """Cap the named fields of parsed arguments in a smoke run, and say so in the output.

    The note goes to stdout before the run and again after the report.
    """
    if not active():
        return args
    capped = []
    for name, limit in limits.items():
        value = getattr(args, name)
        new = type(value)(min(value, limit))
        setattr(args, name, new)
        if new != value:
            capped.append(f"--{name.replace('_', '-')} {value} → {new}")
    script = os.path.basename(sys.argv[0])
    note = (
        f"SMOKE RUN of {script} ({ENV}=1): sizes and durations capped"
        f"{' (' + ', '.join(capped) + ')' if capped else ''}; the numbers mean nothing."
    )
    print(note, flush=True)
    atexit.register(print, note, flush=True)
    return args
