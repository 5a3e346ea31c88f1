"""A live modelplane per store kind, shared by the compat tests of every module.

One server per store (and xdist worker) for the whole session: starting one costs
seconds, a test milliseconds. The tests keep out of each other's way as they did within
a module: each writes its own names (uuid suffixes, new workspaces and namespaces) and
lists only by them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import database
from tests.support.server import Server, instance_env

ADMIN_TOKEN = "mp_compat_admin_token_0123456789abcdef"
ACCESS_KEY_ID = "MPAKCOMPATADMIN0001"
ACCESS_KEY_SECRET = "compat-admin-secret-0123456789"


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`modelplane serve` on 127.0.0.1 with a known admin token and access-key pair."""
    directory: Path = tmp_path_factory.mktemp(f"live-{request.param}")
    with database(request.param, directory) as url:
        env = instance_env(
            url,
            ADMIN_TOKEN,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID=ACCESS_KEY_ID,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET,
        )
        with Server(cwd=directory, env=env) as server:
            yield server
