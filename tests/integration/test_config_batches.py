"""Atomic publish of dynamic parameters, on SQLite and PostgreSQL: a batch of sets and
deletes is one revision that watchers (long-poll and event stream) see whole; a bad item
writes nothing and is named; a revert brings back an earlier revision's state as a new
revision; a parameter's format is checked on every write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelplane.client import AsyncClient, Client, InvalidArgument, NotFound
from modelplane.domain import errors
from modelplane.domain.config_formats import ConfigFormat
from modelplane.domain.configs import BATCH_MAX, NamespaceKey
from modelplane.services import configs as config_service
from modelplane.serving import DrainingServer
from modelplane.store.configs import ConfigRepository
from modelplane.store.uow import UnitOfWork
from tests.conftest import ADMIN_TOKEN, POSTGRES_ONLY, new_member
from tests.integration.test_audit_native import events
from tests.integration.test_catalog_services import admin_of
from tests.integration.test_configs_api import (
    EVENTS,
    acting_as,
    live_client,
    next_event,
    sse,
    state_of,
    watchers_become,
)
from tests.support.in_process import serving

BASE = "/v1/configs/cn-hangzhou/service/batched"
TOPIC = config_service.topic(NamespaceKey("cn-hangzhou", "batched"))


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[tuple[str, DrainingServer]]:
    """`app` (its lifespan already running) served by uvicorn on 127.0.0.1."""
    async with serving(app, graceful_seconds=20) as url_and_server:
        yield url_and_server


async def batch(
    client: httpx.AsyncClient, items: list[dict[str, Any]], base: str = BASE
) -> dict[str, Any]:
    response = await client.post(f"{base}:batch", json={"items": items})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def state(client: httpx.AsyncClient, base: str = BASE) -> tuple[int, dict[str, Any]]:
    """The namespace's revision and `{key: (value, format)}`."""
    response = await client.get(base)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["revision"], {c["key"]: (c["value"], c["format"]) for c in body["configs"]}


def refused(response: httpx.Response) -> dict[str, str]:
    """The `{field: rule}` of a 400 INVALID_ARGUMENT."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "INVALID_ARGUMENT", body
    return {d["field"]: d["rule"] for d in body["details"]}


def sets(count: int, prefix: str = "p", value: str = "v") -> list[dict[str, Any]]:
    return [{"key": f"{prefix}{n:03d}", "value": f"{value}{n}"} for n in range(count)]


# --- one batch, one revision ------------------------------------------------------------------


async def test_a_batch_is_one_revision_one_wake_up_and_one_history_entry_per_item(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await batch(client, sets(3, "old"))
    announced: list[str] = []
    announce = UnitOfWork.announce

    def counted(self: UnitOfWork, topic: str) -> None:
        announced.append(topic)
        announce(self, topic)

    monkeypatch.setattr(UnitOfWork, "announce", counted)
    items = [*sets(40), {"key": "old000", "op": "delete"}, {"key": "old001", "value": "new"}]
    answer = await batch(client, items)

    assert announced == [TOPIC]  # the watchers are woken once (here and on other replicas)
    assert answer["revision"] == 2
    assert answer["deleted"] == ["old000"]
    assert [c["key"] for c in answer["configs"]] == ["old001", *(f"p{n:03d}" for n in range(40))]
    assert {c["revision"] for c in answer["configs"]} == {2}
    revision, now = await state(client)
    assert revision == 2 and len(now) == 42 and "old000" not in now
    assert now["old001"] == ("new", "text") and now["old002"] == ("v2", "text")
    history = (await client.get(f"{BASE}:history", params={"limit": 1000})).json()["changes"]
    at_two = [(c["key"], c["kind"]) for c in history if c["revision"] == 2]
    assert len(at_two) == 42
    assert ("old000", "delete") in at_two and ("old001", "update") in at_two
    assert ("p000", "create") in at_two
    # Audited like single writes: one event per parameter, each with the revision.
    audited = await events(client, resourceType="config")
    of_batch = [e for e in audited if e["details"]["revision"] == 2]
    assert len(of_batch) == 42
    assert {e["action"] for e in of_batch} == {"create", "update", "delete"}
    assert "cn-hangzhou/service/batched/old000" in {e["resourceId"] for e in of_batch}


async def test_a_long_poll_woken_by_a_batch_sees_the_whole_batch(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await batch(client, [*sets(5, "gone"), {"key": "kept", "value": "0"}])
    watch = asyncio.create_task(
        client.get(f"{BASE}:watch", params={"sinceRevision": 1, "timeoutSeconds": 10})
    )
    await watchers_become(app, 1)
    items = [*sets(200), *({"key": f"gone{n:03d}", "op": "delete"} for n in range(5))]
    await batch(client, items)
    answer = (await watch).json()
    assert answer["changed"] is True and answer["revision"] == 2
    assert len(answer["configs"]) == 200
    assert answer["deleted"] == [f"gone{n:03d}" for n in range(5)]


async def test_an_event_stream_sends_a_batch_as_one_event(
    app: FastAPI, live: tuple[str, DrainingServer]
) -> None:
    url, _ = live
    async with live_client(url) as http:
        await batch(http, [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
        async with http.stream("GET", f"{BASE}:watch", headers=EVENTS) as stream:
            events_ = sse(stream.aiter_lines())
            assert state_of(await next_event(events_))["revision"] == 1
            await watchers_become(app, 1)
            for round_ in (2, 3):
                items = [*sets(100, value=f"r{round_}-"), {"key": "a", "value": str(round_)}]
                if round_ == 3:
                    items.append({"key": "b", "op": "delete"})
                await batch(http, items)
                found = state_of(await next_event(events_))
                assert found["revision"] == round_
                assert len(found["configs"]) == 101
                assert {c["value"] for c in found["configs"] if c["key"] == "a"} == {str(round_)}
                assert found["deleted"] == (["b"] if round_ == 3 else [])


@POSTGRES_ONLY
async def test_a_watchers_reads_see_one_snapshot_when_a_batch_commits_between_them(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's READ COMMITTED would show a batch committed between the watcher's read
    of the revision and its read of the parameters in the second only: a half-applied
    state labelled with the older revision. The watch reads one snapshot."""
    await batch(client, [{"key": "a", "value": "1"}, {"key": "b", "value": "1"}])
    await batch(client, [{"key": "c", "value": "1"}])
    read_namespace = ConfigRepository.namespace
    committed: list[int] = []

    async def namespace_then_a_batch(
        self: ConfigRepository, key: NamespaceKey, *, lock: bool = False
    ) -> Any:
        found = await read_namespace(self, key, lock=lock)
        if not lock and not committed:  # the watcher's read: a batch commits right after
            committed.append(1)
            await batch(client, [{"key": "a", "value": "2"}, {"key": "b", "op": "delete"}])
        return found

    monkeypatch.setattr(ConfigRepository, "namespace", namespace_then_a_batch)
    first = (await client.get(f"{BASE}:watch", params={"sinceRevision": 1})).json()
    assert committed == [1]
    # What was read is revision 2 alone, not revision 2 with part of revision 3.
    assert first["revision"] == 2
    assert [(c["key"], c["value"]) for c in first["configs"]] == [("c", "1")]
    assert first["deleted"] == []
    second = (await client.get(f"{BASE}:watch", params={"sinceRevision": 2})).json()
    assert second["revision"] == 3
    assert [(c["key"], c["value"]) for c in second["configs"]] == [("a", "2")]
    assert second["deleted"] == ["b"]


# --- a bad batch writes nothing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field", "rule"),
    [
        ({"key": "bad key", "value": "1"}, "items.2.key", "must match"),
        ({"key": "a/../b", "value": "1"}, "items.2.key", "no empty, `.` or `..` part"),
        ({"key": "x"}, "items.2.value", "required"),
        ({"key": "x", "value": 5}, "items.2.value", "string"),
        ({"key": "x", "value": "v" * (64 * 1024 + 1)}, "items.2.value", "at most 65536"),
        ({"key": "x", "value": "1", "op": "upsert"}, "items.2.op", "`set` or `delete`"),
        ({"key": "x", "value": "1", "format": "toml"}, "items.2.format", "one of text, json"),
        ({"key": "x", "value": "{", "format": "json"}, "items.2.value", "line 1, column 2"),
        ({"key": "keep", "op": "delete", "value": "1"}, "items.2.value", "absent for a delete"),
        ({"key": "missing", "op": "delete"}, "items.2.key", "no such parameter"),
        ({"key": "ok0", "value": "again"}, "items.2.key", "repeats items.0"),
        ({"key": "doc", "value": "a: [1"}, "items.2.value", "must be valid YAML"),
        ({"key": "x", "value": "1", "extra": True}, "items.2.extra", ""),
    ],
)
async def test_a_batch_with_one_bad_item_writes_nothing_and_names_the_item(
    client: httpx.AsyncClient, bad: dict[str, Any], field: str, rule: str
) -> None:
    await batch(
        client,
        [
            {"key": "keep", "value": "1"},
            {"key": "doc", "value": "a: 1", "format": "yaml"},  # values must stay YAML
        ],
    )
    before = await state(client)
    audited = len(await events(client))
    items = [{"key": "ok0", "value": "1"}, {"key": "ok1", "value": "2"}, bad]
    response = await client.post(f"{BASE}:batch", json={"items": items})
    found = refused(response)
    assert field in found and rule in found[field], found
    assert await state(client) == before
    assert len(await events(client)) == audited


async def test_every_bad_item_is_named_at_once(client: httpx.AsyncClient) -> None:
    await batch(client, [{"key": "here", "value": "1"}])
    items = [
        {"key": "fine", "value": "1"},
        {"key": "j", "value": "[1,", "format": "json"},
        {"key": "nowhere", "op": "delete"},
        {"key": "p", "value": "k\\u12", "format": "properties"},
    ]
    found = refused(await client.post(f"{BASE}:batch", json={"items": items}))
    assert list(found) == ["items.1.value", "items.2.key", "items.3.value"]
    assert "line 1, column 4" in found["items.1.value"]
    assert "line 1, column 2" in found["items.3.value"]


async def test_a_batch_beyond_the_item_limit_or_empty_is_400_naming_items(
    client: httpx.AsyncClient,
) -> None:
    over = [{"key": f"k{n}", "value": ""} for n in range(BATCH_MAX + 1)]
    assert "items" in refused(await client.post(f"{BASE}:batch", json={"items": over}))
    assert "items" in refused(await client.post(f"{BASE}:batch", json={"items": []}))
    assert "items" in refused(await client.post(f"{BASE}:batch", json={}))
    assert (await state(client))[0] == 0
    exactly = [{"key": f"k{n:04d}", "value": ""} for n in range(BATCH_MAX)]
    assert (await batch(client, exactly))["revision"] == 1


async def test_a_batch_into_another_members_namespace_is_refused_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, alice = await new_member(client, "alice")
    _, bob = await new_member(client, "bob")
    async with acting_as(app, alice) as as_alice, acting_as(app, bob) as as_bob:
        await batch(as_alice, [{"key": "k", "value": "1", "format": "json"}])
        # Bob's item would break Alice's JSON parameter, but he learns nothing of it.
        taken = await as_bob.post(f"{BASE}:batch", json={"items": [{"key": "k", "value": "{"}]})
        assert taken.status_code == 409, taken.text
        deletes = await as_bob.post(f"{BASE}:batch", json={"items": [{"key": "k", "op": "delete"}]})
        assert deletes.status_code == 404, deletes.text
        assert await state(as_alice) == (1, {"k": ("1", "json")})
    never = await client.post(
        "/v1/configs/cn-hangzhou/service/never:batch",
        json={"items": [{"key": "k", "op": "delete"}]},
    )
    assert never.status_code == 404, never.text
    assert (await client.get("/v1/configs")).json()["namespaces"][0]["name"] == "batched"


async def test_an_encoded_suffix_is_part_of_the_name_and_refused(client: httpx.AsyncClient) -> None:
    items = {"items": [{"key": "k", "value": "1"}]}
    response = await client.post("/v1/configs/cn-hangzhou/service/batched%3Abatch", json=items)
    assert "name" in refused(response)
    reverted = await client.post(
        "/v1/configs/cn-hangzhou/service/batched%3Arevert", json={"revision": 0}
    )
    assert "name" in refused(reverted)


# --- revert ------------------------------------------------------------------------------------


async def test_revert_restores_an_earlier_state_exactly_as_a_new_revision(
    client: httpx.AsyncClient,
) -> None:
    await batch(
        client,
        [
            {"key": "changed", "value": "1"},
            {"key": "deleted", "value": '{"a": 1}', "format": "json"},
            {"key": "same", "value": "s"},
            {"key": "reformatted", "value": "x: 1", "format": "yaml"},
        ],
    )  # revision 1: the state to come back to
    then = await state(client)
    await batch(client, [{"key": "changed", "value": "2"}, {"key": "added", "value": "new"}])
    await batch(client, [{"key": "deleted", "op": "delete"}])
    await client.put(f"{BASE}/reformatted", json={"value": "x: 1", "format": "text"})
    await client.put(f"{BASE}/added", json={"value": "newer"})
    assert (await state(client))[0] == 5

    answer = (await client.post(f"{BASE}:revert", json={"revision": 1})).json()
    assert answer["revision"] == 6
    assert answer["deleted"] == ["added"]
    assert [(c["key"], c["format"]) for c in answer["configs"]] == [
        ("changed", "text"),
        ("deleted", "json"),
        ("reformatted", "yaml"),
    ]
    assert await state(client) == (6, then[1])
    history = (await client.get(f"{BASE}:history")).json()["changes"]
    assert sorted((c["key"], c["kind"]) for c in history if c["revision"] == 6) == [
        ("added", "delete"),
        ("changed", "update"),
        ("deleted", "create"),
        ("reformatted", "update"),
    ]
    audited = [
        e for e in await events(client, resourceType="config") if e["details"]["revision"] == 6
    ]
    assert len(audited) == 4 and {e["details"]["revertedTo"] for e in audited} == {1}

    # Back to a state with the revert undone, then to before anything was written.
    assert (await client.post(f"{BASE}:revert", json={"revision": 5})).json()["revision"] == 7
    assert (await state(client))[1]["added"] == ("newer", "text")
    emptied = (await client.post(f"{BASE}:revert", json={"revision": 0})).json()
    assert emptied["revision"] == 8 and emptied["configs"] == []
    assert await state(client) == (8, {})


async def test_a_revert_to_the_state_held_writes_nothing(client: httpx.AsyncClient) -> None:
    await batch(client, [{"key": "a", "value": "1"}])
    await client.put(f"{BASE}/a", json={"value": "1"})  # revision 2, the same state
    audited = len(await events(client))
    for revision in (1, 2):
        answer = (await client.post(f"{BASE}:revert", json={"revision": revision})).json()
        assert answer == {"revision": 2, "configs": [], "deleted": []}
    assert (await state(client))[0] == 2
    assert len(await events(client)) == audited


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"revision": 3}, 404, None),
        ({"revision": -1}, 400, "revision"),
        ({"revision": 2**63}, 400, "revision"),
        ({"revision": "one"}, 400, "revision"),
        ({"revision": 1.5}, 400, "revision"),
        ({}, 400, "revision"),
    ],
)
async def test_a_revert_to_a_revision_never_reached_or_malformed_is_refused(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, field: str | None
) -> None:
    await batch(client, [{"key": "a", "value": "1"}])
    await batch(client, [{"key": "a", "value": "2"}])
    response = await client.post(f"{BASE}:revert", json=body)
    assert response.status_code == status, response.text
    if field is not None:
        assert field in refused(response)
    assert await state(client) == (2, {"a": ("2", "text")})


async def test_a_revert_of_a_namespace_never_written_or_of_another_member_is_404(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    never = await client.post(f"{BASE}:revert", json={"revision": 0})
    assert never.status_code == 404, never.text
    await batch(client, [{"key": "a", "value": "1"}])
    _, token = await new_member(client, "mallory")
    async with acting_as(app, token) as as_member:
        other = await as_member.post(f"{BASE}:revert", json={"revision": 0})
        assert other.status_code == 404, other.text
    assert (await state(client))[0] == 1


# --- formats -----------------------------------------------------------------------------------


PROPERTIES = "# comment\n! also\n\na=1\nb: 2\nc 3\nlong = one \\\n    two\nuni=\\u00e9\n"


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        ("text", "anything { at all"),
        ("text", ""),
        ("json", '{"a": [1, 2.5, null, true, "x"]}'),
        ("json", " 42 "),
        ("yaml", "a: 1\nb:\n  - x\n  - {c: d}\n"),
        ("yaml", "just a string"),
        ("yaml", ""),
        ("properties", PROPERTIES),
        ("properties", ""),
        ("properties", "key=value\r\nother=x\r"),
    ],
)
async def test_a_value_that_parses_in_its_format_is_stored_with_it(
    client: httpx.AsyncClient, fmt: str, value: str
) -> None:
    put = await client.put(f"{BASE}/k", json={"value": value, "format": fmt})
    assert put.status_code == 201, put.text
    assert (put.json()["value"], put.json()["format"]) == (value, fmt)
    got = (await client.get(f"{BASE}/k")).json()
    assert got["format"] == fmt
    [change] = (await client.get(f"{BASE}/k/history")).json()["changes"]
    assert (change["format"], change["value"]) == (fmt, value)


@pytest.mark.parametrize(
    ("fmt", "value", "said"),
    [
        ("json", '{"a": 1,}', "must be valid JSON: Expecting property name"),
        ("json", '{"a": 1}\n{"b": 2}', "Extra data at line 2, column 1"),
        ("json", "NaN", "NaN is not JSON"),
        ("json", "[" * 50_000, "nests too deeply"),
        ("json", "", "Expecting value at line 1, column 1"),
        ("yaml", "a: [1, 2\nb: 3", "line 2, column 2"),
        ("yaml", "a: 1\n---\nb: 2", "expected a single document"),
        ("yaml", "a: !!python/object:os.system x", "could not determine a constructor"),
        ("yaml", "a: b: c", "at line 1, column 5"),
        ("yaml", "[" * 2000, "exceeded maximum nesting depth"),
        ("yaml", "when: 2001-13-45", "month must be in 1..12"),
        ("yaml", "a: \x07", "control characters are not allowed at position 3"),
        ("properties", "a=1\nb\n", "the key 'b' has no `=`, `:` or whitespace"),
        ("properties", "a=1\n=2", "an empty key at line 2, column 1"),
        ("properties", "a=\\u12G4", "four hex digits at line 1, column 3"),
        ("properties", "a=1\nb=2 \\", "continues nothing"),
        ("properties", "a=1\n  a = 2", "the key 'a' at line 2, column 3 repeats"),
    ],
)
async def test_a_value_that_does_not_parse_in_its_format_is_400_naming_value_and_stores_nothing(
    client: httpx.AsyncClient, fmt: str, value: str, said: str
) -> None:
    found = refused(await client.put(f"{BASE}/k", json={"value": value, "format": fmt}))
    assert said in found["value"], found
    assert (await state(client))[0] == 0


async def test_a_parameter_keeps_its_format_until_a_write_declares_another(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.put(f"{BASE}/k", json={"value": "{}", "format": "json"})).is_success
    # Without a format the value must still be JSON …
    found = refused(await client.put(f"{BASE}/k", json={"value": "not json"}))
    assert "must be valid JSON" in found["value"]
    kept = await client.put(f"{BASE}/k", json={"value": "[1]"})
    assert kept.json()["format"] == "json"
    # … until a write declares another.
    text = await client.put(f"{BASE}/k", json={"value": "not json", "format": "text"})
    assert text.json()["format"] == "text"
    assert "format" in refused(await client.put(f"{BASE}/k", json={"value": "1", "format": "x"}))
    assert "format" in refused(await client.put(f"{BASE}/k", json={"value": "1", "format": 1}))
    kinds = [c["format"] for c in (await client.get(f"{BASE}/k/history")).json()["changes"]]
    assert kinds == ["text", "json", "json"]


async def test_an_update_that_names_no_format_is_checked_in_the_stored_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """`update_config` as the EAS face calls it, knowing nothing of formats."""
    store = app.state.store
    admin = await admin_of(store)
    names = {"cluster_id": "cn-hangzhou", "config_type": "service", "name": "batched"}
    assert (await client.put(f"{BASE}/k", json={"value": "a=1", "format": "properties"})).is_success
    updated = await config_service.update_config(
        store=store, actor=admin, **names, key="k", value="b=2"
    )
    assert updated.format is ConfigFormat.PROPERTIES
    with pytest.raises(errors.InvalidArgument) as caught:
        await config_service.update_config(
            store=store, actor=admin, **names, key="k", value="just-a-key"
        )
    [violation] = caught.value.violations
    assert violation.field == "value" and "must be valid properties" in violation.rule
    assert (await state(client))[1] == {"k": ("b=2", "properties")}


# --- the SDK -----------------------------------------------------------------------------------


async def test_the_sdk_batches_reverts_and_declares_formats_against_a_live_server(
    live: tuple[str, DrainingServer],
) -> None:
    url, _ = live

    def scenario() -> None:
        with Client(url, ADMIN_TOKEN, timeout=10) as sdk:
            first = sdk.configs.batch(
                "cn-sdk",
                "svc",
                {"a": "1", "doc": "x: 1", "props": "k=v"},
                formats={"doc": "yaml", "props": "properties"},
            )
            assert first.revision == 1
            assert [(c.key, c.format) for c in first.configs] == [
                ("a", "text"),
                ("doc", "yaml"),
                ("props", "properties"),
            ]
            # A watcher from revision 1 gets the batch as one revision, all of it.
            states = sdk.configs.watch("cn-sdk", "svc", since_revision=1, timeout_seconds=5)
            changes = sdk.configs.batch(
                "cn-sdk", "svc", {f"n{n}": str(n) for n in range(50)}, delete=["a"]
            )
            assert (changes.revision, changes.deleted, len(changes.configs)) == (2, ("a",), 50)
            seen = next(iter(states))
            assert seen.revision == 2 and "a" not in seen.values and len(seen.values) == 52
            with pytest.raises(InvalidArgument) as caught:
                sdk.configs.batch("cn-sdk", "svc", {"ok": "1", "doc": "x: [1"}, delete=["gone"])
            assert [d.field for d in caught.value.details] == ["items.1.value", "items.2.key"]
            assert sdk.configs.get_namespace("cn-sdk", "svc").revision == 2

            put = sdk.configs.put("cn-sdk", "svc", "j", "[1]", format="json")
            assert (put.revision, put.format) == (3, "json")
            with pytest.raises(InvalidArgument) as bad:
                sdk.configs.put("cn-sdk", "svc", "j", "[1")
            assert [d.field for d in bad.value.details] == ["value"]
            history = sdk.configs.history("cn-sdk", "svc", "j")
            assert [(c.revision, c.format) for c in history] == [(3, "json")]

            back = sdk.configs.revert("cn-sdk", "svc", 1)
            assert back.revision == 4
            assert sdk.configs.get_namespace("cn-sdk", "svc").values == {
                "a": "1",
                "doc": "x: 1",
                "props": "k=v",
            }
            with pytest.raises(NotFound):
                sdk.configs.revert("cn-sdk", "svc", 99)

    await asyncio.to_thread(scenario)


async def test_the_async_sdk_batches_and_reverts(app: FastAPI) -> None:
    async with AsyncClient(
        "http://modelplane.test", ADMIN_TOKEN, transport=httpx.ASGITransport(app=app)
    ) as sdk:
        made = await sdk.configs.batch("cn-sdk", "svc", {"a": "1"}, formats={"a": "json"})
        assert made.configs[0].format == "json"
        await sdk.configs.batch("cn-sdk", "svc", delete=["a"])
        back = await sdk.configs.revert("cn-sdk", "svc", 1)
        assert (back.revision, [c.key for c in back.configs]) == (3, ["a"])
