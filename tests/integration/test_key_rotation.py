"""Re-encryption of every secret at rest under a new master key, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from modelplane.app import create_app
from modelplane.domain.credentials import ApiKeyCredential, CredentialKind, Credentials
from modelplane.domain.errors import FailedPrecondition
from modelplane.domain.llm_types import ProviderType
from modelplane.domain.llms import LlmSpec
from modelplane.domain.principals import Principal
from modelplane.security.secretbox import (
    SecretBox,
    SecretBoxError,
    key_id_of,
    new_master_key_text,
    parse_master_key,
)
from modelplane.services import catalog, llms, principals
from modelplane.services.key_rotation import rotate_secrets
from modelplane.settings import Settings
from modelplane.store.sealed import ACCESS_KEY_SECRETS, SEALED_COLUMNS
from modelplane.store.uow import Store
from tests.conftest import ADMIN_TOKEN
from tests.support.rpc import HOST, RpcClient

LLM_SECRET = "sk-rotation-inline-secret-0001"
PROVIDER_KEY = "sk-rotation-provider-0123456789WXYZ"
PROVIDER_HINT = "sk-****WXYZ"


@dataclass(frozen=True)
class Seeded:
    """What `seed` created: ids and the plaintext secrets sealed for them."""

    llm_id: str
    provider_id: str
    access_keys: dict[str, str]  # access key id -> secret

    @property
    def plaintexts(self) -> list[str]:
        return [LLM_SECRET, PROVIDER_KEY, *self.access_keys.values()]


def box(key: str, *previous: str) -> SecretBox:
    return SecretBox(parse_master_key(key), [parse_master_key(k) for k in previous])


def key_of(settings: Settings) -> str:
    assert settings.secret_key is not None
    return settings.secret_key.get_secret_value()


def with_keys(settings: Settings, key: str, *previous: str) -> Settings:
    return settings.model_copy(
        update={
            "secret_key": SecretStr(key),
            "previous_secret_keys": [SecretStr(k) for k in previous],
        }
    )


async def admin_of(store: Store) -> Principal:
    async with store.reader() as uow:
        found = await uow.principals.get_by_name("bootstrap-admin")
    assert found is not None
    return found


async def seed(store: Store, secrets: SecretBox) -> Seeded:
    """One LLM with inline credentials, one provider with an API key, two access keys,
    and one LLM and one provider without any secret (their columns stay NULL)."""
    admin = await admin_of(store)
    llm, _ = await llms.create_llm(
        store=store,
        secrets=secrets,
        actor=admin,
        spec=LlmSpec(
            display_name="rotated",
            model_identifier="gpt-4o",
            provider_type=ProviderType.OPENAI,
            endpoint_url="https://api.openai.com/v1",
            credentials=Credentials(
                CredentialKind.API_KEY,
                ApiKeyCredential(inline_secret=LLM_SECRET, header_name="X-Key"),
            ),
        ),
    )
    await llms.create_llm(
        store=store,
        secrets=secrets,
        actor=admin,
        spec=LlmSpec(
            display_name="no secret",
            model_identifier="gpt-4o-mini",
            provider_type=ProviderType.OPENAI,
            endpoint_url="https://api.openai.com/v1",
        ),
    )
    group = await catalog.create_group(store=store, actor=admin, name="rotation")
    provider = await catalog.create_provider(
        store=store,
        secrets=secrets,
        actor=admin,
        group_id=group.model_template_id,
        name="Acme",
        provider_name="provider-acme",
        provider_type="Custom",
        config={"baseUrl": "https://api.acme.test/v1", "apiKey": PROVIDER_KEY},
    )
    await catalog.create_provider(
        store=store,
        secrets=secrets,
        actor=admin,
        group_id=group.model_template_id,
        name="Keyless",
        provider_name="provider-keyless",
        provider_type="Custom",
        config={"baseUrl": "https://api.keyless.test/v1"},
    )
    member = await principals.create_principal(
        store=store, actor=admin, name="rotation-member", role="member"
    )
    keys = {}
    for principal_id in (admin.principal_id, member.principal_id):
        issued = await principals.issue_access_key(
            store=store, secrets=secrets, actor=admin, principal_id=principal_id
        )
        keys[issued.access_key.access_key_id] = issued.secret
    return Seeded(llm.llm_id, provider.provider_template_id, keys)


async def sealed_snapshot(store: Store) -> dict[tuple[str, str], str]:
    """Every sealed value in the database, by (table.column, row id)."""
    async with store.reader() as uow:
        return {
            (column.name, value.row_id): value.sealed
            for column in SEALED_COLUMNS
            for value in await uow.sealed.values(column)
        }


def key_ids(snapshot: dict[tuple[str, str], str]) -> set[str]:
    return {sealed.split(".")[1] for sealed in snapshot.values()}


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Another application instance on the same database, with its own keys."""
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application),
            base_url=f"http://{HOST}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as http,
    ):
        yield application, http


async def signed_calls_succeed(http: httpx.AsyncClient, seeded: Seeded) -> None:
    for access_key_id, secret in seeded.access_keys.items():
        response = await RpcClient(http, access_key_id, secret).call("ListModelTemplates")
        assert response.status_code == 200, response.text


async def test_rotation_reseals_everything_under_the_new_key(
    app: FastAPI, settings: Settings
) -> None:
    key_a, key_b = key_of(settings), new_master_key_text()
    id_a, id_b = key_id_of(parse_master_key(key_a)), key_id_of(parse_master_key(key_b))
    seeded = await seed(app.state.store, app.state.secrets)
    assert key_ids(await sealed_snapshot(app.state.store)) == {id_a}

    async with running(with_keys(settings, key_b, key_a)) as (transition, http):
        await signed_calls_succeed(http, seeded)  # the plaintext secrets are now cached
        made = await http.post(
            "/v1/llms",
            json={
                "displayName": "sealed under B already",
                "providerType": "OPENAI",
                "endpointUrl": "https://api.openai.com/v1",
                "modelIdentifier": "gpt-4-turbo",
                "credentials": {
                    "kind": "CREDENTIAL_KIND_API_KEY",
                    "apiKey": {"inlineSecret": "sk-already-current"},
                },
            },
        )
        assert made.status_code == 201, made.text
        store, secrets = transition.state.store, transition.state.secrets

        report = await rotate_secrets(store=store, secrets=secrets)
        assert report.key_id == id_b and report.dry_run is False
        assert report.resealed == {
            "llmCredentials": 1,
            "providerApiKeys": 1,
            "accessKeySecrets": 2,
            "runtimeGatewayTokens": 0,
        }
        assert report.already_current == 1

        after = await sealed_snapshot(store)
        assert len(after) == 5 and key_ids(after) == {id_b}
        assert all(p not in sealed for p in seeded.plaintexts for sealed in after.values())
        old_box = box(key_a)
        for (column, row_id), sealed in after.items():
            aad = {
                "llms.credentials_sealed": f"llms/{row_id}/credentials",
                "provider_templates.api_key_sealed": catalog.provider_key_aad(row_id),
                "access_keys.secret_sealed": principals.access_key_aad(row_id),
            }[column]
            with pytest.raises(SecretBoxError):  # really re-encrypted, not just relabelled
                old_box.open(sealed, aad=aad)
        await signed_calls_succeed(http, seeded)  # this instance's cache did not go stale

        again = await rotate_secrets(store=store, secrets=secrets)
        assert sum(again.resealed.values()) == 0 and again.already_current == 5
        assert await sealed_snapshot(store) == after

    async with running(with_keys(settings, key_b)) as (only_b, http):
        await signed_calls_succeed(http, seeded)
        shown = await http.get(f"/v1/provider-templates/{seeded.provider_id}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["config"]["apiKey"] == PROVIDER_HINT
        store, secrets = only_b.state.store, only_b.state.secrets
        credentials = await llms.read_credentials(
            store=store, secrets=secrets, llm_id=seeded.llm_id
        )
        assert credentials is not None and credentials.api_key is not None
        assert credentials.api_key.inline_secret == LLM_SECRET
        assert credentials.api_key.header_name == "X-Key"
        async with store.reader() as uow:
            sealed_key = await uow.catalog.sealed_api_key(seeded.provider_id)
        assert sealed_key is not None
        opened = secrets.open(sealed_key, aad=catalog.provider_key_aad(seeded.provider_id))
        assert opened.decode() == PROVIDER_KEY
        last = await rotate_secrets(store=store, secrets=secrets)
        assert sum(last.resealed.values()) == 0 and last.already_current == 5


async def test_a_dry_run_counts_but_writes_nothing(app: FastAPI, settings: Settings) -> None:
    key_a, key_b = key_of(settings), new_master_key_text()
    store = app.state.store
    seeded = await seed(store, app.state.secrets)
    before = await sealed_snapshot(store)

    report = await rotate_secrets(store=store, secrets=box(key_b, key_a), dry_run=True)
    assert report.dry_run is True
    assert report.resealed == {
        "llmCredentials": 1,
        "providerApiKeys": 1,
        "accessKeySecrets": 2,
        "runtimeGatewayTokens": 0,
    }
    assert report.already_current == 0
    assert await sealed_snapshot(store) == before
    # Still readable with key A alone: nothing moved to B.
    async with running(settings) as (_, http):
        await signed_calls_succeed(http, seeded)


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("damage", ["unknown key", "moved from another row", "not sealed"])
async def test_a_value_that_cannot_be_opened_stops_the_rotation_before_any_write(
    app: FastAPI, settings: Settings, damage: str, dry_run: bool
) -> None:
    key_a, key_b, key_c = key_of(settings), new_master_key_text(), new_master_key_text()
    store = app.state.store
    seeded = await seed(store, app.state.secrets)
    victim, donor = sorted(seeded.access_keys)
    before = await sealed_snapshot(store)
    old = before[(ACCESS_KEY_SECRETS.name, victim)]
    broken = {
        "unknown key": box(key_c).seal(b"sk-under-c", aad=principals.access_key_aad(victim)),
        "moved from another row": before[(ACCESS_KEY_SECRETS.name, donor)],
        "not sealed": "sk-plain.text-secret.value",
    }[damage]
    async with store.writer() as uow:
        assert await uow.sealed.replace(ACCESS_KEY_SECRETS, victim, old=old, new=broken)
        await uow.commit()
    before = await sealed_snapshot(store)

    with pytest.raises(FailedPrecondition) as caught:
        await rotate_secrets(store=store, secrets=box(key_b, key_a), dry_run=dry_run)
    message = caught.value.message
    assert f"access_keys.secret_sealed of row {victim!r}" in message
    assert "nothing was changed" in message
    expected = {
        "unknown key": f"key id {key_id_of(parse_master_key(key_c))!r}",
        "moved from another row": f"key id {key_id_of(parse_master_key(key_a))!r}",
        "not sealed": "not a sealed value",
    }[damage]
    assert expected in message, message
    leaks = [*seeded.plaintexts, "sk-under-c", "sk-plain", "text-secret"]
    leaks += [sealed.split(".")[-1] for sealed in before.values() if sealed.startswith("mp1.")]
    assert not [leak for leak in leaks if leak in message]
    assert await sealed_snapshot(store) == before  # not even the good values moved to B


async def test_every_damaged_value_is_counted_in_the_message(
    app: FastAPI, settings: Settings
) -> None:
    key_a, key_b, key_c = key_of(settings), new_master_key_text(), new_master_key_text()
    store = app.state.store
    lost = box(key_c)
    seeded = await seed(store, lost)  # everything sealed under a key nobody gives
    with pytest.raises(FailedPrecondition) as caught:
        await rotate_secrets(store=store, secrets=box(key_b, key_a))
    assert "llms.credentials_sealed of row" in caught.value.message
    assert f"row {seeded.llm_id!r}" in caught.value.message
    assert "3 more sealed value(s) cannot be opened either" in caught.value.message
