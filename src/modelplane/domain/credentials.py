"""Provider credentials of an LLM connection and their fingerprint.

The plaintext lives only in memory between the request and the secret box; the
store keeps the sealed form and the fingerprint (SHA-256 of a canonical JSON form).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from modelplane.domain.errors import ViolationCollector
from modelplane.domain.text import check_length

SECRET_REF_PATTERN = re.compile(r"^env://[A-Za-z_][A-Za-z0-9_]{0,127}$")
HEADER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
MAX_SECRET_LENGTH = 8192
PREFIX_MAX = 64


class CredentialKind(StrEnum):
    """Wire enum `credentials.kind`."""

    UNSPECIFIED = "CREDENTIAL_KIND_UNSPECIFIED"
    API_KEY = "CREDENTIAL_KIND_API_KEY"
    GCP_ADC = "CREDENTIAL_KIND_GCP_ADC"


@dataclass(frozen=True, slots=True)
class ApiKeyCredential:
    """An API key given inline or as a reference such as `env://NAME`."""

    inline_secret: str | None = None
    secret_ref: str | None = None
    secret_ref_hints: dict[str, str] = field(default_factory=dict)
    header_name: str | None = None
    prefix: str | None = None


@dataclass(frozen=True, slots=True)
class GcpAdcCredential:
    """Google application-default credentials: no secret, only scopes."""

    scopes: tuple[str, ...] = ()
    quota_project_id: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """How modelplane's clients authenticate to the provider."""

    kind: CredentialKind
    api_key: ApiKeyCredential | None = None
    gcp_adc: GcpAdcCredential | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def validate(self, path: str, errors: ViolationCollector) -> None:
        """Record every broken rule under the wire path `path`."""
        if self.kind is CredentialKind.API_KEY:
            if self.gcp_adc is not None:
                errors.add(f"{path}.gcpAdc", "not allowed with CREDENTIAL_KIND_API_KEY")
            if self.api_key is None:
                errors.add(f"{path}.apiKey", "required with CREDENTIAL_KIND_API_KEY")
                return
            _validate_api_key(self.api_key, f"{path}.apiKey", errors)
        elif self.kind is CredentialKind.GCP_ADC:
            if self.api_key is not None:
                errors.add(f"{path}.apiKey", "not allowed with CREDENTIAL_KIND_GCP_ADC")
            if self.gcp_adc is None:
                errors.add(f"{path}.gcpAdc", "required with CREDENTIAL_KIND_GCP_ADC")
        elif self.api_key is not None or self.gcp_adc is not None:
            errors.add(f"{path}.kind", "CREDENTIAL_KIND_UNSPECIFIED takes no credential payload")

    def to_canonical(self) -> dict[str, Any]:
        """A JSON-ready form with every field present; the input of the fingerprint."""
        api_key = None
        if self.api_key is not None:
            api_key = {
                "inlineSecret": self.api_key.inline_secret,
                "secretRef": self.api_key.secret_ref,
                "secretRefHints": dict(sorted(self.api_key.secret_ref_hints.items())),
                "headerName": (self.api_key.header_name or "Authorization").lower(),
                "prefix": self.api_key.prefix,
            }
        gcp = None
        if self.gcp_adc is not None:
            gcp = {
                "scopes": sorted(self.gcp_adc.scopes),
                "quotaProjectId": self.gcp_adc.quota_project_id,
            }
        return {"kind": self.kind.value, "apiKey": api_key, "gcpAdc": gcp}

    def fingerprint(self) -> str:
        """SHA-256 (hex) over the canonical JSON form; labels do not take part."""
        text = json.dumps(self.to_canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_sealed_payload(self) -> dict[str, Any]:
        """The full form kept encrypted at rest: as given, labels included."""
        payload = {**self.to_canonical(), "labels": dict(self.labels)}
        if self.api_key is not None:
            payload["apiKey"]["headerName"] = self.api_key.header_name
        return payload

    @classmethod
    def from_sealed_payload(cls, data: dict[str, Any]) -> Credentials:
        """Rebuild from `to_sealed_payload` output."""
        api_key = None
        if data.get("apiKey"):
            raw = data["apiKey"]
            api_key = ApiKeyCredential(
                inline_secret=raw.get("inlineSecret"),
                secret_ref=raw.get("secretRef"),
                secret_ref_hints=dict(raw.get("secretRefHints") or {}),
                header_name=raw.get("headerName"),
                prefix=raw.get("prefix"),
            )
        gcp = None
        if data.get("gcpAdc"):
            raw = data["gcpAdc"]
            gcp = GcpAdcCredential(
                scopes=tuple(raw.get("scopes") or ()), quota_project_id=raw.get("quotaProjectId")
            )
        return cls(
            kind=CredentialKind(data["kind"]),
            api_key=api_key,
            gcp_adc=gcp,
            labels=dict(data.get("labels") or {}),
        )


@dataclass(frozen=True, slots=True)
class CredentialsOutline:
    """Credentials with the inline secret taken out: what may be shown of them."""

    credentials: Credentials
    has_inline_secret: bool

    @classmethod
    def of(cls, credentials: Credentials) -> CredentialsOutline:
        """The outline of `credentials` (references, header and prefix stay)."""
        key = credentials.api_key
        if key is None or key.inline_secret is None:
            return cls(credentials, has_inline_secret=False)
        bare = ApiKeyCredential(
            secret_ref=key.secret_ref,
            secret_ref_hints=dict(key.secret_ref_hints),
            header_name=key.header_name,
            prefix=key.prefix,
        )
        outline = Credentials(credentials.kind, bare, credentials.gcp_adc, dict(credentials.labels))
        return cls(outline, has_inline_secret=True)


def _validate_api_key(key: ApiKeyCredential, path: str, errors: ViolationCollector) -> None:
    if (key.inline_secret is None) == (key.secret_ref is None):
        errors.add(path, "exactly one of inlineSecret or secretRef must be set")
    if key.inline_secret is not None:
        check_length(
            key.inline_secret, f"{path}.inlineSecret", errors, most=MAX_SECRET_LENGTH, required=True
        )
    if key.secret_ref is not None and not SECRET_REF_PATTERN.match(key.secret_ref):
        errors.add(f"{path}.secretRef.uri", "must be env://NAME with NAME a variable name")
    if key.header_name is not None and not HEADER_NAME_PATTERN.match(key.header_name):
        errors.add(f"{path}.headerName", "must be an HTTP header name (1..128 token chars)")
    check_length(key.prefix, f"{path}.prefix", errors, most=PREFIX_MAX)
