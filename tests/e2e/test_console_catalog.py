"""The Catalog screen in a real browser: a group, its provider and a batch of models made,
the default model moved, a model edited in place, a runtime bound and unbound, a model and
the group deleted; a member's view. The test fails on a console error or a request elsewhere."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.console_browser import ConsoleSite


def test_a_group_its_provider_and_models_are_made_the_default_moved_and_all_deleted(
    console_site: ConsoleSite, console_page: Page
) -> None:
    page = console_page
    store = console_site.store
    console_site.sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("heading", name="Catalog", level=1)).to_be_visible()
    page.get_by_role("link", name="New group").click()
    page.get_by_label("Name").fill(f"Browser group {store}")
    page.get_by_label("Group id").fill("bad id")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_label("Group id")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Group id").fill(f"mt-browser-{store}")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text(f"Group Browser group {store} created.")

    page.get_by_role("link", name="New provider").click()
    page.get_by_label("Display name").fill("Browser provider")
    page.get_by_label("Provider name").fill("provider-browser")
    page.get_by_label("Provider type").select_option("Custom")
    page.get_by_label("Base URL").fill(console_site.upstream.base("ok"))
    page.get_by_label("Provider API key").fill("sk-browser-provider-secret-1")
    page.get_by_role("button", name="Add provider").click()
    expect(page.get_by_role("status")).to_have_text("Provider provider-browser added.")
    assert "sk-browser-provider-secret" not in page.content()

    page.get_by_role("link", name="Add models to provider-browser").click()
    page.get_by_label("Models").fill("browser-small\nnot a code\n")
    page.get_by_role("button", name="Add models").click()
    expect(page.get_by_label("Models")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("items.1.llmCode").first).to_be_visible()
    page.get_by_label("Models").fill("browser-small\nbrowser-large\n")
    page.get_by_label("Make this code the default").fill("browser-small")
    page.get_by_role("button", name="Add models").click()
    expect(page.get_by_role("status")).to_have_text("2 of 2 models added.")
    expect(page.locator("#default-model")).to_have_text("provider-browser/browser-small")
    page.get_by_role("button", name="Make provider-browser/browser-large the default").click()
    expect(page.get_by_role("status")).to_have_text(
        "Default model: provider-browser/browser-large."
    )
    expect(page.locator("#models tr.default-row")).to_contain_text("browser-large")
    console_site.screenshot(page, "catalog")

    page.get_by_role("link", name="Edit group").click()
    expect(page.get_by_label("Name")).to_have_value(f"Browser group {store}")
    page.get_by_label("Name").fill(f"Browser group {store} (edited)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=f"Browser group {store} (edited)")).to_be_visible()
    page.get_by_role("link", name="Edit provider-browser/browser-large").click()
    page.get_by_label("Name").fill("Browser large")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Model browser-large saved.")
    expect(page.locator("#models tr.default-row")).to_contain_text("Browser large")

    page.get_by_role("link", name="Runtimes").click()
    page.get_by_label("Runtime ids").fill(f"rt-browser-{store}")
    page.get_by_role("button", name="Bind", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"rt-browser-{store}: bound")
    page.get_by_role("button", name=f"Unbind rt-browser-{store}").click()
    expect(page.get_by_role("status")).to_have_text(f"rt-browser-{store}: unbound")
    expect(page.get_by_text("No runtimes are bound to this group.")).to_be_visible()
    page.get_by_role("link", name="Back to the group").click()

    page.get_by_role("link", name="Delete provider-browser/browser-large").click()
    page.get_by_role("button", name="Delete model").click()
    expect(page.get_by_role("status")).to_have_text("Model deleted.")
    expect(page.locator("#default-model")).to_have_text("none")
    page.get_by_role("link", name="Delete group").click()
    page.get_by_role("button", name="Delete group").click()
    expect(page.get_by_role("status")).to_have_text("Group deleted.")
    expect(page.get_by_role("link", name=f"Browser group {store} (edited)")).to_have_count(0)


def test_a_member_sees_only_its_own_groups(console_site: ConsoleSite, console_page: Page) -> None:
    made = console_site.api.post(
        "/v1/model-groups", json={"name": f"Admin's group {console_site.store}"}
    )
    assert made.status_code == 201, made.text
    group_id = made.json()["modelTemplateId"]
    _, key = console_site.new_member(f"catalog-member-{console_site.store}")
    page = console_page
    console_site.sign_in(page, key)
    page.goto(f"{console_site.url}/console/catalog")
    expect(page.get_by_text("No model groups")).to_be_visible()
    page.goto(f"{console_site.url}/console/catalog/{group_id}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    console_site.api.delete(f"/v1/model-groups/{group_id}")
