"""Shared fixtures: every store-backed test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings
from tests.support.databases import ReusedPostgres, copied_sqlite, database, migrated_sqlite
from tests.support.upstreams import FixtureUpstream, fixture_upstream
from tests.support.xdist_groups import SharedServers

# The console's browser fixtures (console_site, console_browser, console_page).
pytest_plugins = ("tests.support.console_browser",)

ADMIN_TOKEN = "mp_test_admin_token_0123456789abcdef"
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# For tests of races that only PostgreSQL can lose (SQLite runs one writer at a time).
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> SharedServers | None:
    """With -n (`--dist load`), the tests that share a live server run on one worker."""
    if config.getvalue("dist") != "load":
        return None  # another --dist asked for: xdist's own
    return SharedServers(config, log)


@pytest.fixture(scope="module")
def upstream_server() -> Iterator[FixtureUpstream]:
    """Our own scripted LLM upstream on 127.0.0.1 (tests/support/upstreams.py), in a thread.

    Per module, not per session: its thread must not outlive the modules that use it (a
    test that patched `asyncio.sleep` process-wide once turned it into a busy loop)."""
    with fixture_upstream() as served:
        yield served


@pytest.fixture
def upstream(upstream_server: FixtureUpstream) -> FixtureUpstream:
    """The session's upstream, with no request noted yet."""
    upstream_server.reset()
    return upstream_server


@pytest.fixture(scope="session")
def reused_postgres() -> Iterator[ReusedPostgres]:
    """This session's PostgreSQL database, emptied for each test that uses it."""
    reused = ReusedPostgres()
    try:
        yield reused
    finally:
        reused.drop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the head schema without rows, migrated once per session (and worker)."""
    return migrated_sqlite(tmp_path_factory.mktemp("sqlite-template") / "modelplane.db")


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind at the head schema with no rows.

    SQLite: a copy of the session's template file; PostgreSQL: the session's database,
    emptied (both migrated once, as the first start of an app would).
    """
    if request.param == "postgres":
        url: str = request.getfixturevalue("reused_postgres").empty()
        return url
    return copied_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)


@pytest.fixture(params=STORES)
def new_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database of each kind, without even a schema."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test instance with a known admin token.

    No rate limit: tests send requests as fast as they can with one admin key (the
    limit's own tests set one, see tests/integration/test_rate_limits.py).
    """
    return Settings(
        database_url=database_url,
        secret_key=new_master_key_text(),
        bootstrap_token=ADMIN_TOKEN,
        access_log=False,
        rate_limit_per_second=0,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own to the test's PostgreSQL database, to play one side of a race."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application with its lifespan running (migrated and bootstrapped)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client authenticated as the bootstrap admin."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://modelplane.test",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as http:
        yield http


@pytest.fixture
async def anon(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client without credentials."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://modelplane.test") as http:
        yield http


@pytest.fixture
def http(anon: httpx.AsyncClient) -> httpx.AsyncClient:
    """`anon`, as the Alibaba faces' tests call it: their requests carry signatures instead."""
    return anon


async def new_member(client: httpx.AsyncClient, name: str, role: str = "member") -> tuple[str, str]:
    """Create a principal through the API; return (principalId, token)."""
    created = await client.post("/v1/principals", json={"name": name, "role": role})
    assert created.status_code == 201, created.text
    principal_id = created.json()["principalId"]
    issued = await client.post(f"/v1/principals/{principal_id}/api-keys", json={})
    assert issued.status_code == 201, issued.text
    return principal_id, issued.json()["token"]
