"""Through the route index, every answer is the one the router's full scan gave."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

REQUESTS = [
    ("GET", "/v1/llms"),
    ("GET", "/v1/llms/"),  # a trailing slash: redirected as before
    ("PATCH", "/v1/llms"),  # a wrong method
    ("GET", "/v1/llms/missing"),
    ("DELETE", "/v1/llms/missing"),
    ("GET", "/v1/nothing-here/x"),
    ("GET", "/v1/principals/me"),
    ("GET", "/v1/configs"),
    ("POST", "/v1/stack:apply"),
    ("GET", "/healthz"),
    ("PATCH", "/healthz"),
    ("GET", "/"),
    ("GET", "/console"),
    ("GET", "/console/sign-in"),
    ("GET", "/openai/v1/models"),
    ("DELETE", "/openai/v1/models"),
    ("GET", "/docs"),
    ("GET", "/docs/assets/missing.js"),
    ("GET", "/openapi.json"),
    ("GET", "/nope/x/y"),
]


def _answer(response: httpx.Response) -> tuple[int, str | None, str | None, bytes]:
    varies = b"requestId" in response.content or "html" in response.headers.get("content-type", "")
    body = b"" if varies else response.content  # request ids and forms' CSRF tokens vary
    return (
        response.status_code,
        response.headers.get("allow"),
        response.headers.get("location"),
        body,
    )


async def test_every_answer_is_the_one_the_full_scan_gives(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    indexed = [_answer(await client.request(m, p, json=None)) for m, p in REQUESTS]
    router = app.router
    router.middleware_stack = router.app  # the router as FastAPI built it: a full scan
    scanned = [_answer(await client.request(m, p, json=None)) for m, p in REQUESTS]
    assert indexed == scanned
    assert {status for status, *_ in indexed} >= {200, 307, 404, 405}
