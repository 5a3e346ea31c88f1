"""Running the application under uvicorn, with a shutdown that ends long-lived responses.

uvicorn's graceful shutdown stops accepting connections, then waits (up to its timeout)
for every open response to finish. Watches and event streams would hold it for their
whole timeout, or for ever; so the server tells the application's `Shutdown` first, and
they end at once (a long-poll answers "no change", a stream ends), leaving ordinary
in-flight requests to finish as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import sys

import uvicorn

from modelplane.faces.shutdown import Shutdown
from modelplane.settings import Settings

STARTUP_FAILURE = 3  # uvicorn's exit code when the application did not start
# File descriptors besides client connections: the listener, database connections (up to
# twice the pool, and the listener of changes), log and key files, with room to spare.
OTHER_FILES = 64

log = logging.getLogger("modelplane.serving")


def raise_file_limit(settings: Settings) -> int:
    """Raise the soft limit of open files to what `MODELPLANE_MAX_CONNECTIONS` needs, up to
    the hard limit; warn when it stays below. The limit now in force.

    At the limit `accept()` fails and connections wait unserved; below it, connections
    past the cap are refused cleanly (connections.py).
    """
    wanted = settings.max_connections + 2 * settings.db_pool_size + OTHER_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if raised > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = raised
    if soft < wanted:
        log.warning(
            f"this process may open only {soft} files, and MODELPLANE_MAX_CONNECTIONS="
            f"{settings.max_connections} needs about {wanted}: lower it, or raise the hard "
            "limit (ulimit -Hn)",
            extra={"fields": {"openFiles": soft, "wanted": wanted}},
        )
    return soft


class DrainingServer(uvicorn.Server):
    """A uvicorn server that begins `shutdown` when it begins its own."""

    def __init__(self, config: uvicorn.Config, *, shutdown: Shutdown) -> None:
        super().__init__(config)
        self.draining = shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop listening and mark the open connections to close (uvicorn's first, synchronous
        steps), then end the long-lived responses, then wait for the rest as uvicorn does."""
        asyncio.get_running_loop().call_soon(self.draining.begin)
        await super().shutdown(sockets)


def run(config: uvicorn.Config, *, shutdown: Shutdown) -> None:
    """Serve until a signal, like `uvicorn.run` (one process, no reload)."""
    server = DrainingServer(config, shutdown=shutdown)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
