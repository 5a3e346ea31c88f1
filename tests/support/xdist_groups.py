"""With -n, one xdist worker runs all the tests that share a live server.

A module- or session-scoped server starts once on each worker that runs a test using it,
and xdist's default (`--dist load`) deals a module's tests to every worker. `SharedServers`
hands each group of SHARED_SERVER_GROUPS to one worker as a whole, groups first and the
largest first, then every other test on its own, as `load` does. (xdist's `--dist
loadgroup` with `xdist_group` marks would do this, but under pytest 9.2 it silently groups
nothing: pytest-dev/pytest-xdist#1386.)
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

COMPAT = "tests/compat: live_server"

# Test module -> its group: the modules whose tests share servers that are module- or
# session-scoped (tests/unit/test_xdist_groups.py finds the ones missing here).
SHARED_SERVER_GROUPS = {
    "tests/compat/test_appstream_sdk.py": COMPAT,
    "tests/compat/test_bailian_sdk.py": COMPAT,
    "tests/compat/test_eas_sdk.py": COMPAT,
    "tests/compat/test_goodmem_sdk.py": COMPAT,
    "tests/compat/test_rate_limits_sdk.py": "tests/compat/test_rate_limits_sdk.py",
    "tests/e2e/test_catalog_replicas.py": "tests/e2e/test_catalog_replicas.py",
    "tests/e2e/test_cli_remote.py": "tests/e2e/test_cli_remote.py",
    "tests/e2e/test_cli_remote_resources.py": "tests/e2e/test_cli_remote_resources.py",
    "tests/e2e/test_connection_limits.py": "tests/e2e/test_connection_limits.py",
    "tests/e2e/test_gateway_llmock.py": "tests/e2e/test_gateway_llmock.py",
    "tests/e2e/test_stack_apply.py": "tests/e2e/test_stack_apply.py",
}


class SharedServers(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """`--dist load`, except that a group of SHARED_SERVER_GROUPS goes to one worker."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return SHARED_SERVER_GROUPS.get(module, nodeid)
