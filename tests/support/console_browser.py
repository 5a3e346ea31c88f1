"""Fixtures of the console's browser tests (tests/e2e/test_console_*.py), a pytest plugin
registered by tests/conftest.py.

- `console_site`: one real `modelplane serve` per store (SQLite, PostgreSQL) for the whole
  session, with our own scripted LLM upstream beside it; its base URL, the admin's key, an
  httpx client of the API as the admin, `sign_in(page)` and `screenshot(page, name)`.
- `console_page`: a fresh browser context and page (Debian's Chromium, one browser per
  worker, started by Playwright through `executable_path`; nothing downloaded). The test
  FAILS on any console error or uncaught error of the page and on any request to another
  origin.

The modules using them belong in SHARED_SERVER_GROUPS under CONSOLE (xdist_groups.py), so
that with -n one worker runs them all and each server starts once.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.support.databases import database
from tests.support.server import Server, instance_env
from tests.support.upstreams import FixtureUpstream, fixture_upstream

CHROMIUM = os.environ.get("MODELPLANE_TEST_CHROMIUM", "/usr/bin/chromium")
ADMIN_KEY = "mp_console_admin_key_0123456789abcdef"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
VIEWPORT: ViewportSize = {"width": 1280, "height": 820}
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class ConsoleSite:
    """A served modelplane and what the browser tests need of it."""

    url: str
    store: str
    upstream: FixtureUpstream
    api: httpx.Client
    admin_key: str = ADMIN_KEY

    def sign_in(self, page: Page, key: str | None = None) -> None:
        """Sign `page` in with `key` (the admin's by default)."""
        page.goto(f"{self.url}/console/sign-in")
        page.get_by_label("API key").fill(key or self.admin_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    def screenshot(self, page: Page, name: str) -> None:
        """Check `page` (every control named, no sideways scrolling from a laptop to a wide
        screen), then save it as docs/console/NAME-light.png and NAME-dark.png (from the
        SQLite run only: one picture per screen)."""
        assert_every_control_is_named(page)
        assert_it_fits_from_a_laptop_to_a_wide_screen(page)
        if self.store != "sqlite":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}.png"), full_page=True)
        page.emulate_media(color_scheme="light")

    def new_member(self, name: str) -> tuple[str, str]:
        """A member principal made through the API, and its API key."""
        created = self.api.post("/v1/principals", json={"name": name, "role": "member"})
        assert created.status_code == 201, created.text
        principal_id = created.json()["principalId"]
        issued = self.api.post(f"/v1/principals/{principal_id}/api-keys", json={})
        assert issued.status_code == 201, issued.text
        return principal_id, issued.json()["token"]


# The visible controls of a page without an accessible name: an input, select or text area
# without a <label>, aria-label or aria-labelledby; a button or link without text, an
# image's alt, aria-label or title.
_UNNAMED_CONTROLS = """() => {
  const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const named = (e) => {
    if ((e.getAttribute("aria-label") || "").trim()) return true;
    const by = e.getAttribute("aria-labelledby");
    if (by && by.split(/\\s+/).some((id) => {
      const t = document.getElementById(id); return t && t.textContent.trim();
    })) return true;
    if (e.matches("input, select, textarea")) {
      return (e.labels && [...e.labels].some((l) => l.textContent.trim())) ||
        !!(e.getAttribute("title") || "").trim() ||
        (e.matches("input[type=submit], input[type=button]") && !!e.value.trim());
    }
    if (e.textContent.trim() || (e.getAttribute("title") || "").trim()) return true;
    return [...e.querySelectorAll("img[alt], svg title")].some(
      (i) => (i.getAttribute("alt") || i.textContent || "").trim());
  };
  return [...document.querySelectorAll(
      "input:not([type=hidden]), select, textarea, button, a[href], [role=button], summary")]
    .filter((e) => visible(e) && !named(e))
    .map((e) => e.outerHTML.slice(0, 160));
}"""
_WIDTHS = (1024, 1920)  # a small laptop and a wide screen
# The innermost elements that reach beyond the page's right edge.
_WIDER_THAN_THE_PAGE = """() => {
  const edge = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > edge + 0.5)
    .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > edge + 0.5))
    .slice(0, 5)
    .map((e) => e.outerHTML.slice(0, 120));
}"""


def assert_every_control_is_named(page: Page) -> None:
    """Every visible control of `page` has an accessible name (issue 18, point 4)."""
    unnamed = page.evaluate(_UNNAMED_CONTROLS)
    assert unnamed == [], f"controls without an accessible name on {page.url}: {unnamed}"


def assert_it_fits_from_a_laptop_to_a_wide_screen(page: Page) -> None:
    """At each width of `_WIDTHS`, the page scrolls only down (wide tables scroll inside
    their own box)."""
    before = page.viewport_size
    try:
        for width in _WIDTHS:
            page.set_viewport_size({"width": width, "height": 820})
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            wide = page.evaluate(_WIDER_THAN_THE_PAGE) if overflow > 0 else []
            assert overflow <= 0, (
                f"{page.url} scrolls sideways by {overflow}px at {width}px: {wide}"
            )
    finally:
        if before is not None:
            page.set_viewport_size(before)


@pytest.fixture(scope="session", params=STORES)
def console_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    """`modelplane serve` on each store, for the whole session (see the module's doc)."""
    directory = tmp_path_factory.mktemp(f"console-{request.param}")
    with (
        database(request.param, directory) as url,
        fixture_upstream() as upstream,
        Server(cwd=directory, env=instance_env(url, ADMIN_KEY)) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
        ) as api,
    ):
        yield ConsoleSite(url=server.url, store=request.param, upstream=upstream, api=api)


@pytest.fixture(scope="module")
def console_browser() -> Iterator[Browser]:
    """Debian's Chromium, started by Playwright (no browser download) once per module: the
    sync API runs an event loop in this thread while it is open, and the asyncio tests
    that the same worker runs after the module need that thread's loop closed."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Problems:
    """What went wrong in the page while the test ran.

    A page the console answers with an error status on purpose (a refused form: 400, a
    missing connection: 404) makes Chromium log "Failed to load resource" for the
    document; those documents are what the test looks at, so that line is not counted
    for them. The same line for anything else the page loads (a script, a style, a
    fetch) fails the test.
    """

    found: list[tuple[str, str | None]] = field(default_factory=list)
    answered_documents: set[str] = field(default_factory=set)

    def report(self) -> list[str]:
        """The problems that count."""
        return [
            text
            for text, url in self.found
            if not (
                text.startswith("console error: Failed to load resource")
                and url in self.answered_documents
            )
        ]


@pytest.fixture
def console_page(console_site: ConsoleSite, console_browser: Browser) -> Iterator[Page]:
    """A new context and page; the test fails on any console error, uncaught error or
    request to another origin."""
    origin = urlsplit(console_site.url)
    problems = Problems()
    context = console_browser.new_context(viewport=VIEWPORT, base_url=console_site.url)
    context.set_default_timeout(15_000)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            url = message.location.get("url")
            problems.found.append((f"console error: {message.text} at {url}", url))

    def on_request(request: Request) -> None:
        asked = urlsplit(request.url)
        if asked.scheme in ("data", "about", "blob"):
            return
        if (asked.scheme, asked.netloc) != (origin.scheme, origin.netloc):
            problems.found.append((f"request to another origin: {request.url}", None))

    def on_response(response: Response) -> None:
        if response.request.is_navigation_request() and response.status >= 400:
            problems.answered_documents.add(response.url)

    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.found.append((f"page error: {error}", None)))
    page.on("request", on_request)
    page.on("response", on_response)
    try:
        yield page
    finally:
        context.close()
    reported = problems.report()
    assert not reported, "\n".join(reported)
