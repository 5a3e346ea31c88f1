"""Re-encryption of every secret at rest under the current master key."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from modelplane.domain.audit import AuditAction, ResourceType
from modelplane.domain.errors import FailedPrecondition
from modelplane.security.secretbox import SecretBox, SecretBoxError
from modelplane.services.audit import record
from modelplane.services.catalog import provider_key_aad
from modelplane.services.llms import credentials_aad as llm_credentials_aad
from modelplane.services.principals import access_key_aad
from modelplane.services.runtime_keys import runtime_key_aad
from modelplane.services.sealed_values import sealed_key_id, why_unopenable
from modelplane.store.sealed import (
    ACCESS_KEY_SECRETS,
    LLM_CREDENTIALS,
    PROVIDER_API_KEYS,
    RUNTIME_GATEWAY_TOKENS,
    SealedColumn,
    SealedValue,
)
from modelplane.store.uow import Store

# What each sealed column holds (the name used in reports) and its associated data.
KINDS: tuple[tuple[str, SealedColumn, Callable[[str], str]], ...] = (
    ("llmCredentials", LLM_CREDENTIALS, llm_credentials_aad),
    ("providerApiKeys", PROVIDER_API_KEYS, provider_key_aad),
    ("accessKeySecrets", ACCESS_KEY_SECRETS, access_key_aad),
    ("runtimeGatewayTokens", RUNTIME_GATEWAY_TOKENS, runtime_key_aad),
)
# `mp1.<key id>.<data>`; a key id is 12 hex characters (security.secretbox.key_id_of).
# Anything else is not shown in messages: it might be a secret stored unsealed.
_SEALED_FORM = re.compile(r"mp1\.([0-9a-f]{12})\.")


@dataclass(frozen=True)
class RotationReport:
    """Values resealed per kind (with `dry_run`: to be resealed) and those already current."""

    key_id: str
    resealed: dict[str, int]
    already_current: int
    dry_run: bool


@dataclass(frozen=True)
class _Reseal:
    column: SealedColumn
    row_id: str
    old: str
    new: str


@dataclass(frozen=True)
class _Failure:
    column: SealedColumn
    row_id: str
    key_id: str | None
    reason: str

    def describe(self) -> str:
        key = repr(self.key_id) if self.key_id is not None else "unknown (not mp1.<key id>.…)"
        return f"{self.column.name} of row {self.row_id!r} (key id {key}): {self.reason}"


def _reseal(
    secrets: SecretBox, column: SealedColumn, aad: Callable[[str], str], value: SealedValue
) -> _Reseal | _Failure | None:
    """The new sealed value, why it cannot be opened, or None when already current."""
    form = _SEALED_FORM.match(value.sealed)
    if form is None:
        return _Failure(column, value.row_id, None, "not a sealed value")
    key_id = form.group(1)
    if key_id == secrets.key_id:
        return None
    try:
        plaintext = secrets.open(value.sealed, aad=aad(value.row_id))
    except SecretBoxError as exc:  # its message names at most the (checked) key id
        return _Failure(column, value.row_id, key_id, str(exc))
    except ValueError:  # the data part is not base64
        return _Failure(column, value.row_id, key_id, "the sealed data is malformed")
    new = secrets.seal(plaintext, aad=aad(value.row_id))
    return _Reseal(column, value.row_id, value.sealed, new)


def _failed(failures: list[_Failure]) -> FailedPrecondition:
    more = len(failures) - 1
    also = f"; {more} more sealed value(s) cannot be opened either" if more else ""
    return FailedPrecondition(
        f"cannot re-encrypt: {failures[0].describe()}{also}; nothing was changed "
        "(give every older master key as a previous key)"
    )


async def rotate_secrets(
    *, store: Store, secrets: SecretBox, dry_run: bool = False
) -> RotationReport:
    """Reseal every secret at rest that is not under the current key, all or nothing."""
    resealed = {kind: 0 for kind, _, _ in KINDS}
    changes: list[_Reseal] = []
    failures: list[_Failure] = []
    already_current = 0
    async with store.reader() if dry_run else store.writer() as uow:
        for kind, column, aad in KINDS:
            for value in await uow.sealed.values(column, lock=not dry_run):
                outcome = _reseal(secrets, column, aad, value)
                if outcome is None:
                    already_current += 1
                elif isinstance(outcome, _Failure):
                    failures.append(outcome)
                else:
                    changes.append(outcome)
                    resealed[kind] += 1
        if failures:
            raise _failed(failures)
        if not dry_run and changes:
            for change in changes:
                if not await uow.sealed.replace(
                    change.column, change.row_id, old=change.old, new=change.new
                ):  # the rows are locked: only a bug elsewhere gets here
                    raise FailedPrecondition(
                        f"{change.column.name} of row {change.row_id!r} changed during the "
                        "rotation; nothing was changed, run it again"
                    )
            await record(
                uow,
                None,
                AuditAction.ROTATE,
                ResourceType.MASTER_KEY,
                secrets.key_id,
                {"resealed": {kind: n for kind, n in resealed.items() if n}},
            )
            await uow.commit()  # clears the read caches here and on every replica
    return RotationReport(
        key_id=secrets.key_id, resealed=resealed, already_current=already_current, dry_run=dry_run
    )


@dataclass(frozen=True)
class Unopenable:
    """A sealed value the configured master keys cannot open (never holds the secret)."""

    table: str
    column: str
    row_id: str
    key_id: str | None
    reason: str


async def find_unopenable(*, store: Store, secrets: SecretBox) -> tuple[int, list[Unopenable]]:
    """How many sealed values there are, and those that do not open with `secrets`."""
    checked, found = 0, []
    async with store.reader() as uow:
        for _, column, aad in KINDS:
            for value in await uow.sealed.values(column):
                checked += 1
                reason = why_unopenable(secrets, value.sealed, aad=aad(value.row_id))
                if reason is not None:
                    found.append(
                        Unopenable(
                            column.table.name,
                            column.column,
                            value.row_id,
                            sealed_key_id(value.sealed),
                            reason,
                        )
                    )
    return checked, found
