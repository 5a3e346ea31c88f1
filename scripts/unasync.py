"""Write the sync twin of each async module of the SDK: `client/async_X.py` -> `client/X.py`.

    python scripts/unasync.py           # write every twin
    python scripts/unasync.py --check   # exit 1, naming them, when twins differ

The async module is the one source. Its twin is its text with the SUBSTITUTIONS below
(docstrings and comments included) under a header saying so. Write the async module so
that the translation is already clean: its docstrings neutral (no async word may be left
over), and where a bracket wraps only because of `async`/`await`, a trailing comma keeps
it open in the twin too. Writing refuses a twin that `ruff format` or `ruff check` would
change or flag; `--check` only reads files.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "src" / "modelplane" / "client"
COMMAND = "python scripts/unasync.py"

# In order; each is a regular expression over the whole text and its replacement.
SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    (r"\basync (def|for|with)\b", r"\1"),
    (r"\bawait ", ""),
    # AsyncLlms -> Llms, AsyncIterator -> Iterator, httpx.AsyncClient -> httpx.Client, …
    (r"\bAsync(?=[A-Z])", ""),
    # async_resources -> resources, …
    (r"\basync_(?=[a-z])", ""),
    (r"\b__a(enter|exit|iter|next)__\b", r"__\1__"),
    (r"\baclose\b", "close"),
    (r"\bimport asyncio\b", "import time"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    # An async generator has to yield item by item; a sync one yields from the iterable.
    (r"(?m)^( *)for (\w+) in (.+):\n\1    yield \2\n", r"\1yield from \3\n"),
)
# What no twin may still say once translated (a docstring to write neutrally, or a rule missing).
LEFT_OVER = re.compile(r"\b(async|await|asyncio|awaited|Awaitable)\b|\bAsync[A-Z]")


def header(source: Path) -> str:
    """The comment that opens a twin: from which file, by which command, not to be edited."""
    name = (CLIENT / source.name).relative_to(ROOT).as_posix()
    return (
        f"# Generated from {name} by `{COMMAND}`.\n"
        "# Do not edit: change the async module and run the command again.\n"
    )


def translate(source_text: str) -> str:
    """The sync text of an async module (without the header)."""
    text = source_text
    for pattern, replacement in SUBSTITUTIONS:
        text = re.sub(pattern, replacement, text)
    return text


def twin_text(source: Path) -> str:
    """The full text of the twin of `source`; ValueError naming what cannot be translated."""
    text = translate(source.read_text(encoding="utf-8"))
    for number, line in enumerate(text.splitlines(), start=1):
        found = LEFT_OVER.search(line)
        if found:
            raise ValueError(
                f"{source.name}: line {number} of the translation still says "
                f"{found.group()!r}: {line.strip()}"
            )
    return header(source) + text


def pairs(directory: Path) -> list[tuple[Path, Path]]:
    """Each async module of `directory` and the path of its twin."""
    sources = sorted(directory.glob("async_*.py"))
    return [(source, source.with_name(source.name.removeprefix("async_"))) for source in sources]


def stale(directory: Path) -> list[Path]:
    """The twins in `directory` that are missing or differ from their translation."""
    differing = []
    for source, twin in pairs(directory):
        text = twin_text(source)
        if not twin.exists() or twin.read_text(encoding="utf-8") != text:
            differing.append(twin)
    return differing


def ruff_problems(text: str, path: Path) -> str:
    """What `ruff format` would change and `ruff check` flags in `text` ("" when clean)."""
    ruff = [sys.executable, "-m", "ruff"]  # the project's ruff, with its settings
    stdin = ["--stdin-filename", str(path), "-"]
    formatted = subprocess.run(
        [*ruff, "format", "--diff", *stdin], input=text, capture_output=True, text=True, cwd=ROOT
    )
    checked = subprocess.run(
        [*ruff, "check", "--no-fix", "--output-format", "concise", *stdin],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    problems = [r.stdout + r.stderr for r in (formatted, checked) if r.returncode != 0]
    return "\n".join(problems)


def write(directory: Path) -> int:
    """Write every twin whose translation ruff finds clean; 1 if any is refused."""
    refused = 0
    for source, twin in pairs(directory):
        text = twin_text(source)
        problems = ruff_problems(text, twin)
        if problems:
            refused = 1
            print(f"{twin.name} not written: change {source.name} so that\n{problems}")
            continue
        if not twin.exists() or twin.read_text(encoding="utf-8") != text:
            twin.write_text(text, encoding="utf-8")
            print(f"wrote {twin.name}")
    return refused


def main(argv: Sequence[str] | None = None) -> int:
    """Write the twins, or with `--check` exit 1 naming the ones that differ."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale twins")
    parser.add_argument("--directory", type=Path, default=CLIENT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if not args.check:
            return write(args.directory)
        differing = stale(args.directory)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    for twin in differing:
        print(f"{twin.name} differs from its async module: run `{COMMAND}`", file=sys.stderr)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
