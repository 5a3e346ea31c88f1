"""LLM connection use cases."""

from __future__ import annotations

import hmac
import json

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.credentials import Credentials, CredentialsOutline
from modelplane.domain.errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    ViolationCollector,
)
from modelplane.domain.llms import (
    RESOURCE,
    Llm,
    LlmFilter,
    LlmPatch,
    LlmSpec,
    Note,
    apply_patch,
    check_label_filter,
    new_llm,
)
from modelplane.domain.paging import Page, PageRequest
from modelplane.domain.principals import Action, Principal
from modelplane.domain.text import check_length
from modelplane.security.secretbox import SecretBox
from modelplane.services.audit import given_fields, record
from modelplane.services.clock import now_ms
from modelplane.services.ownership import hold_owner
from modelplane.services.sealed_values import open_sealed
from modelplane.store.llms import ID_IN_USE
from modelplane.store.uow import Store, UnitOfWork

SEARCH_MAX = 200  # characters of a list's search text
_DUPLICATE = "an LLM with the same connection already exists for this owner (llmId {other})"


def credentials_aad(llm_id: str) -> str:
    """The associated data that binds sealed credentials to their LLM."""
    return f"llms/{llm_id}/credentials"


def _seal(secrets: SecretBox, llm_id: str, credentials: Credentials | None) -> str | None:
    if credentials is None:
        return None
    payload = json.dumps(credentials.to_sealed_payload(), separators=(",", ":")).encode()
    return secrets.seal(payload, aad=credentials_aad(llm_id))


async def _for_change(uow: UnitOfWork, actor: Principal, llm_id: str, action: Action) -> Llm:
    """The LLM `actor` means to change: unseen ones are NotFound, read-only ones denied."""
    current = await uow.llms.get(llm_id)
    if current is None or not actor.may(Action.READ, RESOURCE, current.owner_id):
        raise NotFound(RESOURCE, llm_id)
    if not actor.may(action, RESOURCE, current.owner_id):
        raise PermissionDenied(f"{action.value}_LLM_OWN or {action.value}_LLM_ANY is required")
    return current


async def create_llm(
    *, store: Store, secrets: SecretBox, actor: Principal, spec: LlmSpec
) -> tuple[Llm, list[Note]]:
    """Create an LLM connection; duplicates and reused ids are AlreadyExists."""
    owner_id = spec.owner_id or actor.principal_id
    llm, notes = new_llm(spec, owner_id=owner_id, actor_id=actor.principal_id, now_ms=now_ms())
    if not actor.may(Action.CREATE, RESOURCE, owner_id):
        raise PermissionDenied("setting another ownerId requires CREATE_LLM_ANY")
    sealed = _seal(secrets, llm.llm_id, spec.credentials)
    async with store.writer() as uow:
        await hold_owner(uow, actor, owner_id)
        if spec.llm_id is not None and await uow.llms.exists(llm.llm_id):
            raise AlreadyExists(RESOURCE, ID_IN_USE)
        other = await uow.llms.find_duplicate(llm)
        if other is not None:
            raise AlreadyExists(RESOURCE, _DUPLICATE.format(other=other))
        await uow.llms.add(llm, credentials_sealed=sealed)
        await record(uow, actor, AuditAction.CREATE, ResourceType.LLM, llm.llm_id)
        await uow.commit()
    return llm, notes


async def get_llm(*, store: Store, actor: Principal, llm_id: str) -> Llm:
    """One LLM the actor may read; others' are NotFound."""

    async def load() -> Llm | None:
        async with store.reader() as uow:
            return await uow.llms.get(llm_id)

    llm = await store.cached(("llm", llm_id), load)
    if llm is None or not actor.may(Action.READ, RESOURCE, llm.owner_id):
        raise NotFound(RESOURCE, llm_id)
    return llm


async def list_llms(*, store: Store, actor: Principal, flt: LlmFilter) -> list[Llm]:
    """The LLMs the actor may read that match `flt`."""
    check_label_filter(flt.labels)
    visible_to = None if actor.sees_all(RESOURCE) else actor.principal_id

    async def load() -> list[Llm]:
        async with store.reader() as uow:
            return await uow.llms.matching(flt, visible_to=visible_to)

    labels = tuple(sorted(flt.labels.items()))
    key = ("llms", flt.owner_id, flt.provider_type, labels, visible_to)
    return list(await store.cached(key, load))


async def list_llm_page(
    *, store: Store, actor: Principal, flt: LlmFilter, search: str | None, page: PageRequest
) -> Page[Llm]:
    """One page of the LLMs the actor may read that match `flt` and `search`, newest first."""
    check_label_filter(flt.labels)
    errors = ViolationCollector()
    if search is not None:
        check_length(search, "q", errors, most=SEARCH_MAX)
    errors.raise_if_any()
    visible_to = None if actor.sees_all(RESOURCE) else actor.principal_id
    async with store.reader() as uow:
        items, total = await uow.llms.page(
            flt, visible_to=visible_to, search=search, offset=page.offset, limit=page.size
        )
    return Page(items=items, number=page.number, size=page.size, total=total)


async def update_llm(
    *, store: Store, secrets: SecretBox, actor: Principal, llm_id: str, patch: LlmPatch
) -> Llm:
    """Change the given fields; a duplicate after the change is AlreadyExists."""
    sealed = _seal(secrets, llm_id, patch.credentials)
    async with store.writer() as uow:
        current = await _for_change(uow, actor, llm_id, Action.UPDATE)
        updated = apply_patch(current, patch, actor_id=actor.principal_id, now_ms=now_ms())
        other = await uow.llms.find_duplicate(updated)
        if other is not None:
            raise AlreadyExists(RESOURCE, _DUPLICATE.format(other=other))
        await uow.llms.update(updated, credentials_sealed=sealed)
        details = {"fields": given_fields(patch)}
        await record(uow, actor, AuditAction.UPDATE, ResourceType.LLM, llm_id, details)
        await uow.commit()
    return updated


async def delete_llm(*, store: Store, actor: Principal, llm_id: str) -> None:
    """Delete an LLM and its sealed credentials."""
    async with store.writer() as uow:
        await _for_change(uow, actor, llm_id, Action.DELETE)
        await uow.llms.delete(llm_id)
        await record(uow, actor, AuditAction.DELETE, ResourceType.LLM, llm_id)
        await uow.commit()


async def read_credentials(*, store: Store, secrets: SecretBox, llm_id: str) -> Credentials | None:
    """Decrypt an LLM's credentials (for in-process use such as key rotation)."""
    async with store.reader() as uow:
        sealed = await uow.llms.sealed_credentials(llm_id)
    return _opened(secrets, llm_id, sealed)


def _opened(secrets: SecretBox, llm_id: str, sealed: str | None) -> Credentials | None:
    if sealed is None:
        return None
    what = f"LLM {llm_id!r}"
    data = json.loads(open_sealed(secrets, sealed, aad=credentials_aad(llm_id), what=what))
    return Credentials.from_sealed_payload(data)


async def credentials_outline(
    *, store: Store, secrets: SecretBox, actor: Principal, llm_id: str
) -> CredentialsOutline | None:
    """What may be shown of an LLM's credentials: all but the inline secret."""
    async with store.reader() as uow:  # one read: the LLM cannot vanish in between
        llm = await uow.llms.get(llm_id)
        if llm is None or not actor.may(Action.READ, RESOURCE, llm.owner_id):
            raise NotFound(RESOURCE, llm_id)
        sealed = await uow.llms.sealed_credentials(llm_id)
    credentials = _opened(secrets, llm_id, sealed)
    return CredentialsOutline.of(credentials) if credentials is not None else None


async def verify_credentials(
    *, store: Store, actor: Principal, llm_id: str, credentials: Credentials
) -> bool:
    """Whether `credentials` equal the stored ones (by fingerprint); needs UPDATE."""
    errors = ViolationCollector()
    credentials.validate("credentials", errors)
    errors.raise_if_any()
    async with store.reader() as uow:
        current = await _for_change(uow, actor, llm_id, Action.UPDATE)
    stored = current.credentials_fingerprint or ""
    return hmac.compare_digest(stored, credentials.fingerprint())
