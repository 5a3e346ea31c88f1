"""LLM connections: the entity, its rules, capability inference and updates."""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from modelplane.domain.credentials import Credentials
from modelplane.domain.errors import ViolationCollector
from modelplane.domain.json_values import check_json_value
from modelplane.domain.known_models import lookup_model
from modelplane.domain.llm_types import (
    BASELINE_CAPABILITIES,
    Capabilities,
    DashScopeApiDialect,
    Modality,
    ProviderType,
    SamplingParams,
)
from modelplane.domain.prices import check_cost
from modelplane.domain.text import check_length
from modelplane.domain.urls import canonical_url, check_http_url

RESOURCE = "LLM"
DEFAULT_API_PATH = "/chat/completions"
DISPLAY_NAME_MAX = 255
DESCRIPTION_MAX = 10_000
MODEL_IDENTIFIER_MAX = 255
API_PATH_MAX = 1024
VERSION_MAX = 64
LABELS_MAX = 20
LABEL_KEY_MAX = 128
LABEL_VALUE_MAX = 256
INT32_MAX = 2**31 - 1
CLIENT_CONFIG_MAX_BYTES = 64 * 1024
STOP_SEQUENCES_MAX = 16
STOP_SEQUENCE_MAX_LENGTH = 256
INFERRED_STATUS = "LLM_CAPABILITY_INFERRED"
_LABEL_KEY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,127})?$")


@dataclass(frozen=True, slots=True)
class Note:
    """A status returned next to a result, e.g. what was inferred."""

    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LlmSpec:
    """What a caller asks to create; `None` means not given."""

    display_name: str
    model_identifier: str
    provider_type: ProviderType | None = None
    endpoint_url: str | None = None
    description: str | None = None
    api_path: str | None = None
    supported_modalities: tuple[Modality, ...] | None = None
    credentials: Credentials | None = None
    labels: dict[str, str] | None = None
    version: str | None = None
    monitoring_endpoint: str | None = None
    capabilities: Capabilities | None = None
    default_sampling_params: SamplingParams | None = None
    max_context_length: int | None = None
    client_config: dict[str, Any] | None = None
    owner_id: str | None = None
    llm_id: str | None = None
    dashscope_api_dialect: DashScopeApiDialect | None = None


@dataclass(frozen=True, slots=True)
class LlmPatch:
    """What a caller asks to change; `None` leaves a field as it is."""

    display_name: str | None = None
    description: str | None = None
    provider_type: ProviderType | None = None
    endpoint_url: str | None = None
    api_path: str | None = None
    model_identifier: str | None = None
    supported_modalities: tuple[Modality, ...] | None = None
    credentials: Credentials | None = None
    version: str | None = None
    monitoring_endpoint: str | None = None
    capabilities: Capabilities | None = None
    default_sampling_params: SamplingParams | None = None
    max_context_length: int | None = None
    client_config: dict[str, Any] | None = None
    replace_labels: dict[str, str] | None = None
    merge_labels: dict[str, str] | None = None
    dashscope_api_dialect: DashScopeApiDialect | None = None


@dataclass(frozen=True, slots=True)
class Llm:
    """A stored LLM connection. Credentials are held sealed, outside the entity."""

    llm_id: str
    owner_id: str
    display_name: str
    description: str | None
    provider_type: ProviderType
    endpoint_url: str
    api_path: str
    model_identifier: str
    supported_modalities: tuple[Modality, ...]
    labels: dict[str, str]
    version: str | None
    monitoring_endpoint: str | None
    capabilities: Capabilities
    default_sampling_params: SamplingParams | None
    max_context_length: int | None
    client_config: dict[str, Any] | None
    credentials_fingerprint: str
    created_at: int
    updated_at: int
    created_by_id: str
    updated_by_id: str
    dashscope_api_dialect: DashScopeApiDialect | None = None

    @property
    def connection_key(self) -> str:
        """SHA-256 of what makes two LLMs of one owner duplicates of each other."""
        identity = [
            self.provider_type.value,
            canonical_url(self.endpoint_url),
            self.api_path,
            self.model_identifier,
            self.credentials_fingerprint,
        ]
        text = json.dumps(identity, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class LlmFilter:
    """List filters; all given ones must match."""

    owner_id: str | None = None
    provider_type: ProviderType | None = None
    labels: dict[str, str] = field(default_factory=dict)


def new_llm(spec: LlmSpec, *, owner_id: str, actor_id: str, now_ms: int) -> tuple[Llm, list[Note]]:
    """Validate `spec`, fill what the catalog knows, and build the entity."""
    errors = ViolationCollector()
    known = lookup_model(spec.model_identifier) if spec.model_identifier else None
    provider_type = spec.provider_type or (known.provider_type if known else None)
    endpoint_url = spec.endpoint_url or (known.endpoint_url if known else None)
    if provider_type is None:
        errors.add("providerType", "required (the model is not in the built-in catalog)")
    if endpoint_url is None:
        errors.add("endpointUrl", "required (no default endpoint known for this model)")
    inferred: list[str] = []
    if spec.provider_type is None and provider_type is not None:
        inferred.append("providerType")
    if spec.endpoint_url is None and endpoint_url is not None:
        inferred.append("endpointUrl")
    capabilities = spec.capabilities
    modalities = spec.supported_modalities
    max_context = spec.max_context_length
    if known is not None:
        if capabilities is None:
            capabilities = known.capabilities
            inferred.append("capabilities")
        if not modalities:
            modalities = known.modalities
            inferred.append("supportedModalities")
        if max_context is None:
            max_context = known.max_context_length
            inferred.append("maxContextLength")
    llm_id = spec.llm_id or str(uuid.uuid4())
    llm = Llm(
        llm_id=llm_id,
        owner_id=owner_id,
        display_name=spec.display_name,
        description=spec.description,
        provider_type=provider_type or ProviderType.CUSTOM_OPENAI_COMPATIBLE,
        endpoint_url=endpoint_url or "",
        api_path=spec.api_path if spec.api_path is not None else DEFAULT_API_PATH,
        model_identifier=spec.model_identifier,
        supported_modalities=_distinct(modalities or (Modality.TEXT,)),
        labels=dict(spec.labels or {}),
        version=spec.version,
        monitoring_endpoint=spec.monitoring_endpoint,
        capabilities=capabilities or BASELINE_CAPABILITIES,
        default_sampling_params=spec.default_sampling_params,
        max_context_length=max_context,
        client_config=spec.client_config,
        credentials_fingerprint=spec.credentials.fingerprint() if spec.credentials else "",
        created_at=now_ms,
        updated_at=now_ms,
        created_by_id=actor_id,
        updated_by_id=actor_id,
        dashscope_api_dialect=spec.dashscope_api_dialect,
    )
    if spec.llm_id is not None and not is_uuid(spec.llm_id):
        errors.add("llmId", "must be a UUID")
    if spec.owner_id is not None and not is_uuid(spec.owner_id):
        errors.add("ownerId", "must be a UUID")
    if spec.credentials is not None:
        spec.credentials.validate("credentials", errors)
    _validate(llm, errors, check_endpoint=endpoint_url is not None)
    errors.raise_if_any()
    notes = []
    if known is not None and inferred:
        notes.append(
            Note(
                code=INFERRED_STATUS,
                message=f"{', '.join(inferred)} inferred from the built-in catalog entry "
                f"{known.key!r}",
                details={"catalogEntry": known.key, "fields": ",".join(inferred)},
            )
        )
    return llm, notes


def apply_patch(llm: Llm, patch: LlmPatch, *, actor_id: str, now_ms: int) -> Llm:
    """Return `llm` with the given fields changed, after checking every rule."""
    errors = ViolationCollector()
    if patch.provider_type is not None and patch.provider_type != llm.provider_type:
        errors.add("providerType", "is immutable after creation")
    if patch.replace_labels is not None and patch.merge_labels is not None:
        errors.add("replaceLabels", "cannot be used together with mergeLabels")
    labels = llm.labels
    if patch.replace_labels is not None:
        labels = dict(patch.replace_labels)
    elif patch.merge_labels is not None:
        labels = {**llm.labels, **patch.merge_labels}
    changes: dict[str, Any] = {
        name: getattr(patch, name)
        for name in (
            "display_name",
            "description",
            "endpoint_url",
            "api_path",
            "model_identifier",
            "version",
            "monitoring_endpoint",
            "capabilities",
            "default_sampling_params",
            "max_context_length",
            "client_config",
            "dashscope_api_dialect",
        )
        if getattr(patch, name) is not None
    }
    if patch.supported_modalities:
        changes["supported_modalities"] = _distinct(patch.supported_modalities)
    if patch.credentials is not None:
        patch.credentials.validate("credentials", errors)
        changes["credentials_fingerprint"] = patch.credentials.fingerprint()
    updated = replace(
        llm,
        **changes,
        labels=labels,
        updated_at=max(now_ms, llm.updated_at),
        updated_by_id=actor_id,
    )
    _validate(updated, errors, check_endpoint=True)
    errors.raise_if_any()
    return updated


def check_label_filter(labels: dict[str, str]) -> None:
    """Reject label filters that could never match a valid label."""
    errors = ViolationCollector()
    for key in labels:
        if not _LABEL_KEY.match(key):
            errors.add(f"label.{key}", "label keys are 1..128 of [A-Za-z0-9._/-]")
    errors.raise_if_any()


def is_uuid(value: str) -> bool:
    """Whether `value` is a UUID in its usual text form."""
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False


def _distinct(modalities: tuple[Modality, ...]) -> tuple[Modality, ...]:
    return tuple(dict.fromkeys(modalities))


def _validate(llm: Llm, errors: ViolationCollector, *, check_endpoint: bool) -> None:
    check_length(llm.display_name, "displayName", errors, most=DISPLAY_NAME_MAX, required=True)
    check_length(
        llm.model_identifier, "modelIdentifier", errors, most=MODEL_IDENTIFIER_MAX, required=True
    )
    check_length(llm.description, "description", errors, most=DESCRIPTION_MAX)
    check_length(llm.version, "version", errors, most=VERSION_MAX)
    if check_endpoint:
        check_http_url(llm.endpoint_url, "endpointUrl", errors)
    if llm.monitoring_endpoint is not None:
        check_http_url(llm.monitoring_endpoint, "monitoringEndpoint", errors)
    if (
        not llm.api_path.startswith("/")
        or len(llm.api_path) > API_PATH_MAX
        or any(ch.isspace() or ch in "?#" for ch in llm.api_path)
    ):
        errors.add("apiPath", f"must start with '/', have no spaces, '?' or '#', ≤ {API_PATH_MAX}")
    if llm.max_context_length is not None and not 0 < llm.max_context_length <= INT32_MAX:
        errors.add("maxContextLength", f"must be an int32 greater than 0 (1..{INT32_MAX})")
    _check_labels(llm.labels, errors)
    if llm.default_sampling_params is not None:
        _check_sampling(llm.default_sampling_params, errors)
    if llm.client_config is not None:
        before = len(errors.violations)
        check_json_value(llm.client_config, "clientConfig", errors)
        if len(errors.violations) == before:
            size = len(json.dumps(llm.client_config, separators=(",", ":")).encode())
            if size > CLIENT_CONFIG_MAX_BYTES:
                errors.add(
                    "clientConfig", f"must be at most {CLIENT_CONFIG_MAX_BYTES} bytes of JSON"
                )
        check_cost(llm.client_config.get("cost"), "clientConfig.cost", errors)
    if llm.dashscope_api_dialect is not None and llm.provider_type is not ProviderType.DASHSCOPE:
        errors.add("dashscopeApiDialect", "is only valid for providerType DASHSCOPE")


def _check_labels(labels: dict[str, str], errors: ViolationCollector) -> None:
    if len(labels) > LABELS_MAX:
        errors.add("labels", f"at most {LABELS_MAX} labels are allowed (got {len(labels)})")
    for key, value in labels.items():
        if not _LABEL_KEY.match(key):
            errors.add(f"labels.{key[:40]}", "label keys are 1..128 of [A-Za-z0-9._/-]")
        check_length(value, f"labels.{key[:40]}", errors, most=LABEL_VALUE_MAX)


def _check_sampling(params: SamplingParams, errors: ViolationCollector) -> None:
    path = "defaultSamplingParams"
    if params.max_tokens is not None and not 0 < params.max_tokens <= INT32_MAX:
        errors.add(f"{path}.maxTokens", "must be an int32 greater than 0")
    if params.top_k is not None and not 0 < params.top_k <= INT32_MAX:
        errors.add(f"{path}.topK", "must be an int32 greater than 0")
    bounds = {
        "temperature": (params.temperature, 0.0, 10.0),
        "topP": (params.top_p, 0.0, 1.0),
        "frequencyPenalty": (params.frequency_penalty, -10.0, 10.0),
        "presencePenalty": (params.presence_penalty, -10.0, 10.0),
    }
    for name, (value, low, high) in bounds.items():
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            errors.add(f"{path}.{name}", f"must be a finite number in [{low}, {high}]")
    stops = params.stop_sequences or ()
    if len(stops) > STOP_SEQUENCES_MAX:
        errors.add(f"{path}.stopSequences", f"at most {STOP_SEQUENCES_MAX} items")
    if any(not 1 <= len(s) <= STOP_SEQUENCE_MAX_LENGTH for s in stops):
        errors.add(f"{path}.stopSequences", f"items are 1..{STOP_SEQUENCE_MAX_LENGTH} characters")
