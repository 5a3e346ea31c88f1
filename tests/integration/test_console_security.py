"""The console's security rules, on both stores, in-process: the session cookie's flags,
CSRF, the headers of every page, sign-out and revocation ending sessions, no key in a
page, sign-in's rate limit, and the route from `/`."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from modelplane.app import create_app
from modelplane.faces.console.web import CSP
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import BASE_URL, csrf_of, post_form, sign_in, signed_in

SESSION = "modelplane_console"


def _set_cookie(answer: httpx.Response, name: str) -> str:
    found = [v for v in answer.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
    assert len(found) == 1, answer.headers.get_list("set-cookie")
    return found[0]


async def test_get_root_leads_to_the_console_and_an_anonymous_page_to_sign_in(
    anon: httpx.AsyncClient,
) -> None:
    root = await anon.get("/")
    assert root.status_code == 302 and root.headers["location"] == "/console"
    page = await anon.get("/console/connections?page=2")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fconnections%3Fpage%3D2"


async def test_the_session_cookie_is_http_only_strict_scoped_and_expiring(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        answer = await sign_in(http, ADMIN_TOKEN)
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = _set_cookie(answer, SESSION).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert "max-age=28800" in cookie
    assert "secure" not in cookie  # plain HTTP: a Secure cookie would never come back


async def test_the_session_cookie_is_secure_over_https_and_behind_an_https_public_url(
    settings: Settings,
) -> None:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="https://mp.test") as http:
            answer = await sign_in(http, ADMIN_TOKEN)
    assert "; secure" in _set_cookie(answer, SESSION).lower()
    # Behind a proxy that ends TLS: the request is plain HTTP, MODELPLANE_PUBLIC_URL https.
    behind = create_app(settings.model_copy(update={"public_url": "https://mp.example"}))
    async with behind.router.lifespan_context(behind):
        transport = httpx.ASGITransport(app=behind)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            form = await http.get("/console/sign-in")
    assert "; secure" in _set_cookie(form, "modelplane_console_sign_in").lower()


async def test_every_console_answer_sends_the_strict_headers(app: FastAPI) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        answers = [
            await http.get("/console"),
            await http.get("/console/connections"),
            await http.get("/console/catalog"),
            await http.get("/console/nowhere"),
            await http.post("/console/connections/new", data={"displayName": "x"}),
        ]
        style = re.search(r'href="(/console/static/console\.css\?v=\w+)"', answers[0].text)
        assert style is not None
        asset = await http.get(style.group(1))
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 403]
    for answer in [*answers, asset]:
        assert answer.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP
        assert "frame-ancestors 'none'" in CSP and "default-src 'self'" in CSP
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-content-type-options"] == "nosniff"
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/css")


async def test_a_form_without_the_session_csrf_token_is_refused_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    fields = {"displayName": "Forged", "modelIdentifier": "gpt-4o-mini"}
    async with signed_in(app, ADMIN_TOKEN) as http:
        missing = await http.post("/console/connections/new", data=fields)
        wrong = await http.post("/console/connections/new", data={**fields, "csrf": "x" * 43})
        async with signed_in(app, ADMIN_TOKEN) as other:  # another session's token
            foreign = csrf_of(await other.get("/console/connections/new"))
        crossed = await http.post("/console/connections/new", data={**fields, "csrf": foreign})
        signed_out = await http.post("/console/sign-out", data={})
    for refused in (missing, wrong, crossed):
        assert refused.status_code == 403
        assert "Form expired" in refused.text and "security token" in refused.text
    assert signed_out.status_code == 403  # signing out is a change too
    assert (await client.get("/v1/llms")).json()["llms"] == []


async def test_signing_in_needs_the_form_own_token(anon: httpx.AsyncClient) -> None:
    refused = await anon.post("/console/sign-in", data={"key": ADMIN_TOKEN, "nonce": "forged"})
    assert refused.status_code == 403
    assert SESSION not in refused.headers.get("set-cookie", "")


async def test_signing_out_ends_the_session_on_the_server(app: FastAPI) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        session = http.cookies[SESSION]
        out = await post_form(http, "/console/sign-out", {}, form_page="/console")
        assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
        assert 'modelplane_console=""' in out.headers.get("set-cookie", "")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, cookies={SESSION: session}
    ) as replay:
        again = await replay.get("/console")
    assert again.status_code == 303 and again.headers["location"].startswith("/console/sign-in")


async def test_revoking_the_key_ends_its_sessions_at_the_next_request(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    principal_id, token = await new_member(client, "revoked-in-console")
    async with signed_in(app, token) as http:
        assert (await http.get("/console")).status_code == 200
        keys = (await client.get(f"/v1/principals/{principal_id}/api-keys")).json()["apiKeys"]
        revoked = await client.delete(
            f"/v1/principals/{principal_id}/api-keys/{keys[0]['apiKeyId']}"
        )
        assert revoked.status_code == 200
        after = await http.get("/console")
    assert after.status_code == 303 and after.headers["location"].startswith("/console/sign-in")


async def test_deleting_the_principal_ends_its_sessions(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    principal_id, token = await new_member(client, "deleted-in-console")
    async with signed_in(app, token) as http:
        assert (await client.delete(f"/v1/principals/{principal_id}")).status_code == 200
        after = await http.get("/console")
    assert after.status_code == 303


async def test_a_gateway_only_key_cannot_sign_in(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await client.post("/v1/principals", json={"name": "gw-only", "role": "member"})
    principal_id = created.json()["principalId"]
    issued = await client.post(
        f"/v1/principals/{principal_id}/api-keys", json={"gatewayOnly": True}
    )
    assert issued.status_code == 201, issued.text
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        answer = await sign_in(http, issued.json()["token"])
    assert answer.status_code == 403
    assert "limited to the gateway" in answer.text


async def test_no_key_appears_in_a_page_or_a_url(app: FastAPI, client: httpx.AsyncClient) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        wrong = await sign_in(http, "mp_wrong_key_never_echoed_0123456789")
        assert wrong.status_code == 401
        assert "mp_wrong_key_never_echoed" not in wrong.text
        answer = await sign_in(http, ADMIN_TOKEN)
        assert ADMIN_TOKEN not in answer.headers["location"]
        created = await post_form(
            http,
            "/console/connections/new",
            {
                "displayName": "Keyed",
                "modelIdentifier": "gpt-4o-mini",
                "apiKey": "sk-provider-secret-987654321",
            },
        )
        assert created.status_code == 303
        pages = [
            await http.get("/console"),
            await http.get("/console/connections"),
            await http.get(created.headers["location"]),
            await http.get(created.headers["location"] + "/edit"),
        ]
    for page in pages:
        assert page.status_code == 200
        assert ADMIN_TOKEN not in page.text and "sk-provider-secret" not in page.text
        assert ADMIN_TOKEN not in str(page.url)


async def test_sign_in_attempts_are_rate_limited_per_address(anon: httpx.AsyncClient) -> None:
    statuses = []
    for _ in range(12):
        form = await anon.get("/console/sign-in")
        nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
        assert nonce is not None
        answer = await anon.post(
            "/console/sign-in", data={"nonce": nonce.group(1), "key": "mp_guess_0000000000000"}
        )
        statuses.append(answer.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429 and "Too many requests" in answer.text
    assert int(answer.headers["retry-after"]) >= 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/v1/llms"])
async def test_after_signing_in_the_browser_goes_only_to_a_console_page(
    app: FastAPI, target: str
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        form = await http.get("/console/sign-in")
        nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
        assert nonce is not None
        answer = await http.post(
            "/console/sign-in",
            data={"nonce": nonce.group(1), "key": ADMIN_TOKEN, "next": target},
        )
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
