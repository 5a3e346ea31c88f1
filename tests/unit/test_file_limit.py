"""`modelplane serve` raises its soft limit of open files to fit the connection cap, so that
connections past the cap are refused cleanly instead of `accept()` failing."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from modelplane.serving import OTHER_FILES, raise_file_limit
from modelplane.settings import Settings


@pytest.fixture
def soft_limit() -> Iterator[int]:
    """This process's soft limit of open files, restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        yield soft
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_soft_limit_is_raised_to_fit_the_cap_within_the_hard_limit(soft_limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    settings = Settings(max_connections=1000, db_pool_size=10)
    wanted = 1000 + 2 * 10 + OTHER_FILES
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard limit ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
    assert raise_file_limit(settings) == wanted
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (wanted, hard)
    # A limit that fits already is left alone.
    assert (
        raise_file_limit(
            Settings(max_connections=100, max_watches=50, max_watches_per_principal=10)
        )
        == wanted
    )
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == wanted
