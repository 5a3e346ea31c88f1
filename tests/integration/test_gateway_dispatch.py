"""The gateway's calls skip the control plane's stack but keep the request context (both
stores): request id, body limit, metrics under the route's template, the error shape."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.integration.test_metrics import requests, scrape

CHAT = "/openai/v1/chat/completions"


async def test_a_gateway_call_keeps_its_request_id_error_shape_and_metrics_label(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    answer = await client.post(CHAT, json={"model": "no-such-model", "messages": []})
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert len(answer.headers["x-request-id"]) == 32
    given = await client.post(
        CHAT, json={"model": "no-such-model"}, headers={"x-request-id": "caller-1"}
    )
    assert given.headers["x-request-id"] == "caller-1"
    parsed = await scrape(client)
    labels = {"face": "gateway", "method": "POST", "route": CHAT, "status": "404"}
    assert requests(parsed, **labels) == 2


async def test_a_gateway_body_over_the_limit_is_refused_before_the_endpoint(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    limit = app.state.settings.gateway_max_body_bytes
    answer = await client.post(
        CHAT, content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


async def test_a_wrong_method_or_unknown_gateway_path_answers_as_before(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(CHAT)).status_code == 405
    assert (await client.post("/openai/v1/no-such-operation", json={})).status_code == 404
