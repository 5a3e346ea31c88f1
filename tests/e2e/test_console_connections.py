"""The Connections screen in a real browser: create, see, edit, test, delete; filters and
paging; a member's view. The test fails on a console error or a request elsewhere."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.console_browser import ConsoleSite


def test_a_connection_is_created_edited_tested_and_deleted(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    console_site.sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    expect(page.get_by_role("heading", name="Connections", level=1)).to_be_visible()
    page.get_by_role("link", name="New connection").click()

    page.get_by_label("Name").fill("Browser mini")
    page.get_by_label("Model id").fill("gpt-4o-mini")
    page.get_by_label("Labels").fill("no equals sign")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_label("Labels")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("line 1: must be key=value").first).to_be_visible()

    page.get_by_label("Labels").fill("team=search")
    page.get_by_label("Provider", exact=True).select_option("CUSTOM_OPENAI_COMPATIBLE")
    page.get_by_label("Endpoint URL").fill(console_site.upstream.base("ok"))
    page.get_by_label("Provider API key").fill("sk-browser-secret-1234")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Connection Browser mini created.")
    expect(page.get_by_role("heading", name="Browser mini", level=1)).to_be_visible()
    assert "sk-browser-secret" not in page.content()
    console_site.screenshot(page, "connection")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Name")).to_have_value("Browser mini")
    expect(page.get_by_label("Provider API key")).to_have_value("")
    page.get_by_label("Name").fill("Browser mini (edited)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Connection Browser mini (edited) saved.")

    page.get_by_role("button", name="Test").click()
    expect(page.locator("#test-result")).to_contain_text("Works")
    expect(page.locator("#test-result")).to_contain_text("answered 200")
    page.get_by_role("link", name="Back to the connection").click()

    page.get_by_role("link", name="Connections", exact=True).click()
    expect(page.get_by_role("link", name="Browser mini (edited)")).to_be_visible()
    console_site.screenshot(page, "connections")
    page.get_by_role("link", name="Browser mini (edited)").click()
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete Browser mini (edited)?")).to_be_visible()
    page.get_by_role("button", name="Delete connection").click()
    expect(page.get_by_role("status")).to_have_text("Connection deleted.")
    expect(page.get_by_role("link", name="Browser mini (edited)")).to_have_count(0)


def test_a_failing_upstream_shows_its_error_on_the_test_page(
    console_site: ConsoleSite, console_page: Page
) -> None:
    created = console_site.api.post(
        "/v1/llms",
        json={
            "displayName": "Broken upstream",
            "providerType": "CUSTOM_OPENAI_COMPATIBLE",
            "endpointUrl": console_site.upstream.base("status-400"),
            "modelIdentifier": "broken-model",
        },
    )
    assert created.status_code == 201, created.text
    llm_id = created.json()["llm"]["llmId"]
    page = console_page
    console_site.sign_in(page)
    page.goto(f"{console_site.url}/console/connections/{llm_id}")
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#test-result")).to_contain_text("Failed")
    expect(page.locator("#test-error")).to_be_visible()
    console_site.api.delete(f"/v1/llms/{llm_id}")


def test_the_list_filters_and_pages_keeping_the_filters_in_the_links(
    console_site: ConsoleSite, console_page: Page
) -> None:
    made = []
    for n in range(25):
        created = console_site.api.post(
            "/v1/llms",
            json={
                "displayName": f"Paged {n:02d}",
                "providerType": "OLLAMA",
                "endpointUrl": f"http://127.0.0.1:1/paged-{n}/v1",
                "modelIdentifier": f"paged-model-{n}",
            },
        )
        assert created.status_code == 201, created.text
        made.append(created.json()["llm"]["llmId"])
    page = console_page
    console_site.sign_in(page)
    page.goto(f"{console_site.url}/console/connections")
    page.get_by_label("Search").fill("paged")
    page.get_by_label("Provider", exact=True).select_option("OLLAMA")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#connections tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator(".pager")).to_contain_text("20 of 25")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"q=paged.*providerType=OLLAMA.*page=2"))
    expect(rows).to_have_count(5)
    expect(page.get_by_role("link", name="Paged 00")).to_be_visible()
    page.get_by_label("Per page").select_option("50")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(25)
    for llm_id in made:
        console_site.api.delete(f"/v1/llms/{llm_id}")


def test_a_member_sees_only_its_own_connections(
    console_site: ConsoleSite, console_page: Page
) -> None:
    owner = console_site.api.post(
        "/v1/llms",
        json={
            "displayName": "Admin's private",
            "providerType": "OLLAMA",
            "endpointUrl": "http://127.0.0.1:1/admins/v1",
            "modelIdentifier": "admins-model",
        },
    )
    assert owner.status_code == 201, owner.text
    llm_id = owner.json()["llm"]["llmId"]
    _, key = console_site.new_member(f"browser-member-{console_site.store}")
    page = console_page
    console_site.sign_in(page, key)
    page.goto(f"{console_site.url}/console/connections")
    expect(page.get_by_text("No connections")).to_be_visible()
    page.goto(f"{console_site.url}/console/connections/{llm_id}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    console_site.api.delete(f"/v1/llms/{llm_id}")
