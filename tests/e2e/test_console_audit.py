"""The Audit screen in a real browser: a change made in the console is in the log as the
console's, found through the filters (face, action, resource type, local dates), its
details opened from the keyboard; paging to older entries. The test fails on a console
error or a request elsewhere."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from tests.support.console_browser import ConsoleSite


def test_a_console_change_is_found_in_the_log_through_its_filters_with_its_details(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    name = f"audited-in-browser-{console_site.store}"
    console_site.sign_in(page)
    page.goto(f"{console_site.url}/console/keys/new")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create principal").click()
    expect(page.get_by_role("status")).to_have_text(f"Principal {name} created.")
    principal_id = page.url.rsplit("/", 1)[1]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit", level=1)).to_be_visible()
    zone = page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone")
    expect(page.get_by_label("Time zone")).to_have_value(zone)
    today = page.evaluate("() => new Date().toLocaleDateString('sv')")  # YYYY-MM-DD, local
    page.get_by_label("Face").select_option("console")
    page.get_by_label("Action").select_option("create")
    page.get_by_label("Resource type").select_option("principal")
    page.get_by_label("From (date)").fill(today)
    page.get_by_label("To (date, included)").fill(today)
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-events tbody tr")
    first = rows.first
    expect(first).to_contain_text(principal_id)
    expect(first).to_contain_text("console")
    expect(page.get_by_label("Face")).to_have_value("console")  # the filters stay

    summary = first.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(first.locator("pre")).to_contain_text(f'"name": "{name}"')
    console_site.screenshot(page, "audit")

    yesterday = (dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()
    page.get_by_label("From (date)").fill(yesterday)
    page.get_by_label("To (date, included)").fill(yesterday)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No changes match these filters.")).to_be_visible()
    page.get_by_role("link", name="Clear").click()
    expect(rows.first).to_be_visible()
    console_site.api.delete(f"/v1/principals/{principal_id}")


def test_the_log_pages_to_older_entries_and_back_to_the_newest(
    console_site: ConsoleSite, console_page: Page
) -> None:
    made = []
    for n in range(22):
        created = console_site.api.post(
            "/v1/principals",
            json={"name": f"audit-paged-{console_site.store}-{n:02d}", "role": "member"},
        )
        assert created.status_code == 201, created.text
        made.append(created.json()["principalId"])
    page = console_page
    console_site.sign_in(page)
    page.goto(f"{console_site.url}/console/audit")
    page.get_by_label("Resource type").select_option("principal")
    page.get_by_label("Action").select_option("create")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-events tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text(made[-1])
    page.get_by_role("link", name="Older").click()
    expect(rows.first).to_contain_text(made[1])
    page.get_by_role("link", name="Newest").click()
    expect(rows.first).to_contain_text(made[-1])
    page.get_by_label("Per page").select_option("50")
    page.get_by_role("button", name="Apply").click()
    expect(rows.nth(21)).to_contain_text(made[0])
    for principal_id in made:
        console_site.api.delete(f"/v1/principals/{principal_id}")
