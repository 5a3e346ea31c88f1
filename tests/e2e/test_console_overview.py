"""The console in a real browser: signing in and out, the layout, the overview.

Debian's Chromium through Playwright (tests/support/console_browser.py); every test fails
on a console error or a request to another origin.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.console_browser import ConsoleSite

NAV_LINKS = [
    "Overview",
    "Connections",
    "Catalog",
    "Prompts",
    "Parameters",
    "Gateway",
    "Keys",
    "Audit",
]


def test_signing_in_leads_to_the_overview_with_every_navigation_link(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    page.goto(f"{console_site.url}/")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=%2Fconsole$"))
    console_site.screenshot(page, "sign-in")
    console_site.sign_in(page)
    expect(page).to_have_url(f"{console_site.url}/console")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(NAV_LINKS)
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.locator(".principal")).to_contain_text("Signed in as bootstrap-admin")
    # Other modules share this server and issue keys of their own: at least the admin's.
    expect(page.get_by_role("link", name=re.compile(r"^[1-9]\d* Active API keys$"))).to_be_visible()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Recent changes")).to_be_visible()
    console_site.screenshot(page, "overview")


def test_a_wrong_key_is_refused_in_the_form_without_echoing_it(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    page.goto(f"{console_site.url}/console/sign-in")
    page.get_by_label("API key").fill("mp_not_a_key_of_this_instance_000000")
    with page.expect_response(re.compile(r"/console/sign-in$")) as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("key: the API key is not valid")
    assert "mp_not_a_key" not in page.content()
    expect(page.get_by_label("API key")).to_be_focused()


def test_keyboard_reaches_the_skip_link_and_the_content(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    console_site.sign_in(page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_the_theme_toggle_switches_to_dark_without_a_script_of_the_page(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    console_site.sign_in(page)
    page.get_by_role("button", name=re.compile("^Theme: auto")).click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 19, 24)"
    page.get_by_role("button", name=re.compile("^Theme: dark")).click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name=re.compile("^Theme: light")).click()
    expect(page.locator("html")).to_have_attribute("data-theme", "auto")


def test_signing_out_ends_the_session_and_its_cookie_no_longer_opens_a_page(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    console_site.sign_in(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "modelplane_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert page.evaluate("document.cookie") == ""  # nothing the page's scripts can read
    assert page.evaluate("window.localStorage.length + window.sessionStorage.length") == 0
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    # The old cookie again: the server forgot it.
    page.context.add_cookies(
        [{"name": cookie["name"], "value": cookie["value"], "url": f"{console_site.url}/console"}]
    )
    page.goto(f"{console_site.url}/console/connections")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
