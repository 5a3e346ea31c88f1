"""Gateway use cases: what a model name means for a caller, and which names there are.

A resolved route holds its targets' keys decrypted, in this process's read cache only:
every change to the registry, on any replica, clears that cache (the change feed), so the
next call resolves again and uses the new key, endpoint or default at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from modelplane.domain.catalog import LlmTemplate, ModelGroup, ProviderTemplate
from modelplane.domain.credentials import CredentialKind, Credentials
from modelplane.domain.errors import DomainError, InvalidArgument, NotFound
from modelplane.domain.gateway import (
    GATEWAY,
    Route,
    Target,
    auth_header,
    family_of_connection,
    family_of_provider,
    weight_of,
)
from modelplane.domain.llms import RESOURCE as LLMS
from modelplane.domain.llms import Llm, LlmFilter
from modelplane.domain.prices import config_prices
from modelplane.domain.principals import Principal
from modelplane.domain.usage import connection_prices
from modelplane.security.secretbox import SecretBox
from modelplane.services.catalog import RESOURCE as GROUPS
from modelplane.services.catalog import provider_key_aad
from modelplane.services.llms import credentials_aad
from modelplane.services.sealed_values import open_sealed
from modelplane.store.uow import Store, UnitOfWork

FIELD = "model"


@dataclass(frozen=True, slots=True)
class ModelName:
    """A name the caller may use, and what it means (for `GET /models`): the model group
    it resolves through, if any."""

    name: str
    owner_id: str
    created_at: int
    group_id: str | None = None


def _visible(actor: Principal, resource: str) -> str | None:
    return None if actor.sees_all(resource) else actor.principal_id


async def resolve(
    *, store: Store, secrets: SecretBox, actor: Principal, name: str, environ: Mapping[str, str]
) -> Route:
    """The pool of targets `name` means for `actor`; NotFound, or InvalidArgument when it is
    ambiguous or none of its targets can be called. Kept until the registry changes."""

    async def load() -> Route | DomainError:
        try:
            async with store.reader() as uow:
                return await _route(uow, secrets, actor, name, environ)
        except (NotFound, InvalidArgument) as exc:
            return exc

    found = await store.cached(("gateway-route", actor.principal_id, name), load)
    if isinstance(found, DomainError):
        raise found
    return found


async def _route(
    uow: UnitOfWork,
    secrets: SecretBox,
    actor: Principal,
    name: str,
    environ: Mapping[str, str],
) -> Route:
    head, _, rest = name.partition("/")
    groups = await uow.catalog.groups_by_key(head, visible_to=_visible(actor, GROUPS))
    if len(groups) > 1:
        ids = ", ".join(g.model_template_id for g in groups)
        raise InvalidArgument.of(
            FIELD, f"{head!r} names {len(groups)} model groups; name one by its id: {ids}"
        )
    if groups:
        targets = await _group_targets(uow, secrets, groups[0], rest, name)
    else:
        targets = await _connection_targets(uow, secrets, actor, name, environ)
    return Route(name, tuple(targets))


async def _group_targets(
    uow: UnitOfWork, secrets: SecretBox, group: ModelGroup, rest: str, name: str
) -> list[Target]:
    offers = await uow.catalog.offers([group.model_template_id])
    if not rest:
        pointer = group.default_model
        if pointer is None:
            raise InvalidArgument.of(
                FIELD,
                f"model group {group.name!r} has no default model; name one as "
                f"{group.name}/LLMCODE",
            )
        provider_name, _, code = pointer.partition("/")
        chosen = [o for o in offers if (o[0].provider_name, o[1].llm_code) == (provider_name, code)]
    else:
        provider_name, _, code = rest.partition("/")
        chosen = [o for o in offers if (o[0].provider_name, o[1].llm_code) == (provider_name, code)]
        if not chosen:  # GROUP/LLMCODE: every provider of the group that offers the code
            chosen = [o for o in offers if o[1].llm_code == rest]
    if not chosen:
        raise NotFound(GATEWAY, name)
    return _usable([partial(_offer_target, secrets, group, *offer) for offer in chosen])


def _offer_target(
    secrets: SecretBox,
    group: ModelGroup,
    provider: ProviderTemplate,
    template: LlmTemplate,
    sealed_key: str | None,
) -> Target:
    member = f"{group.model_template_id}/{provider.provider_name}/{template.llm_code}"
    if not provider.base_url:
        raise InvalidArgument.of(
            FIELD, f"provider {provider.provider_name!r} of {group.name!r} has no baseUrl"
        )
    family = family_of_provider(provider.api)
    auth = None
    if sealed_key is not None:
        what = f"provider template {provider.provider_template_id!r}"
        aad = provider_key_aad(provider.provider_template_id)
        key = open_sealed(secrets, sealed_key, aad=aad, what=what).decode()
        auth = auth_header(family, key, None, None)
    return Target(
        member=member,
        family=family,
        base_url=provider.base_url,
        model=template.llm_code,
        auth=auth,
        weight=weight_of(template.config),
        prices=config_prices(template.config),
    )


async def _connection_targets(
    uow: UnitOfWork, secrets: SecretBox, actor: Principal, name: str, environ: Mapping[str, str]
) -> list[Target]:
    found = await uow.llms.by_key(name, visible_to=_visible(actor, LLMS))
    by_id = [pair for pair in found if pair[0].llm_id == name]
    # By identifier, the caller's own connections form the pool (an admin's too).
    chosen = by_id or [pair for pair in found if pair[0].owner_id == actor.principal_id]
    if not chosen:
        raise NotFound(GATEWAY, name)
    return _usable([partial(_connection_target, secrets, *pair, environ) for pair in chosen])


def _usable(makers: list[Callable[[], Target]]) -> list[Target]:
    """The targets that can be called; a pool keeps its other members when one cannot be
    (a key missing from the environment), and is refused only when none can."""
    targets, reasons = [], []
    for make in makers:
        try:
            targets.append(make())
        except InvalidArgument as exc:
            reasons.append(exc.message)
    if not targets:
        raise InvalidArgument.of(FIELD, "; ".join(r.removeprefix(f"{FIELD}: ") for r in reasons))
    return targets


def _connection_target(
    secrets: SecretBox, llm: Llm, sealed: str | None, environ: Mapping[str, str]
) -> Target:
    family = family_of_connection(llm.api_path)
    auth = None
    if sealed is not None:
        data = open_sealed(
            secrets, sealed, aad=credentials_aad(llm.llm_id), what=f"LLM {llm.llm_id!r}"
        )
        auth = _credentials_header(llm, Credentials.from_sealed_payload(json.loads(data)), environ)
    chat_path = llm.api_path if family.value == "openai" else "/chat/completions"
    return Target(
        member=f"llm/{llm.llm_id}",
        family=family,
        base_url=llm.endpoint_url,
        model=llm.model_identifier,
        auth=auth,
        chat_path=chat_path,
        sampling=llm.default_sampling_params,
        weight=weight_of(llm.client_config),
        prices=connection_prices(llm.client_config, llm.model_identifier),
    )


def _credentials_header(
    llm: Llm, credentials: Credentials, environ: Mapping[str, str]
) -> tuple[str, str] | None:
    if credentials.kind is not CredentialKind.API_KEY or credentials.api_key is None:
        if credentials.kind is CredentialKind.GCP_ADC:
            raise InvalidArgument.of(
                FIELD,
                f"LLM {llm.llm_id!r} uses GCP application-default credentials, which "
                "the gateway does not send; give it an API key",
            )
        return None
    key = credentials.api_key
    secret = key.inline_secret
    if secret is None and key.secret_ref is not None:
        variable = key.secret_ref.removeprefix("env://")
        secret = environ.get(variable)
        if not secret:
            raise InvalidArgument.of(
                FIELD,
                f"LLM {llm.llm_id!r} reads its key from {key.secret_ref}, which the "
                "gateway may not read: not set in its environment, or not listed in "
                "MODELPLANE_GATEWAY_ENV_KEYS",
            )
    if secret is None:
        return None
    return auth_header(family_of_connection(llm.api_path), secret, key.header_name, key.prefix)


async def model_names(*, store: Store, actor: Principal) -> list[ModelName]:
    """Every name `actor` may call: groups (by name), their codes and provider codes, and
    the actor's connections (by id and by model identifier)."""
    async with store.reader() as uow:
        groups = await uow.catalog.all_groups(visible_to=_visible(actor, GROUPS))
        offers = await uow.catalog.offers([g.model_template_id for g in groups])
        connections = await uow.llms.matching(
            LlmFilter(owner_id=actor.principal_id), visible_to=None
        )
    by_id = {g.model_template_id: g for g in groups}
    names: dict[str, ModelName] = {}

    def add(name: str, owner_id: str, created_at: int, group_id: str | None = None) -> None:
        names.setdefault(name, ModelName(name, owner_id, created_at, group_id))

    for group in groups:
        if group.default_model is not None:
            add(group.name, group.owner_id, group.created_at, group.model_template_id)
            add(group.model_template_id, group.owner_id, group.created_at, group.model_template_id)
    for provider, template, _ in offers:
        group = by_id[provider.model_template_id]
        group_id = group.model_template_id
        add(f"{group.name}/{template.llm_code}", group.owner_id, template.created_at, group_id)
        add(
            f"{group.name}/{provider.provider_name}/{template.llm_code}",
            group.owner_id,
            template.created_at,
            group_id,
        )
    for llm in connections:
        add(llm.model_identifier, llm.owner_id, llm.created_at)
        add(llm.llm_id, llm.owner_id, llm.created_at)
    return list(names.values())
