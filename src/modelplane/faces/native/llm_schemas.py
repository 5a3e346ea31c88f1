"""Wire models of /v1/llms (seed 003 field names) and their mapping to the domain."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from modelplane.domain import llms as rules
from modelplane.domain.credentials import (
    ApiKeyCredential,
    CredentialKind,
    Credentials,
    CredentialsOutline,
    GcpAdcCredential,
)
from modelplane.domain.llm_types import (
    Capabilities,
    DashScopeApiDialect,
    Modality,
    ProviderType,
    SamplingParams,
)
from modelplane.domain.llms import Llm, LlmPatch, LlmSpec, Note
from modelplane.domain.text import first_bad_text
from modelplane.faces.gateway.probe import ProbeReport


def _json_text(value: Any) -> Any:
    """Accept JSON given as text (the seed shows labels and stopSequences that way); its
    strings are checked as those of the body were (`domain/text.py`)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        bad = first_bad_text(parsed)
        if bad is not None:
            where = {"rule": bad.rule, "field": bad.field}
            raise PydanticCustomError("text", "{rule} (at {field} of the JSON text)", where)
        return parsed
    return value


def _secret_ref(value: Any) -> Any:
    """Accept `secretRef` as `{"uri": "env://X"}` or as the bare string."""
    return {"uri": value} if isinstance(value, str) else value


Labels = Annotated[dict[str, str], BeforeValidator(_json_text), Field(max_length=rules.LABELS_MAX)]
DisplayName = Annotated[str, Field(min_length=1, max_length=rules.DISPLAY_NAME_MAX)]
ModelIdentifier = Annotated[str, Field(min_length=1, max_length=rules.MODEL_IDENTIFIER_MAX)]
HttpUrl = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://")]
ApiPath = Annotated[str, Field(min_length=1, max_length=rules.API_PATH_MAX, pattern=r"^/")]
PositiveInt32 = Annotated[int, Field(ge=1, le=rules.INT32_MAX)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_text)]
StopSequences = Annotated[list[str], BeforeValidator(_json_text)]


class WireModel(BaseModel):
    """Base: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SecretRefWire(WireModel):
    """Reference to a secret resolved at use, e.g. `env://OPENAI_API_KEY`."""

    uri: str = Field(description="Only `env://NAME` is supported.")
    hints: dict[str, str] | None = None


class ApiKeyWire(WireModel):
    """API-key credentials: exactly one of `inlineSecret` and `secretRef`."""

    inline_secret: str | None = Field(default=None, alias="inlineSecret")
    secret_ref: Annotated[SecretRefWire | None, BeforeValidator(_secret_ref)] = Field(
        default=None, alias="secretRef"
    )
    header_name: str | None = Field(default=None, alias="headerName")
    prefix: str | None = None


class GcpAdcWire(WireModel):
    """Google application-default credentials."""

    scopes: list[str] | None = None
    quota_project_id: str | None = Field(default=None, alias="quotaProjectId")


class CredentialsWire(WireModel):
    """How to authenticate to the provider. Stored encrypted, never returned."""

    kind: CredentialKind
    api_key: ApiKeyWire | None = Field(default=None, alias="apiKey")
    gcp_adc: GcpAdcWire | None = Field(default=None, alias="gcpAdc")
    labels: dict[str, str] | None = None

    def to_domain(self) -> Credentials:
        """The domain value."""
        api_key = None
        if self.api_key is not None:
            ref = self.api_key.secret_ref
            api_key = ApiKeyCredential(
                inline_secret=self.api_key.inline_secret,
                secret_ref=ref.uri if ref else None,
                secret_ref_hints=dict(ref.hints or {}) if ref else {},
                header_name=self.api_key.header_name,
                prefix=self.api_key.prefix,
            )
        gcp = None
        if self.gcp_adc is not None:
            gcp = GcpAdcCredential(
                scopes=tuple(self.gcp_adc.scopes or ()),
                quota_project_id=self.gcp_adc.quota_project_id,
            )
        return Credentials(
            kind=self.kind, api_key=api_key, gcp_adc=gcp, labels=dict(self.labels or {})
        )


class CapabilitiesWire(WireModel):
    """Capability flags; on input any flag not given is false."""

    supports_chat: bool = Field(default=False, alias="supportsChat")
    supports_completion: bool = Field(default=False, alias="supportsCompletion")
    supports_function_calling: bool = Field(default=False, alias="supportsFunctionCalling")
    supports_system_messages: bool = Field(default=False, alias="supportsSystemMessages")
    supports_streaming: bool = Field(default=False, alias="supportsStreaming")
    supports_sampling_parameters: bool = Field(default=False, alias="supportsSamplingParameters")

    def to_domain(self) -> Capabilities:
        """The domain value."""
        return Capabilities(**self.model_dump())


class SamplingWire(WireModel):
    """Default sampling parameters."""

    max_tokens: PositiveInt32 | None = Field(default=None, alias="maxTokens")
    temperature: float | None = None
    top_p: float | None = Field(default=None, alias="topP", ge=0, le=1)
    top_k: PositiveInt32 | None = Field(default=None, alias="topK")
    frequency_penalty: float | None = Field(default=None, alias="frequencyPenalty")
    presence_penalty: float | None = Field(default=None, alias="presencePenalty")
    stop_sequences: StopSequences | None = Field(default=None, alias="stopSequences")

    def to_domain(self) -> SamplingParams:
        """The domain value."""
        data = self.model_dump()
        stops = data.pop("stop_sequences")
        return SamplingParams(**data, stop_sequences=tuple(stops) if stops is not None else None)


class _LlmFields(WireModel):
    description: str | None = None
    api_path: ApiPath | None = Field(default=None, alias="apiPath")
    supported_modalities: list[Modality] | None = Field(default=None, alias="supportedModalities")
    credentials: CredentialsWire | None = None
    version: str | None = None
    monitoring_endpoint: HttpUrl | None = Field(default=None, alias="monitoringEndpoint")
    capabilities: CapabilitiesWire | None = None
    default_sampling_params: SamplingWire | None = Field(
        default=None, alias="defaultSamplingParams"
    )
    max_context_length: PositiveInt32 | None = Field(default=None, alias="maxContextLength")
    client_config: JsonObject | None = Field(default=None, alias="clientConfig")
    dashscope_api_dialect: DashScopeApiDialect | None = Field(
        default=None, alias="dashscopeApiDialect"
    )

    def _common(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "api_path": self.api_path,
            "supported_modalities": (
                tuple(self.supported_modalities) if self.supported_modalities else None
            ),
            "credentials": self.credentials.to_domain() if self.credentials else None,
            "version": self.version,
            "monitoring_endpoint": self.monitoring_endpoint,
            "capabilities": self.capabilities.to_domain() if self.capabilities else None,
            "default_sampling_params": (
                self.default_sampling_params.to_domain() if self.default_sampling_params else None
            ),
            "max_context_length": self.max_context_length,
            "client_config": self.client_config,
            "dashscope_api_dialect": self.dashscope_api_dialect,
        }


class LlmCreateRequest(_LlmFields):
    """Body of `POST /v1/llms`."""

    display_name: DisplayName = Field(alias="displayName")
    model_identifier: ModelIdentifier = Field(alias="modelIdentifier")
    provider_type: ProviderType | None = Field(
        default=None,
        alias="providerType",
        description="Required unless the model is in the built-in catalog.",
    )
    endpoint_url: HttpUrl | None = Field(
        default=None,
        alias="endpointUrl",
        description="Absolute http(s) URL; required unless the catalog knows the provider's.",
    )
    labels: Labels | None = Field(default=None, description="At most 20 labels.")
    owner_id: str | None = Field(default=None, alias="ownerId")
    llm_id: str | None = Field(default=None, alias="llmId")

    def to_domain(self) -> LlmSpec:
        """The domain value."""
        return LlmSpec(
            display_name=self.display_name,
            model_identifier=self.model_identifier,
            provider_type=self.provider_type,
            endpoint_url=self.endpoint_url,
            labels=self.labels,
            owner_id=self.owner_id,
            llm_id=self.llm_id,
            **self._common(),
        )


class LlmUpdateRequest(_LlmFields):
    """Body of `PUT /v1/llms/{id}`: only the fields present change."""

    display_name: DisplayName | None = Field(default=None, alias="displayName")
    model_identifier: ModelIdentifier | None = Field(default=None, alias="modelIdentifier")
    provider_type: ProviderType | None = Field(
        default=None, alias="providerType", description="Immutable: must equal the stored value."
    )
    endpoint_url: HttpUrl | None = Field(default=None, alias="endpointUrl")
    replace_labels: Labels | None = Field(default=None, alias="replaceLabels")
    merge_labels: Labels | None = Field(default=None, alias="mergeLabels")

    def to_domain(self) -> LlmPatch:
        """The domain value."""
        return LlmPatch(
            display_name=self.display_name,
            model_identifier=self.model_identifier,
            provider_type=self.provider_type,
            endpoint_url=self.endpoint_url,
            replace_labels=self.replace_labels,
            merge_labels=self.merge_labels,
            **self._common(),
        )


class CapabilitiesOut(BaseModel):
    """Capability flags as stored."""

    supportsChat: bool
    supportsCompletion: bool
    supportsFunctionCalling: bool
    supportsSystemMessages: bool
    supportsStreaming: bool
    supportsSamplingParameters: bool


class LlmOut(BaseModel):
    """An LLM connection as returned (credentials are never returned)."""

    llmId: str
    displayName: str
    description: str | None = None
    providerType: ProviderType
    endpointUrl: str
    apiPath: str
    modelIdentifier: str
    supportedModalities: list[Modality]
    labels: dict[str, str]
    version: str | None = None
    monitoringEndpoint: str | None = None
    capabilities: CapabilitiesOut
    defaultSamplingParams: dict[str, Any] | None = None
    maxContextLength: int | None = None
    clientConfig: dict[str, Any] | None = None
    dashscopeApiDialect: DashScopeApiDialect | None = None
    hasCredentials: bool
    ownerId: str
    createdAt: int
    updatedAt: int
    createdById: str
    updatedById: str


class StatusOut(BaseModel):
    """A note about what the server did, e.g. `LLM_CAPABILITY_INFERRED`."""

    code: str
    message: str
    details: dict[str, str] | None = None


class CreateLlmOut(BaseModel):
    """Response of `POST /v1/llms`."""

    llm: LlmOut
    statuses: list[StatusOut]


class ListLlmsOut(BaseModel):
    """Response of `GET /v1/llms`."""

    llms: list[LlmOut]


class CredentialsOutlineOut(BaseModel):
    """What may be shown of an LLM's credentials: never the inline secret itself."""

    kind: CredentialKind
    apiKey: dict[str, Any] | None = Field(
        default=None,
        description="`secretRef`, `headerName`, `prefix`, and `hasInlineSecret` instead of "
        "the secret",
    )
    gcpAdc: dict[str, Any] | None = None
    labels: dict[str, str]


class CredentialsOfLlmOut(BaseModel):
    """Response of `GET /v1/llms/{llmId}/credentials`; null when the LLM has none."""

    credentials: CredentialsOutlineOut | None


class VerifyCredentialsIn(WireModel):
    """Body of `POST /v1/llms/{llmId}/credentials:verify`."""

    credentials: CredentialsWire


class ProbeOut(BaseModel):
    """What a one-token test call found."""

    ok: bool = Field(description="Whether the upstream answered with a 2xx status")
    status: int = Field(description="The status answered (the upstream's, or 502/504)")
    latencyMs: float = Field(description="From sending to the whole answer")
    overheadMs: float = Field(description="The share of the latency spent in modelplane")
    target: str | None = Field(description="The member that answered (`llm/<llmId>`)")
    attempts: int
    error: str | None = Field(description="The upstream's error answer, shortened, if any")


def render_probe(report: ProbeReport) -> dict[str, Any]:
    """The wire form of a test call's report."""
    return {
        "ok": report.ok,
        "status": report.status,
        "latencyMs": report.latency_ms,
        "overheadMs": report.overhead_ms,
        "target": report.target,
        "attempts": report.attempts,
        "error": report.error,
    }


class MatchOut(BaseModel):
    """Whether the secret given equals the stored one."""

    matches: bool


def render_outline(outline: CredentialsOutline | None) -> dict[str, Any]:
    """The wire form of a credentials outline."""
    if outline is None:
        return {"credentials": None}
    creds = outline.credentials
    api_key = None
    if creds.api_key is not None:
        ref = creds.api_key.secret_ref
        api_key = {
            "secretRef": (
                {"uri": ref, "hints": creds.api_key.secret_ref_hints or None} if ref else None
            ),
            "hasInlineSecret": outline.has_inline_secret,
            "headerName": creds.api_key.header_name,
            "prefix": creds.api_key.prefix,
        }
    gcp = None
    if creds.gcp_adc is not None:
        gcp = {
            "scopes": list(creds.gcp_adc.scopes),
            "quotaProjectId": creds.gcp_adc.quota_project_id,
        }
    body = {"kind": creds.kind.value, "apiKey": api_key, "gcpAdc": gcp, "labels": creds.labels}
    return {"credentials": body}


_SAMPLING_NAMES = {
    "max_tokens": "maxTokens",
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "frequency_penalty": "frequencyPenalty",
    "presence_penalty": "presencePenalty",
    "stop_sequences": "stopSequences",
}


def render_llm(llm: Llm) -> dict[str, Any]:
    """The wire form of an LLM."""
    caps = llm.capabilities
    sampling = None
    if llm.default_sampling_params is not None:
        params = llm.default_sampling_params
        sampling = {
            wire: (list(value) if isinstance(value, tuple) else value)
            for name, wire in _SAMPLING_NAMES.items()
            if (value := getattr(params, name)) is not None
        }
    return {
        "llmId": llm.llm_id,
        "displayName": llm.display_name,
        "description": llm.description,
        "providerType": llm.provider_type.value,
        "endpointUrl": llm.endpoint_url,
        "apiPath": llm.api_path,
        "modelIdentifier": llm.model_identifier,
        "supportedModalities": [m.value for m in llm.supported_modalities],
        "labels": llm.labels,
        "version": llm.version,
        "monitoringEndpoint": llm.monitoring_endpoint,
        "capabilities": {
            "supportsChat": caps.supports_chat,
            "supportsCompletion": caps.supports_completion,
            "supportsFunctionCalling": caps.supports_function_calling,
            "supportsSystemMessages": caps.supports_system_messages,
            "supportsStreaming": caps.supports_streaming,
            "supportsSamplingParameters": caps.supports_sampling_parameters,
        },
        "defaultSamplingParams": sampling,
        "maxContextLength": llm.max_context_length,
        "clientConfig": llm.client_config,
        "dashscopeApiDialect": (
            llm.dashscope_api_dialect.value if llm.dashscope_api_dialect else None
        ),
        "hasCredentials": bool(llm.credentials_fingerprint),
        "ownerId": llm.owner_id,
        "createdAt": llm.created_at,
        "updatedAt": llm.updated_at,
        "createdById": llm.created_by_id,
        "updatedById": llm.updated_by_id,
    }


def render_note(note: Note) -> dict[str, Any]:
    """The wire form of a status note."""
    return {"code": note.code, "message": note.message, "details": note.details or None}
