"""What the docs must say, checked without a server: every Python snippet imports only what
its page installs, the Alibaba Cloud terms are explained in one glossary linked from where
they appear, and the CLI page names the admin principals as bootstrapping creates them."""

from __future__ import annotations

import ast
import re
import shlex
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement

from modelplane.domain.catalog import REF_SCOPES, ProviderKind
from modelplane.domain.runtimes import RUNTIME_TYPE_DEFAULT
from modelplane.services.bootstrap import BOOTSTRAP_NAME, FIRST_ADMIN_NAME
from tests.support import doc_snippets
from tests.support.doc_snippets import Kind

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
GLOSSARY = DOCS / "glossary.md"
# The Alibaba Cloud words a newcomer meets on the catalog's pages.
TERMS = ("agentPlatform", "agentProvider", "bizType", "refScope", "WuyingCredit")


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _installed_with(distribution: str) -> frozenset[str]:
    """`distribution` and every distribution it requires (without extras), transitively."""
    seen: set[str] = set()
    waiting = [distribution]
    while waiting:
        name = _canonical(waiting.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                waiting.append(requirement.name)
    return frozenset(seen)


def _pip_installed(text: str) -> set[str]:
    """The distributions that the `pip install …` commands of a page name ('.': modelplane)."""
    named: set[str] = set()
    for command in re.findall(r"pip install ([^`\n]+)", text):
        for word in shlex.split(command.split("#", 1)[0]):
            if word.startswith("-"):
                continue
            if word == "." or word.startswith((".[", "modelplane")):
                named.add("modelplane")
                continue
            try:
                named.add(Requirement(word).name)
            except InvalidRequirement:
                continue
    return named


def _imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_python_snippet_imports_only_what_its_page_installs(page: Path) -> None:
    """A reader who follows the page (and the README's install) can run its programs."""
    text = page.read_text(encoding="utf-8")
    installed = set(_installed_with("modelplane"))
    for distribution in _pip_installed(text):
        installed |= _installed_with(distribution)
    providers = metadata.packages_distributions()
    missing = []
    for block in doc_snippets.parse_blocks(text):
        if block.kind is not Kind.PYTHON:
            continue
        for module in sorted(_imports(block.text)):
            sources = {_canonical(d) for d in providers.get(module, [module])}
            if not sources & installed:
                missing.append(f"line {block.line}: `import {module}` ({', '.join(sources)})")
    assert not missing, f"{_name(page)} installs none of these (`pip install …`): {missing}"


def test_the_readme_tour_activates_the_virtual_environment_in_its_new_terminal() -> None:
    """The tour's commands run in another terminal; the docs test runs the README without
    modelplane on PATH (`fresh-terminal`), so its first command must find it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "fresh-terminal" in doc_snippets.page_marks(text)
    blocks = [b for b in doc_snippets.parse_blocks(text) if b.kind in doc_snippets.RUNNABLE]
    first = next(b for b in blocks if "modelplane" in b.text or b.kind is Kind.SHELL)
    assert first.kind is Kind.SHELL and first.text.strip() == ". .venv/bin/activate"


def test_the_glossary_explains_each_alibaba_term_and_value() -> None:
    text = GLOSSARY.read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("## ")}
    for term in ("agentPlatform", "agentProvider", "bizType", "refScope"):
        assert term in headings, term
    for value in (*REF_SCOPES, *(kind.value for kind in ProviderKind)):
        assert f"| `{value}` |" in text, f"the glossary's tables leave out `{value}`"
    assert f"`{RUNTIME_TYPE_DEFAULT}`" in next(h for h in headings if "runtime type" in h)


# The glossary itself, and the API reference (generated from the code).
TERM_PAGES = [p for p in PAGES if p not in (GLOSSARY, DOCS / "api-reference.md")]


@pytest.mark.parametrize("page", TERM_PAGES, ids=_name)
def test_a_page_that_uses_an_alibaba_term_links_the_glossary(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    used = [term for term in TERMS if f"`{term}`" in text]
    linked = any(
        target.split("#")[0].endswith("glossary.md") for _, target in doc_snippets.links(text)
    )
    assert linked or not used, f"{_name(page)} uses {used}: link the glossary"


def test_the_docs_index_links_the_glossary() -> None:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "glossary.md" in {target for _, target in doc_snippets.links(text)}


def test_the_cli_page_names_the_admins_as_bootstrapping_creates_them() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    connecting = text.split("\n## Connecting\n", 1)[1].split("\n## ", 1)[0]
    assert f"`{FIRST_ADMIN_NAME}`" in connecting and f"`{BOOTSTRAP_NAME}`" in connecting
    assert "MODELPLANE_BOOTSTRAP_TOKEN" in connecting
