"""The Prompts screen in a real browser: a workspace and a template written in the editor
(its variables listed as they are typed), a second version, production promoted and
rolled back, the diff, a preview, a playground call through the gateway, and the
template deleted. The test fails on a console error or a request elsewhere."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.console_browser import ConsoleSite


def test_a_template_is_written_versioned_labelled_diffed_played_and_deleted(
    console_site: ConsoleSite, console_page: Page
) -> None:
    store = console_site.store
    llm = console_site.api.post(
        "/v1/llms",
        json={
            "displayName": f"Prompt playground {store}",
            "providerType": "CUSTOM_OPENAI_COMPATIBLE",
            "endpointUrl": console_site.upstream.base("ok"),
            "modelIdentifier": f"prompt-play-{store}",
        },
    )
    assert llm.status_code == 201, llm.text
    llm_id = llm.json()["llm"]["llmId"]
    page = console_page
    console_site.sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prompts").click()
    expect(page.get_by_role("heading", name="Prompts", level=1)).to_be_visible()
    page.get_by_label("Workspace name").fill(f"Browser prompts {store}")
    page.get_by_label("Workspace id").fill(f"browser-{store}")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("status")).to_have_text(f"Workspace Browser prompts {store} created.")

    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill("welcome")
    page.get_by_label("Text").fill("Hello ${name}, meet ${friend}.\nBye $${literal}.")
    variables = page.locator("#variables-found li")
    expect(variables).to_have_text(["name", "friend"])  # as typed, before saving
    page.get_by_label("Config (JSON)").fill("{not json")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_label("Config (JSON)")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Config (JSON)").fill("")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Template welcome created (version 1).")
    expect(page.locator("#template-variables")).to_contain_text("name")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Text").fill("Hi ${name}, meet ${friend} and ${third}.\nBye $${literal}.")
    expect(variables).to_have_text(["name", "friend", "third"])
    page.get_by_role("button", name="Save a new version").click()
    expect(page.get_by_role("status")).to_have_text("Template welcome saved (version 2).")

    page.get_by_role("button", name="Point production at version 2").click()
    expect(page.get_by_role("status")).to_have_text("Label production now points at version 2.")
    page.get_by_role("button", name="Point production at version 1").click()
    expect(page.get_by_role("status")).to_have_text(
        "Label production moved from version 2 to version 1."
    )
    expect(page.locator("#labels")).to_contain_text("production")
    console_site.screenshot(page, "prompt")

    page.get_by_role("link", name="Diff version 1 with the current").click()
    expect(page.locator("#diff .diff-remove")).to_have_text(["-Hello ${name}, meet ${friend}."])
    expect(page.locator("#diff .diff-add")).to_have_text(
        ["+Hi ${name}, meet ${friend} and ${third}."]
    )
    console_site.screenshot(page, "prompt-diff")
    page.get_by_role("link", name="Back to the template").click()

    page.get_by_role("link", name="Preview and playground").click()
    page.get_by_label("name", exact=True).fill("Ada")
    page.get_by_label("friend", exact=True).fill("Grace")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#rendered")).to_contain_text("Hi Ada, meet Grace and ${third}.")
    expect(page.locator("#rendered-missing")).to_contain_text("third")
    page.get_by_label("Model").fill(llm_id)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("missing values for third")
    page.get_by_label("third", exact=True).fill("Linus")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#play-result")).to_contain_text("Answered")
    expect(page.locator("#play-answer")).to_have_text("Hello from the fixture upstream.")
    expect(page.locator("#play-sent")).to_contain_text("Hi Ada, meet Grace and Linus.")

    page.goto(f"{console_site.url}/console/prompts/browser-{store}")
    page.get_by_role("link", name="welcome").click()
    page.get_by_role("link", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete template").click()
    expect(page.get_by_role("status")).to_have_text("Template deleted.")
    expect(page.get_by_text("No templates")).to_be_visible()
    console_site.api.delete(f"/v1/llms/{llm_id}")
