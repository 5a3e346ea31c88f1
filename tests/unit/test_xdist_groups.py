"""Every module whose tests share a live server is grouped for xdist.

See tests/support/xdist_groups.py. A module left out still passes, but starts its servers
once per worker instead of once.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.xdist_groups import SHARED_SERVER_GROUPS, SharedServers

ROOT = Path(__file__).resolve().parents[2]
STARTS_A_SERVER = re.compile(r"\b(Server|replicas)\(")
SHARED_SCOPES = {"module", "session"}
# A test taking the console's session-wide server (tests/support/console_browser.py).
USES_CONSOLE_SITE = re.compile(r"\bconsole_(site|page): ")


def shares_a_server(tree: ast.Module) -> bool:
    """Whether a module- or session-scoped fixture of `tree` starts a server.

    Itself, or through a function of the module that it names.
    """
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for function in functions.values():
        scopes = {
            keyword.value.value
            for decorator in function.decorator_list
            if isinstance(decorator, ast.Call)
            for keyword in decorator.keywords
            if keyword.arg == "scope" and isinstance(keyword.value, ast.Constant)
        }
        if not scopes & SHARED_SCOPES:
            continue
        named = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
        used = [function, *(functions[name] for name in named if name in functions)]
        if any(STARTS_A_SERVER.search(ast.unparse(node)) for node in used):
            return True
    return False


def test_every_module_whose_tests_share_a_server_is_grouped() -> None:
    compat_server = shares_a_server(ast.parse((ROOT / "tests/compat/conftest.py").read_text()))
    assert compat_server, "tests/compat/conftest.py no longer shares a server: update this test"
    missing = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        uses_compat_server = name.startswith("tests/compat/") and "live_server" in source
        uses_console_server = USES_CONSOLE_SITE.search(source) is not None
        shared = uses_compat_server or uses_console_server
        if (shared or shares_a_server(ast.parse(source))) and (name not in SHARED_SERVER_GROUPS):
            missing.append(name)
    assert not missing, f"add to SHARED_SERVER_GROUPS in tests/support/xdist_groups.py: {missing}"
    gone = [name for name in SHARED_SERVER_GROUPS if not (ROOT / name).is_file()]
    assert not gone, f"no such test module (tests/support/xdist_groups.py): {gone}"


def test_a_group_is_one_unit_of_work_and_every_other_test_its_own() -> None:
    split = SharedServers._split_scope
    scheduler = object.__new__(SharedServers)
    first = split(scheduler, "tests/compat/test_eas_sdk.py::test_a[sqlite-acs3]")
    assert first == split(scheduler, "tests/compat/test_bailian_sdk.py::test_b[postgres-v2]")
    alone = "tests/integration/test_llms_api.py::test_c[sqlite]"
    assert split(scheduler, alone) == alone
