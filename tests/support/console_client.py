"""The console through httpx, in-process, for integration tests of its pages and rules
(tests/integration/test_console_*.py): sign a client in with an API key, read the CSRF
token of a page, post a form as a browser does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

BASE_URL = "http://modelplane.test"
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token in a console page's forms."""
    found = _CSRF.search(page.text)
    assert found is not None, f"no CSRF field in {page.url}"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, token: str) -> httpx.Response:
    """Post the sign-in form with `token` as a browser does; the answer (303 when it worked)."""
    form = await http.get("/console/sign-in")
    nonce = _NONCE.search(form.text)
    assert nonce is not None, form.text
    return await http.post(
        "/console/sign-in", data={"nonce": nonce.group(1), "key": token, "next": "/console"}
    )


@asynccontextmanager
async def signed_in(
    app: FastAPI, token: str, *, base_url: str = BASE_URL
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` whose console session is `token`'s (no API key on its requests)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
        answer = await sign_in(http, token)
        assert answer.status_code == 303, answer.text
        yield http


async def post_form(
    http: httpx.AsyncClient, path: str, fields: dict[str, str], *, form_page: str | None = None
) -> httpx.Response:
    """Post `fields` to `path` with the CSRF token of `form_page` (default: `path`)."""
    page = await http.get(form_page or path)
    return await http.post(path, data={"csrf": csrf_of(page), **fields})
