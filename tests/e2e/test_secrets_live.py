"""Secrets at rest against a live server: reads go on while `modelplane rotate-key` runs in
another process, and a server whose keys cannot open some secrets starts, says which, and
refuses only the requests that need them (503, naming the row), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from modelplane.security.secretbox import key_id_of, new_master_key_text, parse_master_key
from modelplane.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.e2e.test_key_rotation import COUNTS, run_cli, seal_snapshot_of, seeded_under
from tests.integration.test_key_rotation import LLM_SECRET, PROVIDER_KEY, Seeded, key_ids, key_of
from tests.support.rpc import RpcClient
from tests.support.server import Server

BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET = "LTAIbootstrapsecrets01", "bootstrap-secret-0123456789ab"


@contextmanager
def live(tmp_path: Path, env: dict[str, str]) -> Iterator[Server]:
    """A server; generous time to start, as the machines that run the suite are shared."""
    server = Server(cwd=tmp_path, env=env).start()
    try:
        server.wait_ready(90)
        yield server
    finally:
        server.stop()


def server_env(settings: Settings, key: str, *previous: str) -> dict[str, str]:
    return {
        "MODELPLANE_DATABASE_URL": settings.database_url,
        "MODELPLANE_SECRET_KEY": key,
        "MODELPLANE_PREVIOUS_SECRET_KEYS": json.dumps(list(previous)),
        "MODELPLANE_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
        "MODELPLANE_RATE_LIMIT_PER_SECOND": "0",  # the reads below come as fast as they can
    }


def reads(http: httpx.AsyncClient, seeded: Seeded) -> dict[str, object]:
    """One request of each read kind; the LLM outline and the provider check decrypt."""
    provider = f"/v1/provider-templates/{seeded.provider_id}"
    calls: dict[str, object] = {
        "GET llm": lambda: http.get(f"/v1/llms/{seeded.llm_id}"),
        "GET llm credentials outline": lambda: http.get(f"/v1/llms/{seeded.llm_id}/credentials"),
        "GET provider": lambda: http.get(provider),
        "POST provider verifyApiKey": lambda: http.post(
            f"{provider}:verifyApiKey", json={"apiKey": PROVIDER_KEY}
        ),
    }
    for access_key_id, secret in seeded.access_keys.items():
        rpc = RpcClient(http, access_key_id, secret)
        calls[f"signed ListModelTemplates ({access_key_id})"] = lambda rpc=rpc: rpc.call(
            "ListModelTemplates"
        )
    return calls


async def test_reads_succeed_throughout_a_rotation_in_another_process(
    settings: Settings, tmp_path: Path
) -> None:
    key_a, key_b = key_of(settings), new_master_key_text()
    seeded = await seeded_under(settings)
    with live(tmp_path, server_env(settings, key_b, key_a)) as server:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"x-api-key": ADMIN_TOKEN}, timeout=30
        ) as http:
            calls = reads(http, seeded)
            done = asyncio.Event()
            answered: Counter[str] = Counter()
            failures: list[str] = []

            async def read_forever(name: str, call: object) -> None:
                while not done.is_set():
                    response = await call()  # type: ignore[operator]
                    answered[name] += 1
                    if response.status_code != 200:
                        failures.append(f"{name}: {response.status_code} {response.text}")
                    if name == "POST provider verifyApiKey":
                        assert response.json() == {"matches": True}, response.text

            readers = [asyncio.create_task(read_forever(n, c)) for n, c in calls.items()]
            await asyncio.sleep(0.3)
            started = time.monotonic()
            before = dict(answered)
            rotated = await run_cli(
                cwd=tmp_path,
                database_url=settings.database_url,
                key=key_b,
                previous=json.dumps([key_a]),
            )
            during = {name: answered[name] - before.get(name, 0) for name in calls}
            await asyncio.sleep(0.3)  # and after it, from the resealed values
            done.set()
            await asyncio.gather(*readers)
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout)["resealed"] == COUNTS
    assert key_ids(await seal_snapshot_of(settings)) == {key_id_of(parse_master_key(key_b))}
    assert failures == []
    assert all(count > 0 for count in during.values()), (during, time.monotonic() - started)


async def test_a_server_starts_and_names_the_secrets_its_keys_cannot_open(
    settings: Settings, tmp_path: Path
) -> None:
    key_a, key_b = key_of(settings), new_master_key_text()
    id_a = key_id_of(parse_master_key(key_a))
    with_bootstrap_key = settings.model_copy(
        update={
            "bootstrap_access_key_id": BOOTSTRAP_KEY_ID,
            "bootstrap_access_key_secret": SecretStr(BOOTSTRAP_SECRET),
        }
    )
    seeded = await seeded_under(with_bootstrap_key)  # everything sealed under key A
    env = server_env(settings, key_b) | {  # key A is not given
        "MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID": BOOTSTRAP_KEY_ID,
        "MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET": BOOTSTRAP_SECRET,
    }
    with live(tmp_path, env) as server:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"x-api-key": ADMIN_TOKEN}, timeout=30
        ) as http:
            # Everything that needs no sealed value works.
            assert (await http.get(f"/v1/llms/{seeded.llm_id}")).status_code == 200
            assert (
                await http.get(f"/v1/provider-templates/{seeded.provider_id}")
            ).status_code == 200
            created = await http.post(
                "/v1/llms",
                json={
                    "displayName": "new under B",
                    "providerType": "OPENAI",
                    "endpointUrl": "https://api.openai.com/v1",
                    "modelIdentifier": "gpt-4o",
                    "credentials": {
                        "kind": "CREDENTIAL_KIND_API_KEY",
                        "apiKey": {"inlineSecret": "sk-new-under-b"},
                    },
                },
            )
            assert created.status_code == 201, created.text
            fresh = created.json()["llm"]["llmId"]
            assert (await http.get(f"/v1/llms/{fresh}/credentials")).status_code == 200
            # The bootstrap access key was resealed with the secret given at start.
            ok = await RpcClient(http, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET).call(
                "ListModelTemplates"
            )
            assert ok.status_code == 200, ok.text

            # What needs a secret sealed under key A: 503, naming the row and the key id.
            outline = await http.get(f"/v1/llms/{seeded.llm_id}/credentials")
            assert outline.status_code == 503, outline.text
            assert outline.json()["code"] == "UNAVAILABLE"
            assert f"LLM {seeded.llm_id!r}" in outline.json()["message"]
            assert f"key id {id_a!r}" in outline.json()["message"]
            verify = await http.post(
                f"/v1/provider-templates/{seeded.provider_id}:verifyApiKey",
                json={"apiKey": PROVIDER_KEY},
            )
            assert verify.status_code == 503, verify.text
            assert f"provider template {seeded.provider_id!r}" in verify.json()["message"]
            bodies = [outline.text, verify.text]
            for access_key_id, secret in seeded.access_keys.items():
                signed = await RpcClient(http, access_key_id, secret).call("ListModelTemplates")
                assert signed.status_code == 503, signed.text
                assert signed.json()["Code"] == "ServiceUnavailable"
                assert f"access key {access_key_id!r}" in signed.json()["Message"]
                bodies.append(signed.text)
        stderr = server.stderr()

    warnings = [
        json.loads(line)
        for line in stderr.splitlines()
        if line.startswith("{") and json.loads(line).get("logger") == "modelplane.secrets"
    ]
    rows = {(w["table"], w["rowId"]) for w in warnings if "rowId" in w}
    assert rows == {
        ("llms", seeded.llm_id),
        ("provider_templates", seeded.provider_id),
        *(("access_keys", key_id) for key_id in seeded.access_keys),
    }
    assert all(w["keyId"] == id_a and w["level"] == "warning" for w in warnings if "rowId" in w)
    (summary,) = [w for w in warnings if "rowId" not in w]
    # 4 of 5: the bootstrap access key was resealed before the check.
    assert summary["unopenable"] == 4 and summary["checked"] == 5, summary
    assert summary["msg"].startswith("4 of 5 secrets at rest cannot be decrypted")
    assert "Traceback" not in stderr
    secrets = [
        key_a,
        key_b,
        LLM_SECRET,
        PROVIDER_KEY,
        BOOTSTRAP_SECRET,
        *seeded.access_keys.values(),
    ]
    assert [s for s in secrets if s in stderr + "".join(bodies)] == []
