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
import socket
import sys

import uvicorn

from modelplane.faces.shutdown import Shutdown

STARTUP_FAILURE = 3  # uvicorn's exit code when the application did not start


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
