"""`GET /metrics`: this process's counters in the Prometheus text format, on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from modelplane.app import create_app
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN

METRICS_TOKEN = "mp_metrics_scrape_token_0123456789"
LLM = {
    "displayName": "metered",
    "providerType": "OPENAI",
    "endpointUrl": "https://api.openai.com/v1",
    "modelIdentifier": "gpt-4o",
}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, parsed by the reference parser: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    parsed: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return parsed.get((name, tuple(sorted(labels.items()))), 0.0)


def requests(parsed: dict[tuple[str, tuple[tuple[str, str], ...]], float], **labels: str) -> float:
    return value(parsed, "modelplane_http_requests_total", **labels)


async def scrape(
    http: httpx.AsyncClient, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return samples(response.text)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application),
            base_url="http://modelplane.test",
            headers={"x-api-key": ADMIN_TOKEN},
        ) as http,
    ):
        yield http


async def test_requests_are_counted_by_face_method_route_template_and_status(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await client.post("/v1/llms", json=LLM)
    llm_id = created.json()["llm"]["llmId"]
    for _ in range(3):
        assert (await client.get(f"/v1/llms/{llm_id}")).status_code == 200
    assert (await client.get("/v1/llms/no-such-id")).status_code == 404
    assert (
        await client.get(f"/v1/llms/{llm_id}", headers={"x-api-key": "wrong"})
    ).status_code == 401
    assert (await client.get("/no/such/route")).status_code == 404
    assert (
        await client.post("/", headers={"x-acs-action": "ListModelTemplates"})
    ).status_code == 400

    parsed = await scrape(client)
    native = {"face": "native", "method": "GET"}
    assert requests(parsed, **native, route="/v1/llms/{llm_id}", status="200") == 3
    assert requests(parsed, **native, route="/v1/llms/{llm_id}", status="404") == 1
    # Refused before routing, and still counted under its route's template.
    assert requests(parsed, **native, route="/v1/llms/{llm_id}", status="401") == 1
    assert requests(parsed, **native, route="unmatched", status="404") == 1
    assert requests(parsed, face="native", method="POST", route="/v1/llms", status="201") == 1
    assert requests(parsed, face="aliyun_rpc", method="POST", route="/", status="400") == 1
    raw_paths = [labels for (_, labels) in parsed if ("route", f"/v1/llms/{llm_id}") in labels]
    assert raw_paths == []  # never the raw path: bounded labels

    histogram = "modelplane_http_request_duration_seconds"
    count = value(parsed, f"{histogram}_count", face="native")
    assert count == 7
    assert value(parsed, f"{histogram}_bucket", face="native", le="+Inf") == count
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in parsed.items()
        if name == f"{histogram}_bucket" and dict(labels)["face"] == "native"
    )
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)  # cumulative
    assert 0 < value(parsed, f"{histogram}_sum", face="native") < 60
    assert value(parsed, f"{histogram}_count", face="aliyun_rpc") == 1
    # The scrape itself is in flight while it renders.
    assert value(parsed, "modelplane_http_requests_in_flight") == 1
    assert value(parsed, "modelplane_read_cache_hits_total") >= 2
    assert value(parsed, "modelplane_read_cache_misses_total") >= 1
    assert value(parsed, "modelplane_db_connections_in_use") == 0
    assert value(parsed, "modelplane_change_feed_watchers") == 0

    again = await scrape(client)
    assert requests(again, face="native", method="GET", route="/metrics", status="200") == 1


async def test_watchers_and_requests_in_flight_are_gauges(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    base = "/v1/configs/cn-metrics/service/gauges"
    assert (await client.put(f"{base}/model", json={"value": "a"})).status_code == 201
    watches = [
        asyncio.create_task(
            client.get(f"{base}:watch", params={"sinceRevision": 1, "timeoutSeconds": 30})
        )
        for _ in range(3)
    ]
    try:
        for _ in range(200):
            parsed = await scrape(client)
            if value(parsed, "modelplane_change_feed_watchers") == 3:
                break
            await asyncio.sleep(0.02)
        assert value(parsed, "modelplane_change_feed_watchers") == 3
        assert value(parsed, "modelplane_http_requests_in_flight") == 4  # 3 watches + scrape
    finally:
        assert (await client.put(f"{base}/model", json={"value": "b"})).status_code == 200
        answered = await asyncio.gather(*watches)
    assert all(r.status_code == 200 and r.json()["changed"] for r in answered)
    parsed = await scrape(client)
    assert value(parsed, "modelplane_change_feed_watchers") == 0
    assert value(parsed, "modelplane_http_requests_in_flight") == 1


async def test_a_metrics_token_is_required_when_set(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})
    async with serving(guarded) as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["code"] == "UNAUTHENTICATED"
        assert refused.headers["www-authenticate"] == "Bearer"
        wrong = await http.get("/metrics", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
        assert wrong.status_code == 401
        assert METRICS_TOKEN not in refused.text + wrong.text
        parsed = await scrape(http, authorization=f"Bearer {METRICS_TOKEN}")
        assert requests(parsed, face="native", method="GET", route="/metrics", status="401") == 2


async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    async with serving(settings.model_copy(update={"metrics": False})) as http:
        response = await http.get("/metrics")
        assert response.status_code == 404
        assert (await http.get("/healthz")).status_code == 200


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 20 characters"):
        Settings(metrics_token="short")
