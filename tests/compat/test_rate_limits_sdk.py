"""The official Alibaba Cloud SDKs, unchanged, against a live modelplane over its rate limit.

One server (SQLite: the limit lives in memory, not in the store) lets its one access key
make a request every 10 s, with a burst of 1: after the first call, every call is
refused. Each SDK must raise `ThrottlingException` with code `Throttling.User`, status
429, and `retry_after` in milliseconds (what darabonba's retry policy sleeps on), read
from `x-acs-retry-after`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_appstream_center20210901 import models as appstream_models
from alibabacloud_appstream_center20210901.client import Client as AppStream
from alibabacloud_bailian20231229 import models as bailian_models
from alibabacloud_bailian20231229.client import Client as Bailian
from alibabacloud_eas20210701 import models as eas_models
from alibabacloud_eas20210701.client import Client as Eas
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException
from alibabacloud_tea_openapi.models import Config

from tests.compat.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ADMIN_TOKEN
from tests.support.databases import database
from tests.support.server import Server, instance_env

PER_SECOND = 0.1  # one token every 10 s: nothing refills while the module runs


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("live-throttled")
    with database("sqlite", directory) as url:
        env = instance_env(
            url,
            ADMIN_TOKEN,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID=ACCESS_KEY_ID,
            MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET,
            MODELPLANE_RATE_LIMIT_PER_SECOND=str(PER_SECOND),
            MODELPLANE_RATE_LIMIT_BURST="1",
        )
        with Server(cwd=directory, env=env) as live:
            yield live


def config(server: Server, signer: str) -> Config:
    settings = Config(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        endpoint=f"127.0.0.1:{server.port}",
        protocol="http",
        read_timeout=30_000,
    )
    if signer == "v2":
        settings.signature_algorithm = "v2"
    return settings


def throttled(call: Callable[[], Any]) -> ThrottlingException:
    """The SDK's error for a call made with no token left.

    The first call may still find a token (when it is the first on the server, or comes
    10 s after the one before): it is then served, whatever its answer.
    """
    for attempt in range(2):
        try:
            call()
        except ThrottlingException as exc:
            return exc
        except ClientException:
            if attempt:
                raise
    raise AssertionError("two calls in a row with a burst of 1 were both served")


def check(caught: ThrottlingException) -> None:
    assert caught.code == "Throttling.User"
    assert caught.status_code == 429
    assert 1 <= caught.retry_after <= 10_000  # milliseconds
    assert caught.request_id and caught.request_id != "None"
    assert "rate limit" in caught.message


@pytest.mark.parametrize("signer", ["acs3", "v2"])
def test_appstream_rpc_raises_throttling_user(server: Server, signer: str) -> None:
    sdk = AppStream(config(server, signer))
    check(throttled(lambda: sdk.list_model_templates(appstream_models.ListModelTemplatesRequest())))


def test_bailian_roa_raises_throttling_user(server: Server) -> None:
    sdk = Bailian(config(server, "acs3"))
    request = bailian_models.ListPromptTemplatesRequest()
    check(throttled(lambda: sdk.list_prompt_templates("llm-throttled", request)))


@pytest.mark.parametrize("signer", ["acs3", "v2"])
def test_eas_roa_raises_throttling_user(server: Server, signer: str) -> None:
    sdk = Eas(config(server, signer))
    request = eas_models.ListConfigsRequest()
    check(throttled(lambda: sdk.list_configs("cn-hangzhou", "service", "svc", request)))


def test_the_native_api_answers_429_with_retry_after(server: Server) -> None:
    """The bootstrap API key's principal is the access key's: the same bucket."""
    headers = {"x-api-key": ADMIN_TOKEN}
    answers = [httpx.get(f"{server.url}/v1/llms", headers=headers) for _ in range(2)]
    assert answers[0].status_code in (200, 429) and answers[1].status_code == 429
    assert answers[1].json()["code"] == "RESOURCE_EXHAUSTED"
    assert 1 <= int(answers[1].headers["retry-after"]) <= 10
    assert httpx.get(f"{server.url}/healthz").status_code == 200
