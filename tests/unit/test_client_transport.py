"""The SDK against `httpx.MockTransport`: headers, error mapping, paging, watch loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from modelplane.client import (
    AsyncClient,
    Client,
    ConfigNamespace,
    ConfigNamespaceChanges,
    FieldViolation,
    ModelplaneError,
    NotFound,
    TransportError,
    Unavailable,
)
from modelplane.client.errors import ERROR_TABLE

BASE = "http://modelplane.test"
KEY = "mp_unit_test_key"
Handler = Callable[[httpx.Request], httpx.Response]


# No retries here: these tests pin how one answer maps (test_client_retries.py: retries).
def sync_client(handler: Handler, timeout: float = 5.0) -> Client:
    return Client(BASE, KEY, timeout=timeout, max_retries=0, transport=httpx.MockTransport(handler))


def async_client(handler: Handler) -> AsyncClient:
    return AsyncClient(
        BASE, KEY, timeout=5.0, max_retries=0, transport=httpx.MockTransport(handler)
    )


def group(n: int) -> dict[str, Any]:
    return {
        "modelTemplateId": f"mt-{n}",
        "ownerId": "p-1",
        "name": f"group {n}",
        "config": {},
        "createdAt": n,
        "updatedAt": n,
        "modelCount": 0,
    }


def template(n: int) -> dict[str, Any]:
    return {
        "promptTemplateId": f"{n:032x}",
        "workspaceId": "ws-1",
        "name": f"t{n}",
        "content": "Hi ${who}",
        "variables": ["who"],
        "type": "Custom",
        "version": 1,
        "createdAt": 1,
        "updatedAt": 1,
        "createdBy": "p-1",
        "updatedBy": "p-1",
    }


def state(revision: int, **values: str) -> dict[str, Any]:
    configs = [
        {"key": k, "value": v, "createdAt": 1, "updatedAt": 1, "revision": revision}
        for k, v in values.items()
    ]
    return {"changed": True, "revision": revision, "configs": configs}


def namespace(revision: int, **values: str) -> dict[str, Any]:
    """`GET …/service/{name}`: every parameter."""
    whole = state(revision, **values)
    del whole["changed"]
    return whole


def changes(revision: int, *, deleted: tuple[str, ...] = (), **values: str) -> dict[str, Any]:
    """A watch's answer: what changed."""
    return {**state(revision, **values), "deleted": list(deleted)}


# --- headers ---------------------------------------------------------------------------------


def test_sends_the_api_key_header_and_parses_the_namespace() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"revision": 2, "configs": state(2, a="1")["configs"]})

    with sync_client(handler) as client:
        ns = client.configs.get_namespace("cn-hangzhou", "svc")
    assert isinstance(ns, ConfigNamespace)
    assert ns.revision == 2
    assert ns.values == {"a": "1"}
    assert seen[0].headers["x-api-key"] == KEY
    assert "authorization" not in seen[0].headers
    assert seen[0].url.path == "/v1/configs/cn-hangzhou/service/svc"


async def test_async_client_sends_the_api_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=group(1))

    async with async_client(handler) as client:
        found = await client.model_groups.get("mt-1")
    assert found.model_template_id == "mt-1"
    assert found.model_count == 0
    assert seen[0].headers["x-api-key"] == KEY


def test_a_key_with_a_slash_travels_as_one_segment() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"key": "a/b", "value": "v", "createdAt": 1, "updatedAt": 1, "revision": 1}
        )

    with sync_client(handler) as client:
        assert client.configs.put("c1", "svc", "a/b", "v").key == "a/b"
    assert seen[0].url.raw_path == b"/v1/configs/c1/service/svc/a%2Fb"
    assert seen[0].method == "PUT"


def test_update_sends_only_the_fields_given() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json=group(1))

    with sync_client(handler) as client:
        client.model_groups.update("mt-1", description="d", default_model="")
    assert seen == [b'{"description":"d","defaultModel":""}']


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "code", "status"), ERROR_TABLE)
def test_each_native_code_raises_its_class(
    cls: type[ModelplaneError], code: str, status: int
) -> None:
    body = {"code": code, "message": "it broke", "details": [{"field": "name", "rule": "required"}]}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers={"x-request-id": "req-42"})

    with sync_client(handler) as client, pytest.raises(cls) as caught:
        client.llms.get("x")
    error = caught.value
    assert type(error) is cls
    assert (error.code, error.status_code, error.message) == (code, status, "it broke")
    assert error.details == (FieldViolation(field="name", rule="required"),)
    assert error.request_id == "req-42"
    assert "req-42" in str(error)


@pytest.mark.parametrize(("cls", "code", "status"), ERROR_TABLE)
async def test_each_native_code_raises_its_class_async(
    cls: type[ModelplaneError], code: str, status: int
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"code": code, "message": "m", "details": []})

    async with async_client(handler) as client:
        with pytest.raises(cls) as caught:
            await client.prompts.get("ws", "t")
    assert (caught.value.code, caught.value.status_code, caught.value.details) == (code, status, ())


def test_an_unknown_code_raises_the_base_class() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(413, json={"code": "PAYLOAD_TOO_LARGE", "message": "big"})

    with sync_client(handler) as client, pytest.raises(ModelplaneError) as caught:
        client.configs.put("c", "s", "k", "v")
    assert type(caught.value) is ModelplaneError
    assert (caught.value.code, caught.value.status_code) == ("PAYLOAD_TOO_LARGE", 413)


def test_a_body_that_is_not_native_maps_by_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="<html>bad gateway</html>")

    with sync_client(handler) as client, pytest.raises(Unavailable) as caught:
        client.llms.list()
    assert caught.value.code == "UNAVAILABLE"
    assert "bad gateway" in caught.value.message


def test_a_connection_failure_is_a_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with sync_client(handler) as client, pytest.raises(TransportError) as caught:
        client.llms.list()
    assert isinstance(caught.value, ModelplaneError)
    assert (caught.value.code, caught.value.status_code) == ("TRANSPORT", None)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_a_timeout_is_a_transport_error_async() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with async_client(handler) as client:
        with pytest.raises(TransportError):
            await client.llms.list()


# --- paging ----------------------------------------------------------------------------------


def groups_handler(total: int, pages: list[dict[str, str]]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        pages.append(params)
        number, size = int(params["pageNumber"]), int(params["pageSize"])
        items = [group(n) for n in range((number - 1) * size, min(number * size, total))]
        body = {"modelGroups": items, "pageNumber": number, "pageSize": size, "totalCount": total}
        return httpx.Response(200, json=body)

    return handler


def test_model_groups_iter_walks_page_numbers() -> None:
    pages: list[dict[str, str]] = []
    with sync_client(groups_handler(5, pages)) as client:
        ids = [g.model_template_id for g in client.model_groups.iter(page_size=2, name="g")]
    assert ids == [f"mt-{n}" for n in range(5)]
    assert [p["pageNumber"] for p in pages] == ["1", "2", "3"]
    assert all(p["pageSize"] == "2" and p["name"] == "g" for p in pages)


def test_model_groups_iter_of_nothing_reads_one_page() -> None:
    pages: list[dict[str, str]] = []
    with sync_client(groups_handler(0, pages)) as client:
        assert list(client.model_groups.iter()) == []
    assert len(pages) == 1


async def test_model_groups_iter_walks_page_numbers_async() -> None:
    pages: list[dict[str, str]] = []
    async with async_client(groups_handler(4, pages)) as client:
        ids = [g.model_template_id async for g in client.model_groups.iter(page_size=2)]
    assert ids == [f"mt-{n}" for n in range(4)]
    assert [p["pageNumber"] for p in pages] == ["1", "2"]


def templates_handler(tokens: list[str | None]) -> Handler:
    """Three pages: tokens None -> "p2" -> "p3" -> end."""
    following = {None: ("p2", [1, 2]), "p2": ("p3", [3, 4]), "p3": (None, [5])}

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("nextToken")
        tokens.append(token)
        nxt, numbers = following[token]
        return httpx.Response(
            200,
            json={
                "promptTemplates": [template(n) for n in numbers],
                "totalCount": 5,
                "maxResults": 2,
                "nextToken": nxt,
            },
        )

    return handler


def test_prompts_iter_follows_next_token() -> None:
    tokens: list[str | None] = []
    with sync_client(templates_handler(tokens)) as client:
        names = [t.name for t in client.prompts.iter("ws-1", max_results=2)]
    assert names == ["t1", "t2", "t3", "t4", "t5"]
    assert tokens == [None, "p2", "p3"]


async def test_prompts_iter_follows_next_token_async() -> None:
    tokens: list[str | None] = []
    async with async_client(templates_handler(tokens)) as client:
        names = [t.name async for t in client.prompts.iter("ws-1")]
    assert names == ["t1", "t2", "t3", "t4", "t5"]
    assert tokens == [None, "p2", "p3"]


# --- watch -----------------------------------------------------------------------------------


def watch_handler(answers: list[dict[str, Any]], seen: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if not answers:
            return httpx.Response(404, json={"code": "NOT_FOUND", "message": "gone"})
        return httpx.Response(200, json=answers.pop(0))

    return handler


def test_watch_reads_once_then_applies_each_change_and_stops_when_the_caller_stops() -> None:
    answers = [
        namespace(0),
        {"changed": False, "revision": 0},
        changes(3, a="1"),
        {"changed": False, "revision": 3},
        changes(5, b="2"),
        changes(9, deleted=("a",)),
        changes(10, a="4"),
    ]
    seen: list[httpx.Request] = []
    with sync_client(watch_handler(answers, seen), timeout=5.0) as client:
        got = []
        for ns in client.configs.watch("c1", "svc", timeout_seconds=7):
            got.append(ns)
            if len(got) == 3:
                break
    assert [(ns.revision, ns.values) for ns in got] == [
        (3, {"a": "1"}),
        (5, {"a": "1", "b": "2"}),  # the untouched `a` kept from before
        (9, {"b": "2"}),  # `a` deleted
    ]
    assert seen[0].url.path == "/v1/configs/c1/service/svc"
    assert [r.url.params["sinceRevision"] for r in seen[1:]] == ["0", "0", "3", "3", "5"]
    assert seen[1].url.path == "/v1/configs/c1/service/svc:watch"
    assert seen[1].url.params["timeoutSeconds"] == "7"
    assert seen[1].extensions["timeout"]["read"] == 12.0  # the client's 5 s + the 7 s poll
    assert len(answers) == 1  # nothing read after the caller stopped


def test_watch_ends_with_the_error_that_stops_it() -> None:
    seen: list[httpx.Request] = []
    with sync_client(watch_handler([namespace(1, a="1")], seen)) as client:
        watch = client.configs.watch("c1", "svc", since_revision=0)
        first = next(watch)  # the state read first, already past revision 0
        assert (first.revision, first.values) == (1, {"a": "1"})
        with pytest.raises(NotFound):
            next(watch)
        with pytest.raises(StopIteration):
            next(watch)
    assert [r.url.params.get("sinceRevision") for r in seen] == [None, "1"]


async def test_async_watch_yields_only_states_past_since_revision_and_stops() -> None:
    answers = [
        namespace(2, a="1", b="1"),  # behind `since_revision`: a replica a moment behind
        changes(3, a="2"),
        {"changed": False, "revision": 3},
        changes(4, deleted=("b",)),
        changes(6),
    ]
    seen: list[httpx.Request] = []
    async with async_client(watch_handler(answers, seen)) as client:
        states = []
        async for ns in client.configs.watch("c1", "svc", since_revision=3, timeout_seconds=1):
            states.append((ns.revision, ns.values))
            if ns.revision == 4:
                break
    assert states == [(4, {"a": "2"})]
    assert [r.url.params.get("sinceRevision") for r in seen] == [None, "2", "3", "3"]


def test_a_namespace_with_changes_applied_is_in_key_order() -> None:
    before = ConfigNamespace.model_validate(namespace(1, b="1", d="1"))
    after = before.applied(ConfigNamespaceChanges.model_validate(changes(2, c="2", a="2")))
    assert [c.key for c in after.configs] == ["a", "b", "c", "d"]
    assert before.applied(
        ConfigNamespaceChanges(revision=3, configs=(), deleted=("b", "x"))
    ).values == {"d": "1"}
