"""Generated raw requests through the whole app: the RPC face, bailian and EAS (SQLite).

Each request is signed (ACS3-HMAC-SHA256 over exactly what is sent) so that the
parsers and the operations behind the signature check are reached. Whatever is sent:
no 5xx, always the face's JSON body with the request id, and a refused request stores
nothing (the resource tables are the same before and after it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes, quote_plus, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelplane.app import create_app
from modelplane.domain.errors import InvalidArgument
from modelplane.faces.aliyun.rpc.routes import OPERATIONS
from modelplane.faces.aliyun.transport import parse_pairs
from modelplane.security.secretbox import new_master_key_text
from modelplane.security.signatures import ACS3, SignedRequest, acs3_signature
from modelplane.services import principals, workspaces
from modelplane.settings import Settings
from tests.integration.test_catalog_services import admin_of
from tests.support.roa import segment, send
from tests.support.store_snapshot import count, snapshot

HOST = "modelplane.test"
TOKEN = "mp_fuzz_aliyun_token_0123456789abcdef"
WS = "ws-fuzz"
RPC_ERROR = {"RequestId", "HostId", "Code", "Message", "Recommend"}
BAILIAN_ERROR = {"requestId", "code", "message"}
EAS_ERROR = {"RequestId", "Code", "Message"}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class Harness:
    """The app with its lifespan running on one event loop, an admin access key, seeds."""

    def __init__(self, directory: Path) -> None:
        database = directory / "fuzz.db"
        extra: dict[str, Any] = {}
        if "rate_limit_per_second" in Settings.model_fields:
            extra["rate_limit_per_second"] = 0
        self.app = create_app(
            Settings(
                database_url=f"sqlite:///{database}",
                secret_key=new_master_key_text(),
                bootstrap_token=TOKEN,
                access_log=False,
                **extra,
            )
        )
        self.runner = asyncio.Runner()
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.runner.run(self.lifespan.__aenter__())
        self.db = sqlite3.connect(database)
        self.access_key_id, self.secret = self.runner.run(self._keys())
        self.group_id = self.rpc_ok("CreateModelTemplate", {"Name": "fuzz", "BizType": "1"})[
            "Data"
        ]["ModelTemplateId"]
        self.provider_id = self.rpc_ok(
            "CreateModelProviderTemplate",
            {
                "ModelTemplateId": self.group_id,
                "ProviderName": "provider-fuzz",
                "ProviderType": "Custom",
                "Config": '{"baseUrl": "https://api.fuzz.test/v1", "api": "openai"}',
            },
        )["Data"]["ProviderTemplateId"]

    async def _keys(self) -> tuple[str, str]:
        store, secrets = self.app.state.store, self.app.state.secrets
        admin = await admin_of(store)
        await workspaces.create_workspace(store=store, actor=admin, name="fuzz", workspace_id=WS)
        issued = await principals.issue_access_key(
            store=store, secrets=secrets, actor=admin, principal_id=admin.principal_id
        )
        return issued.access_key.access_key_id, issued.secret

    def close(self) -> None:
        self.db.close()
        self.runner.run(self.lifespan.__aexit__(None, None, None))
        self.runner.close()

    def send(
        self,
        method: str,
        raw_path: str,
        raw_query: str = "",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """`method raw_path?raw_query` with `body`, signed over exactly what is sent."""
        sent = {
            "host": HOST,
            "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
            **(headers or {}),
        }
        try:
            query = parse_pairs(raw_query, "Query")
        except InvalidArgument:
            query = []  # refused before the signature is looked at
        signed = sorted(h for h in sent if h in {"host", "content-type"} or h.startswith("x-acs-"))
        request = SignedRequest(
            method=method,
            raw_path=raw_path,
            query=query,
            headers={name: [value] for name, value in sent.items()},
            body=body,
        )
        signature = acs3_signature(request, signed, self.secret)
        sent["authorization"] = (
            f"{ACS3} Credential={self.access_key_id},SignedHeaders={';'.join(signed)},"
            f"Signature={signature}"
        )
        return self.runner.run(send(self.app, method, raw_path, raw_query, sent, body))

    def rpc(self, action: str, raw_query: str = "", body: bytes = b"") -> httpx.Response:
        headers = {"x-acs-action": action, "x-acs-version": "2021-09-01"}
        if body:
            headers["content-type"] = "application/x-www-form-urlencoded"
        return self.send("POST", "/", raw_query, body, headers)

    def rpc_ok(self, action: str, form: dict[str, str]) -> dict[str, Any]:
        response = self.rpc(action, body=urlencode(form).encode())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def checked(self, response_of: Any, error_keys: set[str], id_key: str | None) -> Any:
        """Send (via `response_of()`), then check the status, the body and the store."""
        before = snapshot(self.db)
        response: httpx.Response = response_of()
        assert response.status_code < 500, response.text
        request_id = response.headers["x-request-id"]
        body = response.json()
        assert isinstance(body, dict)
        if response.status_code >= 400:
            assert set(body) == error_keys, body
            assert snapshot(self.db) == before, f"refused ({body}) yet stored something"
        if id_key is not None and (response.status_code >= 400 or id_key[0].islower()):
            assert body[id_key] == request_id
        elif response.status_code >= 400:
            assert body["RequestId"] == request_id
        return response


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    instance = Harness(tmp_path_factory.mktemp("aliyun-fuzz"))
    try:
        yield instance
    finally:
        instance.close()


# ---- what clients put in names and values -------------------------------------------------

NAMES = [
    "ModelTemplateId",
    "ProviderTemplateId",
    "ProviderName",
    "ProviderType",
    "Name",
    "Description",
    "BizType",
    "Config",
    "Config.ApiKey",
    "Config.BaseUrl",
    "Config.ApiType",
    "LlmTemplateItems",
    "LlmTemplateIds",
    "ProviderTemplateIds",
    "ModelTemplateIdList",
    "RuntimeIds",
    "RuntimeType",
    "RuntimeId",
    "LlmTemplateId",
    "LlmCode",
    "IsDefaultModel",
    "EnableWuyingProxy",
    "PageNumber",
    "PageSize",
    "Action",
    "Version",
]
FLATTENED = ["LlmTemplateItems", "LlmTemplateIds", "RuntimeIds", "ProviderTemplateIds"]
ITEM_FIELDS = ["LlmCode", "Name", "IsDefaultModel", "Config", "Description", ""]
ODD_TEXT = [
    "",
    " ",
    "+",
    "%",
    "a b",
    "a+b",
    "null",
    "true",
    "True",
    "FALSE",
    "0",
    "-1",
    "2147483648",
    "1e999999",
    "[]",
    "{}",
    '["llmt-1"]',
    '[{"LlmCode": "m", "IsDefaultModel": true}]',
    '{"ApiKey": "k", "BaseUrl": "https://x.test", "ApiType": "openai"}',
    "\u0000",
    "\ufeff",
    "\u202e",
    "\U0001d518\U0001d52b",  # mathematical fraktur letters
    "e\u0301",
    "Custom",
    "Managed",
    "WuyingCredit",
    "provider-x",
    "wuying-credit",
]


@st.composite
def rpc_names(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 3)) == 0:
        base = draw(st.sampled_from(FLATTENED))
        index = draw(st.sampled_from(["1", "2", "3", "0", "01", "-1", "x", "", "1000000"]))
        tail = draw(st.sampled_from(ITEM_FIELDS))
        return f"{base}.{index}.{tail}" if tail else f"{base}.{index}"
    return draw(st.sampled_from(NAMES) | st.text(max_size=12))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def values(harness: Harness) -> st.SearchStrategy[str]:
    ids = st.sampled_from([harness.group_id, harness.provider_id, "mt-missing", "llmt-x"])
    json_text = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | ids,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    ).map(json.dumps)
    return st.one_of(
        st.sampled_from(ODD_TEXT),
        ids,
        json_text,
        st.text(max_size=30),
        st.integers(1, 50_000).map(nested),
        st.integers(1, 300_000).map(lambda n: "x" * n),
    )


def encode_value(text: str, style: str) -> str:
    if style == "plus":
        return quote_plus(text, safe="")
    if style == "pct":
        return quote(text, safe="")
    return quote(text, safe="+/:;,@!$'()*[]{}\"")  # loose: a raw `+` then means a space


JUNK = ["", "&", "=", "novalue", "%FF=1", "x=%C3%28", "%=%", "a=%G0", "%2B=%2b"]


@st.composite
def raw_fields(draw: st.DrawFn, harness: Harness) -> tuple[str, bytes]:
    """A raw query string and a raw form body: pairs split between them, odd fields."""
    pairs: list[tuple[str, str]] = draw(
        st.lists(st.tuples(rpc_names(), values(harness)), max_size=8)
    )
    if pairs and draw(st.booleans()) is True:
        pairs.append(draw(st.sampled_from(pairs)))  # a name twice, with the same value
    query: list[str] = []
    form: list[str] = []
    for name, value in pairs:
        style = draw(st.sampled_from(["plus", "pct", "loose"]))
        field = f"{encode_value(name, style)}={encode_value(value, style)}"
        (query if draw(st.booleans()) else form).append(field)
    query += draw(st.lists(st.sampled_from(JUNK), max_size=1))
    form += draw(st.lists(st.sampled_from(JUNK) | st.binary(max_size=12).map(quote_from_bytes)))
    body = "&".join(form).encode()
    if draw(st.integers(0, 9)) == 0:
        body += draw(st.binary(min_size=1, max_size=8))  # not UTF-8, or not a form
    return "&".join(query), body


# ---- the RPC face ---------------------------------------------------------------------------


@pytest.mark.slow
def test_rpc_any_parameters_answer_an_alibaba_body(harness: Harness) -> None:
    actions = st.sampled_from(sorted(OPERATIONS)) | st.sampled_from(["", "Nope", "../x"])

    codes: Counter[str] = Counter()

    @FUZZ
    @given(action=actions, fields=raw_fields(harness))
    def run(action: str, fields: tuple[str, bytes]) -> None:
        raw_query, body = fields
        response = harness.checked(
            lambda: harness.rpc(action, raw_query, body), RPC_ERROR, "RequestId"
        )
        codes[response.json().get("Code", "OK")] += 1

    run()
    # Signed over exactly what was sent: the requests got past the signature check to the
    # parameters and the operations; the same signing reaches a successful operation.
    assert not codes["SignatureDoesNotMatch"], codes
    assert harness.rpc("ListModelTemplates").status_code == 200


item_fields = st.fixed_dictionaries(
    {"LlmCode": st.sampled_from(["gpt-x", "gpt-y", "", " ", "a" * 200, "m/1", "模型"])},
    optional={
        "IsDefaultModel": st.sampled_from(["true", "True", "false", "yes", ""]),
        "Config": st.sampled_from(['{"contextWindow": 8192}', "[]", "{", '"x"', "{}"]),
        "Name": st.text(max_size=20),
    },
)


@pytest.mark.slow
def test_rpc_batch_create_is_all_or_nothing(harness: Harness) -> None:
    @FUZZ
    @given(
        items=st.lists(item_fields, min_size=0, max_size=5),
        as_json=st.booleans(),
        provider=st.sampled_from([harness.provider_id, "mpt-missing", ""]),
    )
    def run(items: list[dict[str, str]], as_json: bool, provider: str) -> None:
        form = {"ProviderTemplateId": provider}
        if as_json:
            form["LlmTemplateItems"] = json.dumps(items)
        else:
            for n, item in enumerate(items, start=1):
                for key, value in item.items():
                    form[f"LlmTemplateItems.{n}.{key}"] = value
        before = count(harness.db, "llm_templates")
        response = harness.checked(
            lambda: harness.rpc("BatchCreateLlmTemplates", body=urlencode(form).encode()),
            RPC_ERROR,
            "RequestId",
        )
        after = count(harness.db, "llm_templates")
        if response.status_code == 200:
            data = response.json()["Data"]
            assert data["SuccessCount"] + len(data["SkippedItems"]) == data["TotalCount"]
            assert after - before == data["SuccessCount"]
        else:
            assert after == before
        defaults = harness.db.execute(
            "SELECT count(*) FROM llm_templates WHERE is_default_model GROUP BY model_template_id"
        ).fetchall()
        assert all(n <= 1 for (n,) in defaults)

    run()


# ---- the ROA faces --------------------------------------------------------------------------

BAILIAN_VERSION = {"x-acs-version": "2023-12-29", "x-acs-action": "PromptTemplate"}
EAS_VERSION = {"x-acs-version": "2021-07-01", "x-acs-action": "Config"}


@st.composite
def bailian_requests(draw: st.DrawFn) -> tuple[str, str, str]:
    method = draw(st.sampled_from(["POST", "GET", "PATCH", "DELETE", "PUT"]))
    workspace = draw(st.sampled_from([WS, "ws-other", "%2F", "%FF", "a%20b", "ws+1"]))
    path = f"/{workspace}/promptTemplates"
    if draw(st.booleans()):
        template = draw(st.sampled_from(["pt-missing", "%2Fx", "%C3%28", "a" * 300]))
        path += f"/{template}"
    query = []
    for name in draw(
        st.lists(
            st.sampled_from(["name", "content", "type", "maxResults", "nextToken", "x"]), max_size=4
        )
    ):
        value = draw(
            st.sampled_from(["", " ", "${a}", "$${a}", "${", "System", "Custom", "-1", "99"])
            | st.text(max_size=40)
            | st.integers(1, 400_000).map(lambda n: "c" * n)
        )
        style = draw(st.sampled_from(["plus", "pct", "loose"]))
        query.append(f"{name}={encode_value(value, style)}")
    query += draw(st.lists(st.sampled_from(JUNK), max_size=1))
    return method, path, "&".join(query)


@pytest.mark.slow
def test_bailian_any_request_answers_its_error_shape(harness: Harness) -> None:
    @FUZZ
    @given(bailian_requests())
    def run(request: tuple[str, str, str]) -> None:
        method, path, query = request
        harness.checked(
            lambda: harness.send(method, path, query, headers=BAILIAN_VERSION),
            BAILIAN_ERROR,
            "requestId",
        )

    run()


@st.composite
def eas_requests(draw: st.DrawFn) -> tuple[str, str, str, bytes]:
    method = draw(st.sampled_from(["POST", "PUT", "DELETE", "GET", "PATCH"]))
    parts = [
        draw(st.sampled_from(["c1", "c 1", "%2F", "%FF", "a" * 100])),
        draw(st.sampled_from(["service", "Service", "x"])),
        draw(st.sampled_from(["svc", "svc%2Fa", "%00"])),
    ]
    if method != "GET" or draw(st.booleans()):
        key = draw(
            st.sampled_from(["k", "a/b", "a b", "..", "k" * 101, "ключ"]).map(segment)
            | st.sampled_from(["a%2Fb", "%C3%28", "%FF", "a%2fb", "%"])
            | st.text(max_size=20).map(segment)
        )
        parts.append(key)
    path = "/api/v2/configs/" + "/".join(parts)
    query = "&".join(
        f"{name}={value}"
        for name, value in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["Page", "PageSize", "x"]),
                    st.sampled_from(["1", "0", "-1", "201", "abc", "99999999999", ""]),
                ),
                max_size=3,
            )
        )
    )
    value = st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers()))
    body = draw(
        st.sampled_from(
            [b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"Value": "' + b"v" * 10 + b'"}']
        )
        | st.builds(lambda v: json.dumps({"Value": v}).encode(), value)
        | st.builds(lambda n: b'{"Value": ' + b"[" * n + b"]" * n + b"}", st.integers(1, 5000))
    )
    return method, path, query, body


@pytest.mark.slow
def test_eas_any_request_answers_its_error_shape(harness: Harness) -> None:
    @FUZZ
    @given(eas_requests())
    def run(request: tuple[str, str, str, bytes]) -> None:
        method, path, query, body = request
        headers = dict(EAS_VERSION)
        if body:
            headers["content-type"] = "application/json"
        harness.checked(lambda: harness.send(method, path, query, body, headers), EAS_ERROR, None)

    run()


# ---- regressions found by the fuzzing above -------------------------------------------------


def test_bailian_path_not_utf8_is_its_own_400(harness: Harness) -> None:
    """`/%FF/promptTemplates` once fell through to the native 404 (no `requestId`)."""
    for path in ("/%FF/promptTemplates", f"/{WS}/promptTemplates/%C3%28"):
        response = harness.checked(
            lambda path=path: harness.send("GET", path, headers=BAILIAN_VERSION),
            BAILIAN_ERROR,
            "requestId",
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "InvalidParameter"


def test_eas_key_not_utf8_is_refused_and_nothing_stored(harness: Harness) -> None:
    """A `ConfigKey` segment that is not UTF-8 is EAS's own 400, not the native 404."""
    body = b'{"Value": "v"}'
    headers = {**EAS_VERSION, "content-type": "application/json"}
    response = harness.checked(
        lambda: harness.send("POST", "/api/v2/configs/c1/service/svc/%C3%28", "", body, headers),
        EAS_ERROR,
        None,
    )
    assert response.status_code == 400, response.text
    assert "ConfigKey" in response.json()["Message"]
