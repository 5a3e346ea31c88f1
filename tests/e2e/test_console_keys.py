"""The Keys screen in a real browser: an admin creates a principal, issues it a key and
sees the token once (never in a URL, cookie, browser storage or later page), limits the
key, revokes it and deletes the principal; a member sees and issues only its own keys.
The test fails on a console error or a request elsewhere."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, Request, expect

from tests.support.console_browser import ConsoleSite


def _in_a_week() -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)).isoformat()


def test_a_principal_gets_a_key_shown_once_limited_revoked_and_is_deleted(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    name = f"browser-app-{console_site.store}"
    console_site.sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    expect(page.get_by_role("heading", name="Keys", level=1)).to_be_visible()
    page.get_by_role("link", name="New principal").click()

    page.get_by_role("button", name="Create principal").click()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Create principal").click()
    expect(page.get_by_role("status")).to_have_text(f"Principal {name} created.")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    page.get_by_role("link", name="Issue a key").click()
    page.get_by_label("Label").fill("Browser app")
    page.get_by_label("Gateway only").check()
    page.get_by_label("Valid until (end of day)").fill(_in_a_week())
    expect(page.get_by_label("Time zone")).not_to_have_value("")  # the browser's, by script
    page.get_by_role("button", name="Issue key").click()
    expect(page.get_by_role("heading", name="Key issued", level=1)).to_be_visible()
    token = page.get_by_label("Token").input_value()
    assert token.startswith("mp_") and len(token) > 30
    assert page.content().count(token) == 1
    expect(page.get_by_role("button", name="Copy token")).to_be_visible()
    example = "mp_EXAMPLE-for-the-docs-not-a-real-token-0000"  # the docs show no real token
    page.evaluate("(shown) => { document.getElementById('token').value = shown; }", example)
    console_site.screenshot(page, "key-issued")

    page.get_by_role("link", name="Done").click()
    rows = page.locator("#api-keys tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Browser app")
    expect(rows.first).to_contain_text("gateway only")
    expect(rows.first).to_contain_text("active")
    assert token not in page.content()
    console_site.screenshot(page, "keys")

    rows.first.get_by_role("link").click()
    page.get_by_role("link", name="Edit limits").click()
    page.get_by_label("Requests per minute").fill("sixty")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_label("Requests per minute")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Requests per minute").fill("60")
    page.get_by_label("Budget", exact=True).fill("5")
    page.get_by_label("Budget period").select_option("day")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_role("status")).to_have_text("Limits saved.")
    limits = page.get_by_role("region", name="Limits at the gateway")
    expect(limits).to_contain_text("60")
    expect(limits).to_contain_text("5.00 per UTC day")
    assert token not in page.content()

    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("revoked.")
    expect(rows.first).to_contain_text("revoked")
    refused = console_site.api.get(
        "/openai/v1/models", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401

    page.get_by_role("link", name="Delete principal").click()
    page.get_by_role("button", name="Delete principal").click()
    expect(page.get_by_role("status")).to_have_text("Principal deleted.")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No principals match these filters.")).to_be_visible()

    stored = page.evaluate("() => JSON.stringify([localStorage, sessionStorage])")
    cookies = page.context.cookies()
    assert token not in stored and all(token not in c["value"] for c in cookies)
    assert all(token not in url for url in asked)  # never in a URL


def test_a_member_sees_and_issues_only_its_own_keys(
    console_site: ConsoleSite, console_page: Page
) -> None:
    admin_keys = console_site.api.get("/v1/principals/me/api-keys").json()["apiKeys"]
    admin_id = admin_keys[0]["principalId"]
    member_id, key = console_site.new_member(f"browser-keys-member-{console_site.store}")
    page = console_page
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    console_site.sign_in(page, key)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    expect(page.get_by_role("heading", name="Your keys", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="New principal")).to_have_count(0)
    expect(page.locator("#api-keys tbody tr")).to_have_count(1)
    expect(page.locator("#api-keys")).to_contain_text("this session")

    page.get_by_role("link", name="Issue a key").click()
    expect(page.get_by_text("The gateway only")).to_be_visible()
    page.get_by_label("Label").fill("member app")
    page.get_by_role("button", name="Issue key").click()
    token = page.get_by_label("Token").input_value()
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#api-keys tbody tr")).to_have_count(2)
    expect(page.locator("#api-keys tbody tr").first).to_contain_text("gateway only")
    assert token not in page.content()

    page.goto(f"{console_site.url}/console/keys/{admin_id}")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.goto(f"{console_site.url}/console/audit")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert all(token not in r.url for r in requests)
    console_site.api.delete(f"/v1/principals/{member_id}")
