"""The Gateway screen in a real browser: real calls through the gateway to the scripted
upstream, drawn as SVG charts per day and per week, by model and by key, with their data
tables; the recent calls with status and latency. The test fails on a console error or a
request elsewhere."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.support.console_browser import ConsoleSite


def _call(console_site: ConsoleSite, model: str) -> int:
    asked = console_site.api.post(
        "/openai/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
    )
    return asked.status_code


def test_gateway_calls_are_charted_and_listed(
    console_site: ConsoleSite, console_page: Page
) -> None:
    model = f"charted-{console_site.store}"
    created = console_site.api.post(
        "/v1/llms",
        json={
            "displayName": model,
            "providerType": "CUSTOM_OPENAI_COMPATIBLE",
            "endpointUrl": console_site.upstream.base("ok"),
            "modelIdentifier": model,
            "clientConfig": {"cost": {"input": 2, "output": 10}},
        },
    )
    assert created.status_code == 201, created.text
    broken = console_site.api.post(
        "/v1/llms",
        json={
            "displayName": f"refusing-{console_site.store}",
            "providerType": "CUSTOM_OPENAI_COMPATIBLE",
            "endpointUrl": console_site.upstream.base("status-400"),
            "modelIdentifier": f"refusing-{console_site.store}",
        },
    )
    assert broken.status_code == 201, broken.text
    made = [created.json()["llm"]["llmId"], broken.json()["llm"]["llmId"]]
    assert [_call(console_site, model) for _ in range(3)] == [200, 200, 200]
    assert _call(console_site, f"refusing-{console_site.store}") == 400

    page = console_page
    console_site.sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Gateway").click()
    expect(page.get_by_role("heading", name="Gateway", level=1)).to_be_visible()
    # Records are written in batches (MODELPLANE_USAGE_FLUSH_SECONDS, 1 s): look again
    # until they are.
    totals = page.locator("#usage-totals")
    deadline = time.monotonic() + 15
    while not (totals.count() and model in totals.inner_text()) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        page.reload()
    expect(totals.get_by_role("rowheader", name=model)).to_be_visible()
    chart = page.get_by_role("img", name="Gateway calls by model")
    expect(chart).to_be_visible()
    expect(page.locator("#chart-calls rect.bar").first).to_be_visible()
    expect(page.get_by_role("img", name="Cost by model")).to_be_visible()
    page.get_by_text("Gateway calls by model as a table").click()
    expect(page.locator("#chart-calls-data")).to_contain_text(model)
    console_site.screenshot(page, "gateway")

    page.get_by_label("Period", exact=True).select_option("week")
    page.get_by_label("By", exact=True).select_option("key")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Gateway calls by API key")).to_be_visible()
    expect(page.locator("#chart-calls-data tbody tr")).to_have_count(12)

    page.get_by_role("link", name="Recent calls").click()
    expect(page.get_by_role("heading", name="Recent gateway calls")).to_be_visible()
    rows = page.locator("#calls tbody tr")
    expect(rows.filter(has_text=model).first).to_contain_text("200")
    expect(rows.filter(has_text=model).first).to_contain_text(" ms")
    page.get_by_label("Status", exact=True).fill("4xx")
    page.get_by_role("button", name="Filter").click()
    expect(rows.first).to_contain_text("400")
    expect(rows.first).to_contain_text(f"refusing-{console_site.store}")
    expect(rows.filter(has_text=model)).to_have_count(0)
    console_site.screenshot(page, "gateway-calls")
    for llm_id in made:
        console_site.api.delete(f"/v1/llms/{llm_id}")
