"""With -n, one xdist worker runs all the tests that share a live server.

A module- or session-scoped server starts once on each worker that runs a test using it,
and xdist's default (`--dist load`) deals a module's tests to every worker. `SharedServers`
hands each group of SHARED_SERVER_GROUPS to one worker as a whole, groups first and the
largest first, then every other test on its own, as `load` does. (xdist's `--dist
loadgroup` with `xdist_group` marks would do this, but under pytest 9.2 it silently groups
nothing: pytest-dev/pytest-xdist#1386.)

A worker that dies (a crash, the OOM killer) is reported and replaced as with `load`:
only the tests it had not run yet go back to the queue, and the one it died in is
reported as failed, not run again. (xdist's `LoadScopeScheduling` puts back every unit
the worker ever ran; units with nothing left to run are sent and answer nothing, so no
report ever asks for more work and the run hangs.)
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

COMPAT = "tests/compat: live_server"
# The console's browser tests (tests/support/console_browser.py).
CONSOLE = "tests/e2e: console_site"

# Test module -> its group: the modules whose tests share servers that are module- or
# session-scoped (tests/unit/test_xdist_groups.py finds the ones missing here).
SHARED_SERVER_GROUPS = {
    "tests/compat/test_appstream_sdk.py": COMPAT,
    "tests/compat/test_bailian_sdk.py": COMPAT,
    "tests/compat/test_eas_sdk.py": COMPAT,
    "tests/compat/test_goodmem_sdk.py": COMPAT,
    "tests/compat/test_rate_limits_sdk.py": "tests/compat/test_rate_limits_sdk.py",
    "tests/e2e/test_catalog_replicas.py": "tests/e2e/test_catalog_replicas.py",
    "tests/e2e/test_console_audit.py": CONSOLE,
    "tests/e2e/test_console_catalog.py": CONSOLE,
    "tests/e2e/test_console_connections.py": CONSOLE,
    "tests/e2e/test_console_keys.py": CONSOLE,
    "tests/e2e/test_console_overview.py": CONSOLE,
    "tests/e2e/test_console_gateway.py": CONSOLE,
    "tests/e2e/test_console_parameters.py": CONSOLE,
    "tests/e2e/test_console_prompts.py": CONSOLE,
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

    def remove_node(self, node: Any) -> str | None:
        """Forget `node`; requeue what it had not run; name the test it died in, if any."""
        workload: dict[str, dict[str, bool]] = self.assigned_work.pop(node)
        left = [
            (scope, nodeid)
            for scope, unit in workload.items()
            for nodeid, done in unit.items()
            if not done
        ]
        if not left:
            return None
        scope, crashed = left[0]  # a worker runs its tests in the order they were sent
        workload[scope][crashed] = True
        for scope, unit in workload.items():
            if not all(unit.values()):
                self.workqueue[scope] = unit
        for other in self.assigned_work:
            self._reschedule(other)
        return crashed
