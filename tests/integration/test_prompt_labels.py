"""Labels of prompt templates, on SQLite and PostgreSQL: a label points at one version;
reads and renders take `label=`; promoting and rolling back are one call each; `production`
is protected; every move is audited and kept in the template's label history."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import new_member
from tests.integration.test_configs_api import acting_as
from tests.integration.test_prompts_api import fields, make_template, make_workspace


async def three_versions(client: httpx.AsyncClient, ws: str, name: str = "greeting") -> str:
    """A template with versions 1..3 ("v1 ${who}", "v2 ${who}", "v3 ${who}"); its url."""
    created = await make_template(client, ws, name, "v1 ${who}")
    url = f"/v1/workspaces/{ws}/prompt-templates/{name}"
    for n in (2, 3):
        assert (await client.patch(url, json={"content": f"v{n} ${{who}}"})).status_code == 200
    assert created["version"] == 1
    return url


async def promote(client: httpx.AsyncClient, url: str, label: str, version: int) -> dict[str, Any]:
    moved = await client.put(f"{url}/labels/{label}", json={"version": version})
    assert moved.status_code == 200, moved.text
    body: dict[str, Any] = moved.json()
    return body


async def test_a_label_points_at_a_version_that_reads_and_renders_follow(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    url = await three_versions(client, ws)
    first = await promote(client, url, "production", 2)
    assert first["label"] == "production" and first["version"] == 2
    assert first["previousVersion"] is None and first["moved"] is True

    got = await client.get(url, params={"label": "production"})
    assert got.status_code == 200, got.text
    assert (got.json()["version"], got.json()["content"]) == (2, "v2 ${who}")
    assert got.json()["labels"] == ["production"]
    rendered = await client.post(
        f"{url}:render", json={"label": "production", "variables": {"who": "Ada"}}
    )
    assert rendered.status_code == 200, rendered.text
    assert (rendered.json()["text"], rendered.json()["version"]) == ("v2 Ada", 2)
    # The current version is `latest`; labels show on every read of a version.
    current = (await client.get(url, params={"label": "latest"})).json()
    assert (current["version"], current["labels"]) == (3, ["latest"])
    versions = (await client.get(f"{url}/versions")).json()["versions"]
    assert [v["labels"] for v in versions] == [[], ["production"], ["latest"]]

    # A rollback is moving it back; a no-op move writes nothing.
    back = await promote(client, url, "production", 1)
    assert (back["version"], back["previousVersion"], back["moved"]) == (1, 2, True)
    again = await promote(client, url, "production", 1)
    assert again["moved"] is False
    assert (await client.get(url, params={"label": "production"})).json()["content"] == "v1 ${who}"
    labels = (await client.get(f"{url}/labels")).json()["labels"]
    assert [(x["label"], x["version"]) for x in labels] == [("latest", 3), ("production", 1)]

    # Updating the template moves `latest` only.
    assert (await client.patch(url, json={"content": "v4 ${who}"})).status_code == 200
    after = (await client.get(f"{url}/labels")).json()["labels"]
    assert [(x["label"], x["version"]) for x in after] == [("latest", 4), ("production", 1)]


async def test_every_move_is_kept_in_the_history_and_the_audit_log(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    url = await three_versions(client, ws)
    template_id = (await client.get(url)).json()["promptTemplateId"]
    await promote(client, url, "staging", 3)
    await promote(client, url, "production", 2)
    await promote(client, url, "production", 3)
    await promote(client, url, "production", 3)  # no move: not kept
    removed = await client.delete(f"{url}/labels/staging")
    assert removed.status_code == 200, removed.text
    assert (removed.json()["label"], removed.json()["version"]) == ("staging", 3)

    history = await client.get(f"{url}/label-history")
    assert history.status_code == 200, history.text
    moves = [(m["label"], m["fromVersion"], m["toVersion"]) for m in history.json()["moves"]]
    assert moves == [
        ("staging", 3, None),
        ("production", 2, 3),
        ("production", None, 2),
        ("staging", None, 3),
    ]
    assert history.json()["nextToken"] is None
    # Paged, newest first, each page bounded.
    first = (await client.get(f"{url}/label-history", params={"maxResults": 3})).json()
    assert len(first["moves"]) == 3 and first["nextToken"]
    rest = await client.get(
        f"{url}/label-history", params={"maxResults": 3, "nextToken": first["nextToken"]}
    )
    assert [m["label"] for m in rest.json()["moves"]] == ["staging"]
    assert rest.json()["nextToken"] is None

    events = (
        await client.get(
            "/v1/audit-events",
            params={"resourceType": "prompt_template", "resourceId": template_id},
        )
    ).json()["auditEvents"]
    label_events = [e["details"] for e in events if "label" in e["details"]]
    assert [(d["label"], d["fromVersion"], d["toVersion"]) for d in label_events] == moves


async def test_production_is_moved_only_by_the_owner_editors_and_admins(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ws = await make_workspace(client)
    url = await three_versions(client, ws)
    members = {}
    for role in ("reader", "author", "editor"):
        principal_id, token = await new_member(client, f"{role}-{ws}")
        added = await client.put(f"/v1/workspaces/{ws}/members/{principal_id}", json={"role": role})
        assert added.status_code == 200, added.text
        members[role] = token

    async with (
        acting_as(app, members["reader"]) as reader,
        acting_as(app, members["author"]) as author,
        acting_as(app, members["editor"]) as editor,
    ):
        # A reader moves nothing; an author moves every label but production.
        for who, label, role in ((reader, "staging", "author"), (reader, "production", "editor")):
            refused = await who.put(f"{url}/labels/{label}", json={"version": 2})
            assert refused.status_code == 403, refused.text
            assert f"needs the {role} role" in refused.json()["message"]
        assert (await author.put(f"{url}/labels/staging", json={"version": 2})).status_code == 200
        for attempt in (
            await author.put(f"{url}/labels/production", json={"version": 2}),
            await author.delete(f"{url}/labels/production"),
        ):
            assert attempt.status_code == 403, attempt.text
            assert (
                "moving the label 'production' needs the editor role" in attempt.json()["message"]
            )
        # An editor and the owner may; a reader still reads by label.
        assert (await editor.put(f"{url}/labels/production", json={"version": 2})).is_success
        assert (await client.put(f"{url}/labels/production", json={"version": 3})).is_success
        read = await reader.get(url, params={"label": "production"})
        assert read.json()["version"] == 3
        assert (await author.delete(f"{url}/labels/staging")).status_code == 200
        # An author may now also create and update templates, not delete them.
        assert (await author.patch(url, json={"content": "v4 ${who}"})).status_code == 200
        deleted = await author.delete(url)
        assert deleted.status_code == 403 and "needs the editor role" in deleted.json()["message"]
    moved_by = [m["movedBy"] for m in (await client.get(f"{url}/label-history")).json()["moves"]]
    assert len(moved_by) == 4


async def test_bad_labels_and_versions_are_400_or_404_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    url = await three_versions(client, ws)
    await promote(client, url, "production", 2)
    for label in ("Production", "a b", "x" * 65, "prod.1", "é"):
        response = await client.put(f"{url}/labels/{label}", json={"version": 1})
        assert response.status_code == 400, (label, response.text)
        assert fields(response) == ["label"]
    latest = await client.put(f"{url}/labels/latest", json={"version": 1})
    assert latest.status_code == 400 and fields(latest) == ["label"]
    assert "cannot be moved" in latest.json()["message"]
    for body, field in (
        ({"version": 4}, "version"),
        ({"version": 0}, "version"),
        ({}, "version"),
        ({"version": "two"}, "version"),
        ({"version": 2.5}, "version"),
        ({"version": 1, "extra": True}, "extra"),
    ):
        response = await client.put(f"{url}/labels/production", json=body)
        assert response.status_code == 400, (body, response.text)
        assert fields(response) == [field], body
    both = await client.get(url, params={"label": "production", "version": 1})
    assert both.status_code == 400 and fields(both) == ["label"]
    unset = await client.get(url, params={"label": "canary"})
    assert unset.status_code == 404 and unset.json()["code"] == "NOT_FOUND"
    assert "canary" in unset.json()["message"]
    unrendered = await client.post(f"{url}:render", json={"label": "canary", "variables": {}})
    assert unrendered.status_code == 404
    gone = await client.delete(f"{url}/labels/canary")
    assert gone.status_code == 404
    missing = await client.put(
        f"/v1/workspaces/{ws}/prompt-templates/nothing/labels/production", json={"version": 1}
    )
    assert missing.status_code == 404
    bad_token = await client.get(f"{url}/label-history", params={"nextToken": "!!"})
    assert bad_token.status_code == 400 and fields(bad_token) == ["nextToken"]
    bad_page = await client.get(f"{url}/label-history", params={"maxResults": 101})
    assert bad_page.status_code == 400 and fields(bad_page) == ["maxResults"]
    # Nothing moved.
    labels = (await client.get(f"{url}/labels")).json()["labels"]
    assert [(x["label"], x["version"]) for x in labels] == [("latest", 3), ("production", 2)]
    assert len((await client.get(f"{url}/label-history")).json()["moves"]) == 1


async def test_built_in_templates_have_only_latest_and_take_no_labels(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    system = (
        await client.get(f"/v1/workspaces/{ws}/prompt-templates", params={"type": "System"})
    ).json()["promptTemplates"][0]
    url = f"/v1/workspaces/{ws}/prompt-templates/{system['promptTemplateId']}"
    assert system["labels"] == ["latest"]
    assert (await client.get(url, params={"label": "latest"})).json()["version"] == 1
    assert (await client.get(url, params={"label": "production"})).status_code == 404
    labels = (await client.get(f"{url}/labels")).json()["labels"]
    assert [x["label"] for x in labels] == ["latest"]
    assert (await client.get(f"{url}/label-history")).json()["moves"] == []
    refused = await client.put(f"{url}/labels/production", json={"version": 1})
    assert refused.status_code == 403, refused.text


async def test_concurrent_moves_of_one_label_keep_a_consistent_history(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    url = await three_versions(client, ws)
    results = await asyncio.gather(
        *(client.put(f"{url}/labels/production", json={"version": 1 + n % 3}) for n in range(12))
    )
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    moves = (await client.get(f"{url}/label-history", params={"maxResults": 100})).json()["moves"]
    # Oldest first, each move starts where the one before it ended.
    chain = list(reversed(moves))
    assert chain[0]["fromVersion"] is None
    for before, after in itertools.pairwise(chain):
        assert after["fromVersion"] == before["toVersion"]
    now = (await client.get(url, params={"label": "production"})).json()["version"]
    assert chain[-1]["toVersion"] == now


async def test_deleting_a_template_deletes_its_labels_and_history(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    url = await three_versions(client, ws)
    await promote(client, url, "production", 2)
    assert (await client.delete(url)).status_code == 200
    again = await three_versions(client, ws)  # the same name, a new template
    assert (await client.get(f"{again}/label-history")).json()["moves"] == []
    labels = (await client.get(f"{again}/labels")).json()["labels"]
    assert [x["label"] for x in labels] == ["latest"]
    deleted_ws = await client.delete(f"/v1/workspaces/{ws}")
    assert deleted_ws.status_code == 200, deleted_ws.text


async def test_a_diff_between_versions_or_labels_is_a_unified_diff(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    url = await three_versions(client, ws)
    await promote(client, url, "production", 1)
    found = await client.get(f"{url}/diff", params={"from": "production", "to": "3"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["diff"] == (
        "--- greeting@1 (production)\n+++ greeting@3\n@@ -1 +1 @@\n"
        "-v1 ${who}\n\\ No newline at end of file\n+v3 ${who}\n\\ No newline at end of file\n"
    )
    assert body["from"] == {"version": 1, "name": "greeting", "labels": ["production"]}
    assert body["to"] == {"version": 3, "name": "greeting", "labels": ["latest"]}
    assert (body["identical"], body["exact"]) == (False, True)
    # `to` is the current version when absent; the same version twice is no difference.
    latest = (await client.get(f"{url}/diff", params={"from": "2"})).json()
    assert latest["diff"].startswith("--- greeting@2\n+++ greeting@3 (latest)\n")
    same = (await client.get(f"{url}/diff", params={"from": "3", "to": "latest"})).json()
    assert (same["diff"], same["identical"]) == ("", True)

    for params, field in (
        ({}, "from"),
        ({"from": "0"}, "from"),
        ({"from": "1", "to": "Bad Label"}, "to"),
        ({"from": "99999999999"}, "from"),
    ):
        response = await client.get(f"{url}/diff", params=params)
        assert response.status_code == 400, (params, response.text)
        assert fields(response) == [field], params
    for params in ({"from": "4"}, {"from": "canary"}):
        response = await client.get(f"{url}/diff", params=params)
        assert response.status_code == 404, (params, response.text)


async def test_a_diff_of_the_largest_texts_answers_in_bounded_time(
    client: httpx.AsyncClient,
) -> None:
    ws = await make_workspace(client)
    old = "".join(f"{n}\n" for n in range(18_000))[:100_000]
    new = "".join(f"{n * 7}\n" for n in range(18_000))[:100_000]
    created = await make_template(client, ws, "big", old)
    url = f"/v1/workspaces/{ws}/prompt-templates/{created['promptTemplateId']}"
    assert (await client.patch(url, json={"content": new})).status_code == 200
    started = asyncio.get_running_loop().time()
    found = await client.get(f"{url}/diff", params={"from": "1"})
    assert asyncio.get_running_loop().time() - started < 2.0
    assert found.status_code == 200, found.text
    assert found.json()["exact"] is False
    assert found.json()["diff"].count("\n@@ ") == 1
