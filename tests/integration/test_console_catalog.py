"""The Catalog screen through httpx, on both stores: groups, providers and batches of
models made through the console's forms and seen through the API; the default model set
and cleared; runtimes bound and unbound; what a member cannot see or change; that every
change is audited as the console's; that refused forms answer 400 naming the field and
write nothing; that the groups list pages in SQL."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.conftest import ADMIN_TOKEN, new_member
from tests.support.console_client import csrf_of, post_form, signed_in

HOME = "/console/catalog"


async def _group(http: httpx.AsyncClient, name: str, group_id: str) -> str:
    made = await post_form(http, f"{HOME}/new", {"name": name, "modelTemplateId": group_id})
    assert made.status_code == 303, made.text
    assert made.headers["location"] == f"{HOME}/{group_id}"
    return group_id


async def _provider(http: httpx.AsyncClient, group_id: str, provider_name: str) -> str:
    made = await post_form(
        http,
        f"{HOME}/{group_id}/providers/new",
        {
            "name": provider_name,
            "providerName": provider_name,
            "providerType": "Custom",
            "baseUrl": "http://127.0.0.1:1/v1",
            "apiKey": "sk-console-provider-key-123456",
        },
    )
    assert made.status_code == 303, made.text
    group = await http.get(f"{HOME}/{group_id}")
    found = re.search(r'/console/catalog/providers/(mpt-[0-9a-f]+)/models"', group.text)
    assert found is not None, group.text
    return found.group(1)


async def test_a_group_its_provider_and_a_batch_of_models_are_made_and_the_default_moves(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        group_id = await _group(http, "Console group", "mt-console-1")
        provider_id = await _provider(http, group_id, "provider-acme")
        page = f"{HOME}/providers/{provider_id}/models"
        codes = await post_form(
            http,
            page,
            {"modelTemplateId": group_id, "items": "acme-small\nacme-large\n", "defaultCode": ""},
        )
        yaml_batch = await post_form(
            http,
            page,
            {
                "modelTemplateId": group_id,
                "items": "- llmCode: acme-xl\n  name: Acme XL\n- acme-small\n",
                "defaultCode": "acme-xl",
            },
        )
        shown = await http.get(f"{HOME}/{group_id}")
        made_default = await post_form(
            http,
            f"{HOME}/{group_id}/default",
            {"defaultModel": "provider-acme/acme-small"},
            form_page=f"{HOME}/{group_id}",
        )
        after = await http.get(f"{HOME}/{group_id}")
        cleared = await post_form(
            http, f"{HOME}/{group_id}/default", {"defaultModel": ""}, form_page=f"{HOME}/{group_id}"
        )
    assert codes.status_code == 303 and yaml_batch.status_code == 303
    assert "provider-acme" in shown.text and "sk-console-provider-key" not in shown.text
    assert 'id="default-model" class="mono">provider-acme/acme-xl<' in shown.text
    assert made_default.status_code == 303
    assert 'id="default-model" class="mono">provider-acme/acme-small<' in after.text
    assert cleared.status_code == 303
    api = (await client.get(f"/v1/model-groups/{group_id}")).json()
    assert api["modelCount"] == 3
    assert "defaultModel" not in api or api.get("defaultModel") in (None, "")
    templates = (await client.get("/v1/llm-templates", params={"modelTemplateId": group_id})).json()
    codes_seen = sorted(t["llmCode"] for t in templates["llmTemplates"])
    assert codes_seen == ["acme-large", "acme-small", "acme-xl"]
    assert not any(t["isDefaultModel"] for t in templates["llmTemplates"])


async def test_a_model_is_edited_in_place_keeping_its_id_code_and_default(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        group_id = await _group(http, "Edit group", "mt-console-edit")
        provider_id = await _provider(http, group_id, "provider-e")
        batch = "- llmCode: e-large\n  name: E\n  config: {temperature: 0.5}\n"
        await post_form(
            http,
            f"{HOME}/providers/{provider_id}/models",
            {"modelTemplateId": group_id, "items": batch, "defaultCode": "e-large"},
        )
        (before,) = (await client.get("/v1/llm-templates")).json()["llmTemplates"]
        edit = f"{HOME}/models/{before['llmTemplateId']}/edit"
        group_page = await http.get(f"{HOME}/{group_id}")
        form = await http.get(edit)
        saved = await post_form(
            http,
            edit,
            {
                "name": "E Large",
                "description": "the large one",
                "config": "cost: {input: 1.6, output: 6.4}\n",
            },
        )
        after_page = await http.get(f"{HOME}/{group_id}")
        bad_yaml = await post_form(http, edit, {"name": "x", "config": "a: [unclosed"})
        bad_cost = await post_form(http, edit, {"name": "x", "config": "cost: {input: 1}"})
        too_long = await post_form(http, edit, {"name": "n" * 129, "config": ""})
    assert f'href="{edit}"' in group_page.text
    assert form.status_code == 200 and "e-large" in form.text
    assert "&#34;temperature&#34;: 0.5" in form.text  # the config, as JSON
    assert saved.status_code == 303 and saved.headers["location"] == f"{HOME}/{group_id}"
    assert "E Large" in after_page.text
    (after,) = (await client.get("/v1/llm-templates")).json()["llmTemplates"]
    assert after == {
        **before,
        "name": "E Large",
        "description": "the large one",
        "config": {"cost": {"input": 1.6, "output": 6.4}},
    }
    assert (await client.get(f"/v1/model-groups/{group_id}")).json()["defaultModel"] == (
        "provider-e/e-large"
    )
    for refused, text in (
        (bad_yaml, "is not valid YAML"),
        (bad_cost, "config.cost.output"),
        (too_long, "at most 128"),
    ):
        assert refused.status_code == 400, refused.text
        assert text in refused.text
    assert re.search(r'<textarea id="f-config"[^>]*aria-invalid="true"', bad_yaml.text)
    assert re.search(r'<input id="f-name"[^>]*aria-invalid="true"', too_long.text)
    assert (await client.get("/v1/llm-templates")).json()["llmTemplates"] == [after]
    events = await client.get("/v1/audit-events", params={"resourceId": before["llmTemplateId"]})
    seen = [(e["action"], e["face"]) for e in events.json()["auditEvents"]]
    assert seen == [("update", "console"), ("create", "console")]


async def test_a_bad_batch_answers_400_naming_the_item_and_adds_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        group_id = await _group(http, "Batch group", "mt-console-2")
        provider_id = await _provider(http, group_id, "provider-b")
        page = f"{HOME}/providers/{provider_id}/models"
        base = {"modelTemplateId": group_id, "defaultCode": ""}
        bad_code = await post_form(http, page, {**base, "items": "good-one\nbad code here\n"})
        bad_yaml = await post_form(http, page, {**base, "items": "- llmCode: [unclosed\n"})
        bad_key = await post_form(http, page, {**base, "items": "- llmCode: x\n  colour: red\n"})
        bad_default = await post_form(http, page, {**base, "items": "a\nb", "defaultCode": "c"})
        empty = await post_form(http, page, {**base, "items": ""})
    assert bad_code.status_code == 400 and "items.1.llmCode" in bad_code.text
    assert 'id="f-items"' in bad_code.text and "good-one" in bad_code.text  # kept
    assert bad_yaml.status_code == 400 and "is not valid YAML" in bad_yaml.text
    assert bad_key.status_code == 400 and "items.0.colour" in bad_key.text
    assert bad_default.status_code == 400
    assert re.search(r'id="f-defaultCode"[^>]*aria-invalid="true"', bad_default.text)
    assert empty.status_code == 400 and "at least one item" in empty.text
    listed = (await client.get("/v1/llm-templates", params={"modelTemplateId": group_id})).json()
    assert listed["llmTemplates"] == []


async def test_refused_group_and_provider_forms_name_the_field_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        no_name = await post_form(http, f"{HOME}/new", {"name": "", "modelTemplateId": "bad id"})
        await _group(http, "Taken", "mt-taken")
        taken = await post_form(
            http, f"{HOME}/new", {"name": "Again", "modelTemplateId": "mt-taken"}
        )
        new_provider = f"{HOME}/mt-taken/providers/new"
        base = {"name": "P", "providerType": "Custom"}
        bad_url = await post_form(
            http, new_provider, {**base, "providerName": "provider-p", "baseUrl": "ftp://x"}
        )
        bad_name = await post_form(http, new_provider, {**base, "providerName": "no-prefix"})
    assert no_name.status_code == 400
    invalid = set(re.findall(r'<input id="f-(\w+)"[^>]*aria-invalid="true"', no_name.text))
    assert "modelTemplateId" in invalid
    assert taken.status_code == 409 and "is taken" in taken.text
    for refused, field in ((bad_url, "baseUrl"), (bad_name, "providerName")):
        assert refused.status_code == 400
        assert re.search(rf'<input id="f-{field}"[^>]*aria-invalid="true"', refused.text)
    groups = (await client.get("/v1/model-groups")).json()["modelGroups"]
    assert [g["modelTemplateId"] for g in groups] == ["mt-taken"]
    providers = (await client.get("/v1/provider-templates")).json()
    assert providers["providerTemplates"] == []


async def test_runtimes_are_bound_and_unbound_and_every_change_is_audited_as_the_console(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, ADMIN_TOKEN) as http:
        group_id = await _group(http, "Runtime group", "mt-console-rt")
        runtimes = f"{HOME}/{group_id}/runtimes"
        bound = await post_form(http, runtimes, {"runtimeType": "", "runtimeIds": "rt-1\nrt-2"})
        shown = await http.get(runtimes)
        bad = await post_form(
            http, runtimes, {"runtimeType": "", "runtimeIds": "no spaces allowed"}
        )
        unbound = await http.post(
            f"{runtimes}/remove",
            data={"csrf": csrf_of(shown), "runtimeType": "Default", "runtimeId": "rt-1"},
        )
        edited = await post_form(
            http, f"{HOME}/{group_id}/edit", {"name": "Runtime group 2", "description": "d"}
        )
        deleted = await post_form(http, f"{HOME}/{group_id}/delete", {"modelTemplateId": group_id})
    assert bound.status_code == 303 and "rt-1" in shown.text and "rt-2" in shown.text
    assert bad.status_code == 400 and "runtimeIds.0" in bad.text
    assert unbound.status_code == 303 and edited.status_code == 303
    assert deleted.status_code == 303 and deleted.headers["location"] == HOME
    events = (await client.get("/v1/audit-events", params={"resourceId": group_id})).json()
    seen = [(e["action"], e["face"]) for e in events["auditEvents"]]
    assert seen == [("delete", "console"), ("update", "console"), ("create", "console")]
    bindings = (await client.get("/v1/audit-events", params={"resourceId": "Default/rt-1"})).json()
    assert [(e["action"], e["face"]) for e in bindings["auditEvents"]] == [
        ("delete", "console"),
        ("create", "console"),
    ]


async def test_a_member_cannot_see_or_change_another_principals_group(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await client.post("/v1/model-groups", json={"name": "Admins group"})
    assert created.status_code == 201, created.text
    admins = created.json()["modelTemplateId"]
    provider = await client.post(
        "/v1/provider-templates",
        json={
            "modelTemplateId": admins,
            "name": "A",
            "providerName": "provider-a",
            "providerType": "Custom",
        },
    )
    made = await client.post(
        "/v1/llm-templates:batchCreate",
        json={
            "providerTemplateId": provider.json()["providerTemplateId"],
            "items": [{"llmCode": "a", "name": "A"}],
        },
    )
    (model_id,) = made.json()["llmTemplateIds"]
    _, token = await new_member(client, "catalog-member")
    async with signed_in(app, token) as http:
        mine = await _group(http, "Members group", "mt-members")
        listed = await http.get(HOME)
        csrf = csrf_of(listed)
        other = await http.get(f"{HOME}/{admins}")
        runtimes = await http.get(f"{HOME}/{admins}/runtimes")
        delete = await http.post(f"{HOME}/{admins}/delete", data={"csrf": csrf})
        default = await http.post(
            f"{HOME}/{admins}/default", data={"csrf": csrf, "defaultModel": ""}
        )
        owner = await post_form(http, f"{HOME}/new", {"name": "x", "ownerId": "someone"})
        edit_form = await http.get(f"{HOME}/models/{model_id}/edit")
        edit = await http.post(
            f"{HOME}/models/{model_id}/edit", data={"csrf": csrf, "name": "mine", "config": ""}
        )
    assert (edit_form.status_code, edit.status_code) == (404, 404)
    assert (await client.get(f"/v1/llm-templates/{model_id}")).json()["name"] == "A"
    assert "Members group" in listed.text and "Admins group" not in listed.text
    assert mine == "mt-members"
    assert (other.status_code, runtimes.status_code, delete.status_code) == (404, 404, 404)
    assert default.status_code == 404
    assert 'id="f-ownerId"' not in owner.text  # a member is not offered another owner
    assert (await client.get(f"/v1/model-groups/{admins}")).status_code == 200


async def test_the_groups_list_pages_in_sql_with_its_search_in_the_links(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(12):
        made = await client.post("/v1/model-groups", json={"name": f"paged group {n:02d}"})
        assert made.status_code == 201
    await client.post("/v1/model-groups", json={"name": "other"})
    async with signed_in(app, ADMIN_TOKEN) as http:
        first = await http.get(HOME, params={"q": "PAGED", "size": "5"})
        third = await http.get(HOME, params={"q": "paged", "size": "5", "page": "3"})
    rows = re.findall(r'<a href="/console/catalog/mt-[0-9a-f]+">([^<]+)</a>', first.text)
    assert rows == [f"paged group {n:02d}" for n in range(5)]  # oldest first
    assert "1\u20135 of 12" in first.text
    assert 'href="/console/catalog?q=PAGED&amp;page=2&amp;size=5"' in first.text
    rows = re.findall(r'<a href="/console/catalog/mt-[0-9a-f]+">([^<]+)</a>', third.text)
    assert rows == ["paged group 10", "paged group 11"]
