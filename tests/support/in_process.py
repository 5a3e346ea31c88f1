"""The test app (its lifespan already running) served by uvicorn on 127.0.0.1 in this
process, with the protocol of `modelplane serve` (connections.py), for clients that need a
real socket: the sync SDK and everything built on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from modelplane.connections import ConnectionLimits, protocol_class
from modelplane.serving import DrainingServer
from tests.support.server import free_port


@asynccontextmanager
async def serving(
    app: FastAPI, *, graceful_seconds: int = 5
) -> AsyncIterator[tuple[str, DrainingServer]]:
    """The base URL of `app` served until the block ends, and its server.

    Sync clients must run in a worker thread (`asyncio.to_thread`), so that the server
    keeps the event loop.
    """
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        lifespan="off",
        log_config=None,
        access_log=False,
        http=protocol_class(ConnectionLimits.of(app.state.settings)),
        timeout_graceful_shutdown=graceful_seconds,
    )
    server = DrainingServer(config, shutdown=app.state.shutdown)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), task
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}", server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The base URL of `app` served until the block ends (see `serving`)."""
    async with serving(app) as (url, _):
        yield url
