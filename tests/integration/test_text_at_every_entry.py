"""Every string of every face is checked where it enters: a lone surrogate or a NUL is a
400 naming its field before anything is written, on SQLite and PostgreSQL alike; any
other text is never a server error, and what was stored is served back.

A "slot" is one place a string enters: a value or an object key anywhere in a native JSON
body, a native path or query parameter, an RPC query, form or JSON-text parameter, a
bailian query or path parameter, the EAS body or path. Each test first sweeps every slot
with the bad strings below, then lets hypothesis put arbitrary code points (surrogates
and NUL included) into slots it picks.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol
from urllib.parse import quote, quote_from_bytes

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelplane.app import create_app
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.support.roa import EAS_VERSION, RoaClient
from tests.support.rpc import HOST, signed_call
from tests.support.store_snapshot import PostgresRows, SqliteRows

BAD = ["\ud800", "\udfff", "a\udc80b", "\x00", "x\x00", "\ud83d"]
# Text every store holds: non-BMP, combining marks, other scripts; each slot gets these too.
GOOD = ["v2", "千问😀", "e\u0301\U0010fffd"]
SWEEP = [BAD[0], BAD[1], BAD[3], *GOOD]
# Any code point: surrogates and NUL included (hypothesis draws them too, but rarely).
TEXTS = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=10) | st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text(max_size=3),
    st.sampled_from(BAD),
    st.text(max_size=3),
)
RUNS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def is_bad(text: str) -> bool:
    """Whether no store can hold `text` (the rule, written independently of the code's)."""
    return "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def wire(text: str) -> str:
    """`text` percent-encoded as a URL carries it; a surrogate as the bytes a sloppy encoder
    would send for it."""
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


class Answer(Protocol):
    """What the tests read of a response (the TestClient's may come from httpx or httpx2)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


@dataclass(frozen=True)
class Slot:
    """One place a string enters: `send` puts the text there; a refusal names `field`."""

    name: str
    field: str
    send: Callable[[str], Answer]


@dataclass
class Instance:
    """A running app with a few resources, and a view of its tables."""

    app: FastAPI
    http: TestClient  # one event loop of its own for the app
    rows: SqliteRows | PostgresRows
    ids: dict[str, str]
    access_key: tuple[str, str]


def refused_field(response: Answer) -> str:
    """Where the error says the problem is: the native `details`, an Alibaba message."""
    body = response.json()
    if "details" in body:
        return " ".join(d["field"] for d in body["details"])
    return str(body.get("Message") or body.get("message"))


def check(instance: Instance, slot: Slot, text: str, read_back: Callable[[], Any]) -> None:
    """Send `text` into `slot`; a bad text is refused naming the field and writes nothing,
    any other is no server error and leaves every list servable."""
    before = instance.rows.snapshot() if is_bad(text) else ""
    response = slot.send(text)
    assert response.status_code < 500, (slot.name, repr(text), response.text)
    if is_bad(text):
        assert response.status_code == 400, (slot.name, repr(text), response.text)
        assert slot.field in refused_field(response), (slot.name, slot.field, response.text)
        assert instance.rows.snapshot() == before, (slot.name, repr(text), "stored something")
    elif response.status_code < 300:
        read_back()


def check_every_slot(
    instance: Instance,
    slots: list[Slot],
    read_back: Callable[[], Any],
    named: Callable[[Slot, str], Slot] = lambda slot, _: slot,
) -> None:
    """Every slot with every text of `SWEEP`, then texts hypothesis draws into slots it
    picks; `named` gives the slot as a refusal of that text names it."""
    for slot in slots:
        for text in SWEEP:
            check(instance, named(slot, text), text, read_back)

    @RUNS
    @given(st.sampled_from(slots), TEXTS)
    def generated(slot: Slot, text: str) -> None:
        check(instance, named(slot, text), text, read_back)

    generated()


@pytest.fixture
def instance(settings: Settings, database_url: str) -> Iterator[Instance]:
    """The app on this test's store, with an LLM, a catalog, a workspace, a template."""
    app = create_app(settings)
    with TestClient(app, base_url=f"http://{HOST}") as http:
        http.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        ids = seed(http)
        key = http.post(f"/v1/principals/{ids['admin']}/access-keys").json()
        if database_url.startswith("sqlite"):
            rows: SqliteRows | PostgresRows = SqliteRows(
                sqlite3.connect(database_url.split(":///", 1)[1])
            )
        else:
            rows = PostgresRows(database_url)
        try:
            yield Instance(app, http, rows, ids, (key["accessKeyId"], key["accessKeySecret"]))
        finally:
            rows.close()


def created(response: Answer) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def seed(http: TestClient) -> dict[str, str]:
    """One resource of each kind, their ids by name."""
    admin = next(p for p in http.get("/v1/principals").json()["principals"])
    llm = created(http.post("/v1/llms", json=LLM))["llm"]
    group = created(http.post("/v1/model-groups", json={"name": "team"}))
    provider = created(
        http.post(
            "/v1/provider-templates",
            json={
                "modelTemplateId": group["modelTemplateId"],
                "name": "Acme",
                "providerName": "provider-acme",
                "providerType": "Custom",
                "config": {"baseUrl": "https://api.acme.test/v1", "apiKey": "sk-acme-0123456"},
            },
        )
    )
    created(http.post("/v1/workspaces", json={"workspaceId": "ws-text", "name": "Text"}))
    template = created(
        http.post(
            "/v1/workspaces/ws-text/prompt-templates", json={"name": "t", "content": "Hi ${a}"}
        )
    )
    created(http.put("/v1/configs/cn-text/service/svc/k", json={"value": "v"}))
    return {
        "admin": admin["principalId"],
        "llm": llm["llmId"],
        "group": group["modelTemplateId"],
        "provider": provider["providerTemplateId"],
        "template": template["promptTemplateId"],
    }


LLM: dict[str, Any] = {
    "displayName": "GPT",
    "description": "d",
    "providerType": "OPENAI",
    "endpointUrl": "https://api.example.test/v1",
    "apiPath": "/chat/completions",
    "modelIdentifier": "gpt-4o",
    "labels": {"team": "a"},
    "version": "1",
    "clientConfig": {"a": {"b": ["c"]}},
    "defaultSamplingParams": {"stopSequences": ["x"]},
    "credentials": {
        "kind": "CREDENTIAL_KIND_API_KEY",
        "apiKey": {"inlineSecret": "sk-0123456789", "headerName": "Authorization"},
    },
}


def native_bodies(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every native route that takes a JSON body, with a body it accepts."""
    ws, template = "/v1/workspaces/ws-text", f"prompt-templates/{ids['template']}"
    return [
        ("POST", "/v1/llms", LLM),
        (
            "PUT",
            f"/v1/llms/{ids['llm']}",
            {"displayName": "G", "mergeLabels": {"k": "v"}, "clientConfig": {"x": ["y"]}},
        ),
        ("PUT", f"/v1/llms/{ids['llm']}", {"replaceLabels": {"k": "v"}, "description": "d"}),
        (
            "POST",
            f"/v1/llms/{ids['llm']}/credentials:verify",
            {"credentials": LLM["credentials"]},
        ),
        ("POST", "/v1/principals", {"name": "p", "role": "member"}),
        (
            "POST",
            "/v1/model-groups",
            {"name": "g", "description": "d", "agentPlatform": "a", "refScope": "ALL_USER"},
        ),
        (
            "PATCH",
            f"/v1/model-groups/{ids['group']}",
            {"name": "g", "description": "d", "config": {"a": {"b": ["c"]}}},
        ),
        (
            "POST",
            "/v1/provider-templates",
            {
                "modelTemplateId": ids["group"],
                "name": "P",
                "providerName": "provider-p",
                "providerType": "Custom",
                "description": "d",
                "config": {"baseUrl": "https://p.test/v1", "api": "openai", "apiKey": "sk-p"},
            },
        ),
        (
            "PATCH",
            f"/v1/provider-templates/{ids['provider']}",
            {"name": "P", "config": {"apiKey": "sk-q", "apiType": "openai"}},
        ),
        ("POST", f"/v1/provider-templates/{ids['provider']}:verifyApiKey", {"apiKey": "sk"}),
        (
            "POST",
            "/v1/llm-templates:batchCreate",
            {
                "providerTemplateId": ids["provider"],
                "items": [{"llmCode": "m1", "name": "M", "description": "d", "config": {"t": "u"}}],
            },
        ),
        (
            "POST",
            f"/v1/model-groups/{ids['group']}/runtimes",
            {"runtimeType": "t", "runtimeIds": ["r1"]},
        ),
        ("POST", "/v1/workspaces", {"workspaceId": "ws-two", "name": "n"}),
        ("PATCH", ws, {"name": "n"}),
        ("POST", f"{ws}/prompt-templates", {"name": "n", "content": "c ${v}"}),
        ("PATCH", f"{ws}/{template}", {"name": "n", "content": "c"}),
        ("POST", f"{ws}/{template}:render", {"variables": {"a": "b"}}),
        ("PUT", "/v1/configs/cn-text/service/svc/k2", {"value": "v"}),
    ]


def strings_of(value: Any, path: str = "") -> Iterator[tuple[tuple[Any, ...], str, str]]:
    """Every string place of a JSON value: (where, how it is named, "value" or "key")."""
    if isinstance(value, dict):
        for key, child in value.items():
            here = f"{path}.{key}" if path else key
            yield (key,), path or "body", "key"
            for where, field, kind in strings_of(child, here):
                yield (key, *where), field, kind
    elif isinstance(value, list):
        for n, child in enumerate(value):
            for where, field, kind in strings_of(child, f"{path}.{n}"):
                yield (n, *where), field, kind
    elif isinstance(value, str):
        yield (), path, "value"


def put_text(value: Any, where: tuple[Any, ...], kind: str, text: str) -> Any:
    """A copy of `value` with `text` as the string (or key) at `where`."""
    if not where:
        return text
    head, *rest = where
    if isinstance(value, list):
        return [
            put_text(v, tuple(rest), kind, text) if n == head else v for n, v in enumerate(value)
        ]
    if kind == "key" and not rest:
        return {(text if k == head else k): v for k, v in value.items()}
    return {k: (put_text(v, tuple(rest), kind, text) if k == head else v) for k, v in value.items()}


def native_slots(instance: Instance) -> list[Slot]:
    """Every string of every native JSON body, path and query parameter."""
    http, ids = instance.http, instance.ids
    slots = []
    for method, path, body in native_bodies(ids):
        for where, field, kind in strings_of(body):

            def send(
                text: str,
                m: str = method,
                p: str = path,
                b: Any = body,
                w: Any = where,
                k: str = kind,
            ) -> Answer:
                content = json.dumps(put_text(b, w, k, text))  # `\ud800` escapes, as attackers
                return http.request(
                    m, p, content=content, headers={"content-type": "application/json"}
                )

            slots.append(Slot(f"{method} {path} {kind} {'.'.join(map(str, where))}", field, send))
    paths = {
        "llmId": "/v1/llms/{}",
        "modelTemplateId": "/v1/model-groups/{}",
        "workspaceId": "/v1/workspaces/{}/prompt-templates",
        "cluster": "/v1/configs/{}/service/svc/k",
        "key": "/v1/configs/cn-text/service/svc/{}",
        "principalId": "/v1/principals/{}/api-keys",
    }
    for field, template in paths.items():

        def in_path(text: str, t: str = template) -> Answer:
            return (
                http.put(t.format(wire(text)), json={"value": "v"})
                if "configs" in t
                else (http.get(t.format(wire(text))))
            )

        # A NUL is named by its parameter; bytes that are not UTF-8 by `path`.
        slots.append(Slot(f"path {field}", field, in_path))
    queries = {
        "label.team": "/v1/llms",
        "name": "/v1/model-groups",
        "providerName": "/v1/provider-templates",
        "llmCode": "/v1/llm-templates",
        "principalId": "/v1/audit-events",
    }
    for field, route in queries.items():

        def in_query(text: str, f: str = field, r: str = route) -> Answer:
            return http.get(f"{r}?{f}={wire(text)}")

        slots.append(Slot(f"query {field}", field, in_query))
    return slots


def native_named(slot: Slot, text: str) -> Slot:
    """URL text that is not UTF-8 is refused as `path`; anything else by its own name."""
    if slot.name.startswith("path") and "\x00" not in text:
        return Slot(slot.name, "path", slot.send)
    return slot


@pytest.mark.slow
def test_every_native_string_is_checked_where_it_enters(instance: Instance) -> None:
    slots = native_slots(instance)
    http = instance.http

    def read_back() -> None:
        for route in ("/v1/llms", "/v1/model-groups", "/v1/workspaces", "/v1/configs"):
            assert http.get(route).status_code == 200, route

    check_every_slot(instance, slots, read_back, native_named)


def rpc_bases(ids: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Every RPC operation that takes text, with parameters it accepts (lists and objects as
    JSON text)."""
    group, provider = ids["group"], ids["provider"]
    return [
        (
            "CreateModelTemplate",
            {"Name": "g", "Description": "d", "AgentPlatform": "a", "AgentProvider": "b"},
        ),
        ("CreateModelTemplate", {"Name": "g", "RefScope": "ALL_USER", "BizType": "1"}),
        (
            "UpdateModelTemplate",
            {"ModelTemplateId": group, "Name": "g", "Config": {"a": {"b": ["c"]}}},
        ),
        ("ListModelTemplates", {"Name": "g", "ModelTemplateIdList": [group]}),
        ("ListModelTemplates", {"AgentPlatformList": ["a"], "AgentProviderList": ["b"]}),
        (
            "CreateModelProviderTemplate",
            {
                "ModelTemplateId": group,
                "Name": "R",
                "ProviderName": "provider-r",
                "ProviderType": "Custom",
                "Description": "d",
                "Config": {"BaseUrl": "https://r.test/v1", "ApiKey": "sk-r"},
            },
        ),
        (
            "UpdateModelProviderTemplate",
            {"ProviderTemplateId": provider, "Config": {"ApiKey": "k"}},
        ),
        ("GetModelProviderTemplate", {"ProviderTemplateId": provider}),
        ("ListModelProviderTemplates", {"ModelTemplateId": group, "ProviderName": "p"}),
        (
            "BatchCreateLlmTemplates",
            {
                "ProviderTemplateId": provider,
                "LlmTemplateItems": [{"LlmCode": "m2", "Name": "M", "Description": "d"}],
            },
        ),
        ("ListLlmTemplates", {"LlmTemplateIds": ["llmt-x"], "LlmCode": "m"}),
        ("ListModelProviderTemplates", {"ProviderTemplateIds": [provider]}),
        (
            "ConfigRuntimeModelTemplate",
            {"ModelTemplateId": group, "RuntimeType": "t", "RuntimeIds": ["r1"]},
        ),
        ("GetRuntimeModelConfig", {"RuntimeId": "r1", "RuntimeType": "t"}),
        ("ListModelProviderEndpoints", {"ProviderName": "p"}),
    ]


def rpc_slots(instance: Instance) -> list[Slot]:
    """Every RPC parameter as form text, and every string inside one given as JSON text."""
    http, (key_id, secret) = instance.http, instance.access_key
    slots = []
    for action, params in rpc_bases(instance.ids):

        def send(
            text: str, where: tuple[Any, ...], kind: str, a: str = action, p: Any = params
        ) -> Answer:
            form = put_text(p, where, kind, text)
            body = "&".join(
                f"{quote(k)}={wire(v if isinstance(v, str) else json.dumps(v))}"
                for k, v in form.items()
            ).encode()
            headers = signed_call(key_id, secret, a, body=body).headers
            return http.post("/", content=body, headers=headers)

        for name, value in params.items():
            if isinstance(value, str):
                slots.append(
                    Slot(f"{action} {name}", name, partial(send, where=(name,), kind="value"))
                )
                continue
            for where, path, kind in strings_of(value, name):
                if isinstance(value, list):  # a list parameter's items count from 1
                    head, index, *rest = path.split(".")
                    path = ".".join([head, str(int(index) + 1), *rest])
                slots.append(
                    Slot(
                        f"{action} {kind} {path}",
                        path,
                        partial(send, where=(name, *where), kind=kind),
                    )
                )
    return slots


@pytest.mark.slow
def test_every_rpc_string_is_checked_where_it_enters(instance: Instance) -> None:
    slots = rpc_slots(instance)
    key_id, secret = instance.access_key

    def read_back() -> None:
        for action in ("ListModelTemplates", "ListModelProviderTemplates", "ListLlmTemplates"):
            body = b"PageSize=100"
            headers = signed_call(key_id, secret, action, body=body).headers
            assert instance.http.post("/", content=body, headers=headers).status_code == 200

    check_every_slot(instance, slots, read_back)


def roa_send(
    instance: Instance,
    method: str,
    path: str,
    query: dict[str, str],
    body: bytes = b"",
    *,
    version: str = "2023-12-29",
) -> Answer:
    """A ROA call, signed as the SDK signs it when its text can be signed at all (a lone
    surrogate cannot: such a request is refused before its signature is looked at)."""
    key_id, secret = instance.access_key
    raw = "&".join(f"{quote(k)}={wire(v)}" for k, v in query.items())
    signable = not any(is_bad(v) and "\x00" not in v for v in query.values())
    client = RoaClient(instance.app, key_id, secret, version=version)
    headers = client.headers_for(method, path, query, body=body, sign=signable)
    return instance.http.request(
        method, f"{path}?{raw}" if raw else path, content=body, headers=headers
    )


def roa_slots(instance: Instance) -> list[Slot]:
    """bailian's query and path parameters, EAS's body and path parameters."""
    template = instance.ids["template"]
    slots = []
    for method, path, params in (
        ("POST", "/ws-text/promptTemplates", {"name": "n", "content": "c ${v}"}),
        ("PATCH", f"/ws-text/promptTemplates/{template}", {"name": "n", "content": "c"}),
        ("GET", "/ws-text/promptTemplates", {"name": "n"}),
    ):
        for name in params:

            def in_query(
                text: str, m: str = method, p: str = path, q: Any = params, n: str = name
            ) -> Answer:
                return roa_send(instance, m, p, q | {n: text})

            slots.append(Slot(f"bailian {method} {name}", name, in_query))
    for name, shape in (
        ("workspaceId", "/{}/promptTemplates"),
        ("promptTemplateId", "/ws-text/promptTemplates/{}"),
    ):

        def in_path(text: str, s: str = shape) -> Answer:
            return roa_send(instance, "GET", s.format(wire(text)), {})

        slots.append(Slot(f"bailian path {name}", name, in_path))
    eas = "/api/v2/configs/{}/service/{}/{}"
    for method in ("POST", "PUT"):

        def in_body(text: str, m: str = method) -> Answer:
            body = json.dumps({"Value": text}).encode()
            path = eas.format("cn-text", "svc", "k" if m == "PUT" else "k3")
            return roa_send(instance, m, path, {}, body, version=EAS_VERSION)

        slots.append(Slot(f"eas {method} Value", "Value", in_body))
    for n, name in enumerate(("ClusterId", "Name", "ConfigKey")):

        def in_eas_path(text: str, at: int = n) -> Answer:
            parts = ["cn-text", "svc", "k4"]
            parts[at] = wire(text)
            body = b'{"Value": "v"}'
            return roa_send(instance, "POST", eas.format(*parts), {}, body, version=EAS_VERSION)

        slots.append(Slot(f"eas path {name}", name, in_eas_path))
    return slots


@pytest.mark.slow
def test_every_roa_string_is_checked_where_it_enters(instance: Instance) -> None:
    slots = roa_slots(instance)

    def read_back() -> None:
        listed = roa_send(instance, "GET", "/ws-text/promptTemplates", {})
        assert listed.status_code == 200, listed.text
        configs = roa_send(
            instance, "GET", "/api/v2/configs/cn-text/service/svc", {}, version=EAS_VERSION
        )
        assert configs.status_code == 200, configs.text

    check_every_slot(instance, slots, read_back)


def test_rows_older_versions_stored_with_lone_surrogates_are_served_escaped(
    tmp_path: Any,
) -> None:
    """Before text was checked where it entered, JSON columns of SQLite stored `\\ud800`
    escapes (PostgreSQL never could). Such rows are served with each lone surrogate
    written as the six characters `\\ud800`, so that lists keep working."""
    url = f"sqlite:///{tmp_path}/legacy.db"
    settings = Settings(
        database_url=url,
        secret_key="0" * 64,
        bootstrap_token=ADMIN_TOKEN,
        access_log=False,
        rate_limit_per_second=0,
    )
    with TestClient(create_app(settings), base_url=f"http://{HOST}") as http:
        http.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        ids = seed(http)
        batch = {"providerTemplateId": ids["provider"], "items": [{"llmCode": "m"}]}
        created(http.post("/v1/llm-templates:batchCreate", json=batch))
        db = sqlite3.connect(url.split(":///", 1)[1])
        with db:  # what the older versions wrote: the escape, in the JSON text
            db.execute("UPDATE llms SET labels = ?", ('{"k": "a\\ud800"}',))
            db.execute("UPDATE llm_templates SET config = ?", ('{"t": "\\udfff"}',))
        db.close()
        listed = http.get("/v1/llms")
        assert listed.status_code == 200, listed.text
        assert listed.json()["llms"][0]["labels"] == {"k": "a\\ud800"}
        one = http.get(f"/v1/llms/{ids['llm']}")
        assert one.json()["labels"] == {"k": "a\\ud800"}
        templates = http.get("/v1/llm-templates")
        assert templates.status_code == 200, templates.text
        assert templates.json()["llmTemplates"][0]["config"] == {"t": "\\udfff"}
        key = http.post(f"/v1/principals/{ids['admin']}/access-keys").json()
        body = b"PageSize=10"
        headers = signed_call(
            key["accessKeyId"], key["accessKeySecret"], "ListLlmTemplates", body=body
        ).headers
        rpc = http.post("/", content=body, headers=headers)
        assert rpc.status_code == 200, rpc.text
        assert json.loads(rpc.json()["Data"][0]["Config"]) == {"t": "\\udfff"}
