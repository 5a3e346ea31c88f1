"""The Parameters screen in a real browser: a namespace created, a parameter added, edited
and deleted; values changed by another client through the API appearing on the open page
without a reload; who is listening; several published as one revision; a revert from the
history; a gray release opened and promoted. The test fails on a console error or a
request elsewhere."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

from tests.support.console_browser import ConsoleSite


def _value(page: Page, key: str) -> Locator:
    return page.locator(f'#parameters tr[data-key="{key}"] [data-field="value"]')


def test_a_namespace_is_edited_published_reverted_gray_released_and_followed_live(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    cluster = f"browser-{console_site.store}"
    api = f"/v1/configs/{cluster}/service/orders"
    console_site.sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Parameters").click()
    expect(page.get_by_role("heading", name="Parameters", level=1)).to_be_visible()
    page.get_by_role("link", name="New namespace").click()
    page.get_by_label("Cluster").fill(cluster)
    page.get_by_label("Service name").fill("orders")
    page.get_by_label("First key").fill("limit")
    page.get_by_label("Value").fill("10")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status").first).to_have_text(f"Namespace {cluster}/orders created.")

    page.get_by_role("link", name="Add parameter").click()
    page.get_by_label("Key").fill("flags")
    page.get_by_label("Format").select_option("json")
    page.get_by_label("Value").fill("{not json")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_label("Value")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Value").fill('{"beta": false}')
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status").first).to_have_text("Parameter flags added.")

    page.get_by_role("link", name="Edit limit").click()
    expect(page.get_by_label("Value")).to_have_value("10")
    page.get_by_label("Value").fill("20")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_have_text("Parameter limit saved.")
    expect(_value(page, "limit")).to_have_text("20")

    # Another client writes through the API: the open page shows it without a reload.
    expect(page.locator("#parameters")).to_have_attribute("data-live", "open")
    page.evaluate("window.notReloaded = true")
    changed = console_site.api.post(
        f"{api}:batch",
        json={
            "items": [
                {"key": "limit", "value": "25"},
                {"key": "timeout", "value": "30s"},
            ]
        },
    )
    assert changed.status_code == 200, changed.text
    expect(_value(page, "limit")).to_have_text("25")
    expect(_value(page, "timeout")).to_have_text("30s")
    expect(page.locator("#ns-revision")).to_have_text("4")
    assert console_site.api.delete(f"{api}/flags").status_code == 200
    expect(page.locator('#parameters tr[data-key="flags"]')).to_have_class(re.compile(r"\bgone\b"))
    assert page.evaluate("window.notReloaded") is True

    # This page's stream is among who is listening.
    # (Replicas write their watchers down every MODELPLANE_LISTENERS_FLUSH_SECONDS, 1 s.)
    listeners = page.context.new_page()
    rows = listeners.locator("#listeners tbody tr")
    deadline = time.monotonic() + 10
    while True:
        listeners.goto(f"{console_site.url}/console/parameters/{cluster}/orders/listeners")
        if rows.count() or time.monotonic() > deadline:
            break
        listeners.wait_for_timeout(100)
    expect(rows.first).to_contain_text("events")
    listeners.close()
    console_site.screenshot(page, "parameters")

    page.reload()
    page.get_by_role("link", name="Publish several").click()
    page.get_by_label("Key of row 1").fill("limit")
    page.get_by_label("Value of row 1").fill("50")
    page.get_by_label("Key of row 2").fill("timeout")
    page.get_by_label("Change of row 2").select_option("delete")
    page.get_by_label("Key of row 3").fill("retries")
    page.get_by_label("Value of row 3").fill("3")
    page.get_by_role("button", name="Publish as one revision").click()
    expect(page.get_by_role("status").first).to_have_text("Published 3 change(s) as revision 6.")
    expect(_value(page, "retries")).to_have_text("3")

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="Revision 6")).to_be_visible()
    page.get_by_role("button", name="Revert to revision 4").click()
    expect(page.get_by_role("status").first).to_have_text("Reverted to revision 4 as revision 7.")
    expect(_value(page, "limit")).to_have_text("25")
    expect(_value(page, "timeout")).to_have_text("30s")

    page.get_by_role("link", name="Start a gray release").click()
    page.get_by_label("Client labels").fill("canary")
    page.get_by_label("Key of row 1").fill("limit")
    page.get_by_label("Value of row 1").fill("99")
    page.get_by_role("button", name="Start gray release").click()
    expect(page.get_by_role("status").first).to_contain_text("Candidate opened")
    gray = page.locator("#gray")
    expect(gray.locator(".client-label")).to_have_text("canary")
    expect(gray.locator("#candidate")).to_contain_text("99")
    canary = console_site.api.get(api, params={"clientLabel": "canary"}).json()
    assert {c["key"]: c["value"] for c in canary["configs"]}["limit"] == "99"
    console_site.screenshot(page, "parameters-gray")
    page.get_by_role("button", name="Promote to everyone").click()
    expect(page.get_by_role("status").first).to_have_text(
        "Candidate promoted: revision 8 for everyone."
    )
    expect(_value(page, "limit")).to_have_text("99")

    page.get_by_role("link", name="Delete timeout").click()
    page.get_by_role("button", name="Delete parameter").click()
    expect(page.get_by_role("status").first).to_have_text("Parameter timeout deleted.")
    expect(page.locator('#parameters tr[data-key="timeout"]')).to_have_count(0)
    page.get_by_role("link", name="All namespaces").click()
    expect(page.get_by_role("link", name=f"{cluster}/orders")).to_be_visible()
