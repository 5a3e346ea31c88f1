"""Every snippet of README.md and docs/**/*.md runs, and the API reference is current.

Each page runs in a directory of its own against a live `modelplane serve` started for it
(on PostgreSQL when the page says `<!-- docs-test: postgres -->`), its blocks in page
order. The snippets find the server in the environment:

    MODELPLANE_URL                 http://127.0.0.1:<port>
    MODELPLANE_TOKEN               an admin API key
    MODELPLANE_ACCESS_KEY_ID       an admin access-key pair, for the Alibaba Cloud faces
    MODELPLANE_ACCESS_KEY_SECRET
    MODELPLANE_DATABASE_URL        the server's database
    MODELPLANE_SECRET_KEY          its master key (PostgreSQL pages; SQLite keeps a key file)

The shell snippets of a page (sh, bash and console blocks) share what they export, and the
directory they `cd` to, as one terminal would; Python snippets see those variables too.
Each block or console command gets a fresh process: after its end, whatever it left
running is stopped. See tests/support/doc_snippets.py for the block rules.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shlex
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings
from tests.support import doc_snippets
from tests.support.databases import database
from tests.support.doc_snippets import Block, Kind
from tests.support.processes import run_in_group
from tests.support.server import Server
from tests.support.upstreams import fixture_upstream

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BIN = Path(sys.executable).parent
BLOCK_TIMEOUT = 120.0  # seconds per block or console command
SERVER_START_TIMEOUT = 60.0  # generous: a loaded machine starts Python slowly
DROPPED_SHELL_VARIABLES = ("_", "SHLVL", "OLDPWD")
# Appended to each shell snippet: dump the environment for the next one, keep the status.
KEEP_ENVIRONMENT = """
__docs_status=$?
env -0 > {}
exit "$__docs_status"
"""


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _runnable(text: str) -> bool:
    try:
        return any(b.kind in doc_snippets.RUNNABLE for b in doc_snippets.parse_blocks(text))
    except doc_snippets.SnippetError:
        return True  # run it, so that the test says what is wrong


def _params(*, run: bool = False) -> list[Any]:
    """One param per page, in the same order for every per-page test.

    The `page` fixture they share is module-scoped, so pytest runs the tests of one page
    together; with xdist the pages (and their servers) then spread over the workers.
    """
    params = []
    for page in PAGES:
        marks: list[Any] = []
        if run and "postgres" in doc_snippets.page_marks(page.read_text(encoding="utf-8")):
            marks.append(pytest.mark.postgres)
        params.append(pytest.param(page, id=_name(page), marks=marks))
    return params


PAGES = _pages()


@pytest.fixture(scope="module")
def page(request: pytest.FixtureRequest) -> Path:
    """A page of the docs (parametrized indirectly by each per-page test)."""
    path: Path = request.param
    return path


@dataclass
class Outcome:
    """How a block or command ended; `status` is None after a timeout."""

    status: int | None
    stdout: str
    stderr: str


class PageRun:
    """The snippets of one page: their directory, environment and live server."""

    def __init__(self, name: str, directory: Path, env: dict[str, str], server: Server) -> None:
        self.name = name
        self.directory = directory
        self.cwd = directory
        self.env = env
        self.server = server
        self.state = server.cwd / "shell-environment"

    def run(self, block: Block) -> None:
        """Run, check or write one block."""
        kind = block.kind
        if kind is Kind.FILE:
            target = self.directory / block.options["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        elif kind is Kind.PYTHON:
            outcome = self.execute([sys.executable, "-c", block.text], merge=False)
            self.expect_success(block.line, "python block", block.text, outcome)
        elif kind is Kind.SHELL:
            outcome = self.shell(block.text, strict=True)
            self.expect_success(block.line, f"{block.language} block", block.text, outcome)
        elif kind is Kind.CONSOLE:
            for command in doc_snippets.parse_console(block):
                self.run_command(command)

    def run_command(self, command: doc_snippets.Command) -> None:
        outcome = self.shell(command.command, strict=False)
        actual = outcome.stdout.splitlines()
        if outcome.status == 0 and doc_snippets.output_matches(command.expected, actual):
            return
        self.fail(
            command.line,
            f"$ {command.command}",
            "expected output:\n"
            + indent("\n".join(command.expected))
            + f"\nactual output ({ended(outcome)}):\n"
            + indent(outcome.stdout),
        )

    def shell(self, script: str, *, strict: bool) -> Outcome:
        """Run `script` in bash; keep what it exports and where it went for the next one."""
        self.state.unlink(missing_ok=True)
        prologue = "set -euo pipefail\n" if strict else ""
        text = (
            prologue + script.rstrip("\n") + KEEP_ENVIRONMENT.format(shlex.quote(str(self.state)))
        )
        outcome = self.execute(["bash", "-c", text], merge=not strict)
        if self.state.exists():
            self.keep_environment(self.state.read_bytes())
        return outcome

    def keep_environment(self, dump: bytes) -> None:
        env = {}
        for entry in dump.decode("utf-8", "replace").split("\0"):
            name, sep, value = entry.partition("=")
            if sep and name not in DROPPED_SHELL_VARIABLES:
                env[name] = value
        self.env = env
        where = Path(env.get("PWD", ""))
        self.cwd = where if where.is_absolute() and where.is_dir() else self.directory

    def execute(self, args: list[str], *, merge: bool) -> Outcome:
        """Run a process in its own session; stop what is left of it afterwards."""
        finished = run_in_group(
            args, cwd=self.cwd, env=self.env, timeout=BLOCK_TIMEOUT, merge=merge
        )
        return Outcome(finished.status, finished.stdout, finished.stderr)

    def expect_success(self, line: int, what: str, text: str, outcome: Outcome) -> None:
        if outcome.status == 0:
            return
        self.fail(
            line,
            what + ":\n" + indent(text),
            f"{ended(outcome)}\nstdout:\n{indent(outcome.stdout)}\nstderr:\n"
            + indent(outcome.stderr),
        )

    def fail(self, line: int, what: str, detail: str) -> NoReturn:
        server_log = "\n".join(self.server.stderr().splitlines()[-15:])
        pytest.fail(
            f"{self.name}, line {line}: {what}\n{detail}\n"
            f"server log (last lines):\n{indent(server_log)}",
            pytrace=False,
        )


def ended(outcome: Outcome) -> str:
    if outcome.status is None:
        return f"timed out after {BLOCK_TIMEOUT:.0f} s"
    return f"exit status {outcome.status}"


def indent(text: str) -> str:
    lines = text.rstrip("\n").splitlines() or ["(nothing)"]
    return "\n".join("    " + line for line in lines)


def fresh_terminal(page_dir: Path, path: str) -> str:
    """The PATH of a new terminal (without modelplane's scripts), and in `page_dir` a `.venv`
    that activates them: the virtual environment the tests run in, or where they run in none
    (CI may install into the system's Python), a stand-in `activate` that puts BIN first."""
    venv = page_dir / ".venv"
    if sys.prefix != sys.base_prefix and (Path(sys.prefix) / "bin" / "activate").exists():
        venv.symlink_to(sys.prefix, target_is_directory=True)
    else:
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "activate").write_text(f'export PATH={shlex.quote(str(BIN))}:"$PATH"\n')
    kept = [p for p in path.split(os.pathsep) if p and Path(p).resolve() != BIN.resolve()]
    return os.pathsep.join(kept)


@contextmanager
def live_page(name: str, marks: frozenset[str], directory: Path) -> Iterator[PageRun]:
    """A server for one page, and the environment its snippets run in."""
    page_dir, run_dir = directory / "page", directory / "run"
    page_dir.mkdir()
    run_dir.mkdir()
    kind = "postgres" if "postgres" in marks else "sqlite"
    with database(kind, page_dir) as url:
        token = "mp_docs_" + secrets.token_hex(16)
        access_key_id = "MPAKDOCS" + secrets.token_hex(6).upper()
        access_key_secret = secrets.token_urlsafe(24)
        shared = {"MODELPLANE_DATABASE_URL": url}
        if kind == "postgres":
            shared["MODELPLANE_SECRET_KEY"] = new_master_key_text()
        server_env = {
            **shared,
            "MODELPLANE_BOOTSTRAP_TOKEN": token,
            "MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID": access_key_id,
            "MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET": access_key_secret,
        }
        server = Server(cwd=run_dir, env=server_env).start()
        try:
            server.wait_ready(timeout=SERVER_START_TIMEOUT)
            inherited = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
            path = f"{BIN}{os.pathsep}{inherited.get('PATH', '')}"
            if "fresh-terminal" in marks:
                path = fresh_terminal(directory / "page", inherited.get("PATH", ""))
            env = {
                **inherited,
                "PATH": path,
                "PYTHONUNBUFFERED": "1",  # output in the order a terminal shows it
                "COLUMNS": "80",  # help texts wrap the same everywhere
                **shared,
                "MODELPLANE_URL": server.url,
                "MODELPLANE_TOKEN": token,
                "MODELPLANE_ACCESS_KEY_ID": access_key_id,
                "MODELPLANE_ACCESS_KEY_SECRET": access_key_secret,
            }
            with ExitStack() as stack:
                if "upstream" in marks:  # an LLM upstream for the gateway's examples
                    env["UPSTREAM_URL"] = stack.enter_context(fixture_upstream()).base("ok")
                yield PageRun(name, page_dir, env, server)
        finally:
            server.stop()


@pytest.mark.parametrize("page", _params(), indirect=True)
def test_page_follows_the_snippet_rules(page: Path) -> None:
    found = doc_snippets.problems(page.read_text(encoding="utf-8"))
    assert not found, "\n".join(f"{_name(page)}: {problem}" for problem in found)


@pytest.mark.parametrize("page", _params(run=True), indirect=True)
def test_page_snippets_run(page: Path, tmp_path: Path) -> None:
    text = page.read_text(encoding="utf-8")
    if not _runnable(text):
        pytest.skip("no snippet to run on this page")
    found = doc_snippets.problems(text)
    if found:
        pytest.fail(f"{_name(page)}: " + "\n".join(found), pytrace=False)
    blocks = [b for b in doc_snippets.parse_blocks(text) if b.kind in doc_snippets.RUNNABLE]
    with live_page(_name(page), doc_snippets.page_marks(text), tmp_path) as run:
        for block in blocks:
            run.run(block)


@cache
def _anchors(page: Path) -> frozenset[str]:
    return frozenset(doc_snippets.anchors(page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", _params(), indirect=True)
def test_page_links_resolve(page: Path) -> None:
    """Relative links point at files that exist, and anchors at headings of the page."""
    broken = []
    for line, target in doc_snippets.links(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"line {line}: {target}: {linked} does not exist")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"line {line}: {target}: no heading #{anchor} in {linked.name}")
    assert not broken, f"{_name(page)}:\n" + "\n".join(broken)


def test_operations_guide_documents_every_setting() -> None:
    """The settings table of docs/operations.md names every `MODELPLANE_*` setting."""
    text = (DOCS / "operations.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `MODELPLANE_")]
    documented = {name for row in rows for name in re.findall(r"`(MODELPLANE_[A-Z_]+)`", row)}
    settings = {f"MODELPLANE_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set(), "add these to the table in docs/operations.md"
    assert documented - settings == set(), "these are not settings (modelplane/settings.py)"


def test_every_sdk_page_has_a_runnable_python_snippet() -> None:
    sdk_pages = sorted((DOCS / "sdks").glob("*.md"))
    assert len(sdk_pages) >= 5, sdk_pages
    for page in sdk_pages:
        blocks = doc_snippets.parse_blocks(page.read_text(encoding="utf-8"))
        assert any(b.kind is Kind.PYTHON for b in blocks), f"{_name(page)} has no python snippet"


def _builder() -> ModuleType:
    """docs/build_api_reference.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "build_api_reference", DOCS / "build_api_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = _builder()
    fresh: str = builder.build()
    committed_path = DOCS / "api-reference.md"
    committed = committed_path.read_text(encoding="utf-8") if committed_path.exists() else ""
    if committed != fresh:
        pytest.fail(
            "docs/api-reference.md differs from the OpenAPI document: run "
            "`python docs/build_api_reference.py` and commit the result.\n"
            + builder.stale_diff(committed, fresh),
            pytrace=False,
        )

    # --check exits 1 on a stale file, naming the command to run, and 0 on a fresh one.
    target = tmp_path / "api-reference.md"
    target.write_text(fresh.replace("## Errors", "## Mistakes"), encoding="utf-8")
    assert builder.main(["--check", "--output", str(target)]) == 1
    assert "run `python docs/build_api_reference.py`" in capsys.readouterr().err
    assert builder.main(["--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == fresh
    assert builder.main(["--check", "--output", str(target)]) == 0
