"""Rate limits per principal on every face, through the in-process app (SQLite, PostgreSQL).

The app runs with 5 requests a second and a burst of 5. Principals and keys are made
through the services, so that setting up spends no tokens. Most tests freeze the
limiter's clock (`app.state.rate_limits.clock`), so the 6th request is refused however
slow the machine; one waits out `Retry-After` in real time.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.client import AsyncClient, ResourceExhausted
from modelplane.domain.principals import Principal
from modelplane.security.secretbox import new_master_key_text
from modelplane.services import principals
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.integration.test_bailian_face import keys_for
from tests.integration.test_catalog_services import admin_of
from tests.support.roa import EAS_VERSION, HOST, RoaClient, send
from tests.support.rpc import RpcClient

PER_SECOND, BURST = 5, 5
NATIVE_ERROR_KEYS = {"code", "message", "details"}


class StatusCounting(httpx.AsyncBaseTransport):
    """A transport that counts the statuses of the answers passing through it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.statuses: Counter[int] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.statuses[response.status_code] += 1
        return response


class Clock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The test settings, with a small limit (conftest's turn it off)."""
    return Settings(
        database_url=database_url,
        secret_key=new_master_key_text(),
        bootstrap_token=ADMIN_TOKEN,
        access_log=False,
        rate_limit_per_second=PER_SECOND,
        rate_limit_burst=BURST,
    )


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    """The limiter's clock, frozen until a test moves it."""
    frozen = Clock()
    app.state.rate_limits.clock = frozen
    return frozen


async def member(app: FastAPI, name: str) -> Principal:
    store = app.state.store
    return await principals.create_principal(
        store=store, actor=await admin_of(store), name=name, role="member"
    )


async def token_of(app: FastAPI, principal: Principal) -> str:
    store = app.state.store
    issued = await principals.issue_api_key(
        store=store, actor=await admin_of(store), principal_id=principal.principal_id
    )
    return issued.token


async def native_get(http: httpx.AsyncClient, token: str, path: str = "/v1/llms") -> httpx.Response:
    return await http.get(path, headers={"Authorization": f"Bearer {token}"})


def assert_native_throttled(response: httpx.Response) -> int:
    """A native 429; the seconds of its `Retry-After`."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert set(body) == NATIVE_ERROR_KEYS
    assert body["code"] == "RESOURCE_EXHAUSTED"
    assert "rate limit" in body["message"] and body["details"] == []
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


def assert_acs_throttled(response: httpx.Response, request_id_key: str, code_key: str) -> None:
    """An Alibaba 429 `Throttling.User` with its request id and `x-acs-retry-after` (ms)."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body[code_key] == "Throttling.User"
    assert body[request_id_key] == response.headers["x-request-id"]
    assert "rate limit" in (body.get("Message") or body["message"])
    # 5 a second: the next token is 200 ms away (the clock is frozen).
    assert response.headers["x-acs-retry-after"] == "200"
    assert response.headers["retry-after"] == "1"


async def test_the_sixth_rapid_request_is_429_and_others_are_not_affected(
    app: FastAPI, http: httpx.AsyncClient, clock: Clock
) -> None:
    alice, bob = await member(app, "alice"), await member(app, "bob")
    alice_token, bob_token = await token_of(app, alice), await token_of(app, bob)
    for _ in range(BURST):
        assert (await native_get(http, alice_token)).status_code == 200
    assert_native_throttled(await native_get(http, alice_token))
    # Every path and method of the face spends from the same bucket.
    assert_native_throttled(
        await http.post("/v1/llms", json={}, headers={"x-api-key": alice_token})
    )
    # Another principal has its own bucket; health probes and failed logins have none.
    for _ in range(BURST):
        assert (await native_get(http, bob_token)).status_code == 200
    for _ in range(3 * BURST):
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200
        assert (await native_get(http, "mp_no_such_key_0123456789")).status_code == 401
    # A second key of the same principal shares its bucket.
    assert_native_throttled(await native_get(http, await token_of(app, alice)))
    clock.now += 1 / PER_SECOND
    assert (await native_get(http, alice_token)).status_code == 200
    assert_native_throttled(await native_get(http, alice_token))


async def test_after_waiting_retry_after_the_principal_is_served_again(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    """On the real clock: a burst, one refusal, a real wait of `Retry-After` (1 s)."""
    token = await token_of(app, await member(app, "patient"))
    served = 0
    for _ in range(200):  # however slow the machine, some request soon finds no token
        answer = await native_get(http, token)
        if answer.status_code != 200:
            break
        served += 1
    assert served >= BURST
    retry_after = assert_native_throttled(answer)
    assert retry_after == 1
    await asyncio.sleep(retry_after)
    assert (await native_get(http, token)).status_code == 200


async def test_the_sdk_raises_resource_exhausted_with_retry_after(
    app: FastAPI, clock: Clock
) -> None:
    token = await token_of(app, await member(app, "sdk-user"))
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(f"http://{HOST}", token, max_retries=0, transport=transport) as client:
        for _ in range(BURST):
            await client.llms.list()
        with pytest.raises(ResourceExhausted) as caught:
            await client.llms.list()
    assert caught.value.code == "RESOURCE_EXHAUSTED"
    assert (caught.value.status_code, caught.value.retry_after) == (429, 1.0)


async def test_the_sdk_waits_out_retry_after_and_every_call_succeeds(app: FastAPI) -> None:
    """On the real clock: twice the burst through the SDK's default retries, no error."""
    token = await token_of(app, await member(app, "sdk-patient"))
    transport = StatusCounting(httpx.ASGITransport(app=app))
    async with AsyncClient(f"http://{HOST}", token, transport=transport) as client:
        for _ in range(2 * BURST):
            assert await client.llms.list() == []
    assert transport.statuses[429] > 0, "the burst was never exceeded: nothing was retried"
    assert transport.statuses[200] == 2 * BURST


async def test_overrides_apply_per_principal(settings: Settings) -> None:
    """A principal given its own limit (here none) in MODELPLANE_RATE_LIMIT_OVERRIDES."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        free = await member(app, "unlimited")
    overridden = Settings(
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        access_log=False,
        rate_limit_per_second=PER_SECOND,
        rate_limit_burst=BURST,
        rate_limit_overrides={free.principal_id: 0, "p-other": 1},
    )
    app = create_app(overridden)
    async with app.router.lifespan_context(app):
        app.state.rate_limits.clock = Clock()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as http:
            free_token = await token_of(app, free)
            other_token = await token_of(app, await member(app, "ordinary"))
            for _ in range(4 * BURST):
                assert (await native_get(http, free_token)).status_code == 200
            codes = [(await native_get(http, other_token)).status_code for _ in range(BURST + 1)]
            assert codes == [200] * BURST + [429]


async def test_the_rpc_face_answers_throttling_user(
    app: FastAPI, http: httpx.AsyncClient, clock: Clock
) -> None:
    principal = await member(app, "rpc-user")
    rpc = RpcClient(http, *await keys_for(app, principal.principal_id))
    for _ in range(BURST):
        assert (await rpc.call("ListModelTemplates")).status_code == 200
    response = await rpc.call("ListModelTemplates")
    assert_acs_throttled(response, "RequestId", "Code")
    body = response.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["Recommend"]
    # The limit is per principal, not per face: the native face refuses it too.
    token = await token_of(app, principal)
    assert_native_throttled(await native_get(http, token))


async def test_the_bailian_face_answers_throttling_user(app: FastAPI, clock: Clock) -> None:
    principal = await member(app, "bailian-user")
    roa = RoaClient(app, *await keys_for(app, principal.principal_id))
    path = "/llm-nosuchworkspace/promptTemplates"
    for _ in range(BURST):  # not found, but authenticated: each spends a token
        assert (await roa.call("GET", path)).status_code == 404
    response = await roa.call("GET", path)
    assert_acs_throttled(response, "requestId", "code")
    assert set(response.json()) == {"requestId", "code", "message"}


async def test_the_eas_face_answers_throttling_user(app: FastAPI, clock: Clock) -> None:
    principal = await member(app, "eas-user")
    roa = RoaClient(
        app,
        *await keys_for(app, principal.principal_id),
        "v2",
        version=EAS_VERSION,
        action="Config",
    )
    path = "/api/v2/configs/cn-hangzhou/service/svc"
    for _ in range(BURST):
        assert (await roa.call("GET", path)).status_code == 200
    response = await roa.call("GET", path)
    assert_acs_throttled(response, "RequestId", "Code")
    assert set(response.json()) == {"RequestId", "Code", "Message"}


async def test_a_bad_signature_spends_no_token(app: FastAPI, clock: Clock) -> None:
    principal = await member(app, "careless")
    access_key_id, secret = await keys_for(app, principal.principal_id)
    wrong = RoaClient(app, access_key_id, "not-the-secret-0123456789", version=EAS_VERSION)
    path = "/api/v2/configs/cn-hangzhou/service/svc"
    for _ in range(3 * BURST):
        response = await wrong.call("GET", path, version=None)
        assert json.loads(response.text)["Code"] == "SignatureDoesNotMatch"
    right = RoaClient(app, access_key_id, secret, version=EAS_VERSION, action="Config")
    for _ in range(BURST):
        assert (await right.call("GET", path)).status_code == 200


@pytest.mark.parametrize("signer", ["acs3", "v2"])
async def test_a_throttled_rpc_request_keeps_no_nonce_and_may_be_sent_again(
    app: FastAPI, http: httpx.AsyncClient, clock: Clock, signer: str
) -> None:
    principal = await member(app, f"rpc-again-{signer}")
    rpc = RpcClient(http, *await keys_for(app, principal.principal_id), signer=signer)
    for _ in range(BURST):
        assert (await rpc.call("ListModelTemplates")).status_code == 200
    create = rpc.sign("CreateModelTemplate", {"Name": "sent twice", "BizType": "1"})
    assert_acs_throttled(await rpc.send(create), "RequestId", "Code")
    clock.now += 1 / PER_SECOND
    again = await rpc.send(create)  # the very same signed request, nonce and all
    assert again.status_code == 200, again.text
    clock.now += 1 / PER_SECOND
    listed = (await rpc.call("ListModelTemplates")).json()
    assert [group["Name"] for group in listed["Data"]] == ["sent twice"]


async def test_a_throttled_roa_request_keeps_no_nonce_and_may_be_sent_again(
    app: FastAPI, clock: Clock
) -> None:
    principal = await member(app, "eas-again")
    roa = RoaClient(app, *await keys_for(app, principal.principal_id), "v2", version=EAS_VERSION)
    path = "/api/v2/configs/cn-hangzhou/service/svc"
    for _ in range(BURST):
        assert (await roa.call("GET", path)).status_code == 200
    headers = roa.headers_for("GET", path, {"PageSize": "5"})
    assert_acs_throttled(await send(app, "GET", path, "PageSize=5", headers), "RequestId", "Code")
    clock.now += 1 / PER_SECOND
    again = await send(app, "GET", path, "PageSize=5", headers)
    assert again.status_code == 200, again.text
    assert again.json()["PageSize"] == 5
