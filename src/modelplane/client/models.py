"""What the native API returns, as frozen pydantic models with snake_case attributes.

Each model parses the camelCase JSON of the API (`Llm.model_validate(data)`) and ignores
fields it does not know, so a newer server does not break an older SDK. Timestamps are
epoch milliseconds, as on the wire.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Base: frozen, camelCase on the wire, unknown fields ignored."""

    model_config = ConfigDict(
        frozen=True, alias_generator=to_camel, populate_by_name=True, extra="ignore"
    )


class Capabilities(ApiModel):
    """What an LLM supports."""

    supports_chat: bool
    supports_completion: bool
    supports_function_calling: bool
    supports_system_messages: bool
    supports_streaming: bool
    supports_sampling_parameters: bool


class Llm(ApiModel):
    """An LLM connection. Credentials are never returned, only `has_credentials`."""

    llm_id: str
    display_name: str
    description: str | None = None
    provider_type: str
    endpoint_url: str
    api_path: str
    model_identifier: str
    supported_modalities: tuple[str, ...]
    labels: dict[str, str]
    version: str | None = None
    monitoring_endpoint: str | None = None
    capabilities: Capabilities
    default_sampling_params: dict[str, Any] | None = None
    max_context_length: int | None = None
    client_config: dict[str, Any] | None = None
    dashscope_api_dialect: str | None = None
    has_credentials: bool
    owner_id: str
    created_at: int
    updated_at: int
    created_by_id: str
    updated_by_id: str


class LlmStatus(ApiModel):
    """A note about what the server did on create, e.g. `LLM_CAPABILITY_INFERRED`."""

    code: str
    message: str
    details: dict[str, str] | None = None


class CreatedLlm(ApiModel):
    """The answer of creating an LLM: the LLM and the server's notes."""

    llm: Llm
    statuses: tuple[LlmStatus, ...]


class ModelGroup(ApiModel):
    """A model group (`mt-…`). `model_count` (its models) is set by `get` and in lists, not
    in the answer of a create or an update."""

    model_template_id: str
    owner_id: str
    name: str
    description: str | None = None
    agent_platform: str | None = None
    agent_provider: str | None = None
    biz_type: int | None = None
    ref_scope: str | None = None
    config: dict[str, Any]
    default_model: str | None = None
    created_at: int
    updated_at: int
    model_count: int | None = None


class ModelGroupPage(ApiModel):
    """One page of model groups (`page_number` counts from 1)."""

    model_groups: tuple[ModelGroup, ...]
    page_number: int
    page_size: int
    total_count: int

    @property
    def items(self) -> tuple[ModelGroup, ...]:
        """The groups of this page."""
        return self.model_groups


class Message(ApiModel):
    """One message of a chat template."""

    role: str
    content: str


class PromptTemplate(ApiModel):
    """A prompt template at one version: a text (`kind` "text"), or chat `messages`
    (`kind` "chat", `content` showing them as `role: content` blocks); its `config`."""

    prompt_template_id: str
    workspace_id: str
    name: str
    content: str
    variables: tuple[str, ...]
    type: str
    version: int
    created_at: int
    updated_at: int
    created_by: str
    updated_by: str
    labels: tuple[str, ...] = ()  # the labels that point at this version; `latest`: current
    kind: str = "text"
    messages: tuple[Message, ...] | None = None
    config: dict[str, Any] | None = None


class PromptLabel(ApiModel):
    """Where a label of a template points (`latest`: always the current version)."""

    label: str
    version: int
    updated_at: int
    updated_by: str


class MovedLabel(PromptLabel):
    """A label after it was moved or removed, and where it pointed before (None: unset)."""

    prompt_template_id: str
    previous_version: int | None = None
    moved: bool  # False: it already pointed there, nothing was written


class LabelMove(ApiModel):
    """One move of a label (`from_version` None: first set; `to_version` None: removed)."""

    label: str
    from_version: int | None = None
    to_version: int | None = None
    moved_at: int
    moved_by: str


class LabelHistoryPage(ApiModel):
    """One page of a template's label moves, newest first; `next_token` None on the last."""

    moves: tuple[LabelMove, ...]
    next_token: str | None = None

    @property
    def items(self) -> tuple[LabelMove, ...]:
        """The moves of this page."""
        return self.moves

    @property
    def continuation(self) -> str | None:
        """Where the next page starts (`next_token`)."""
        return self.next_token


class DiffEnd(ApiModel):
    """One side of a diff: the version compared, its name then, and its labels."""

    version: int
    name: str
    labels: tuple[str, ...] = ()


class TemplateDiff(ApiModel):
    """The unified diff of a template's text between two versions (`diff` is empty when
    they are the same; `exact` False: a large changed block is shown whole)."""

    prompt_template_id: str
    from_: DiffEnd = Field(alias="from")
    to: DiffEnd
    diff: str
    identical: bool
    exact: bool


class AuditEvent(ApiModel):
    """One recorded change: who (`actor_id`), what, when (`at`), and through which face."""

    event_id: str
    at: int
    actor_id: str | None = None
    face: str
    request_id: str | None = None
    action: str
    resource_type: str
    resource_id: str
    details: dict[str, Any] = {}


class AuditEventPage(ApiModel):
    """One page of audit events, newest first; `next_page_token` is None on the last."""

    audit_events: tuple[AuditEvent, ...]
    next_page_token: str | None = None

    @property
    def items(self) -> tuple[AuditEvent, ...]:
        """The events of this page."""
        return self.audit_events

    @property
    def continuation(self) -> str | None:
        """Where the next page starts (`next_page_token`)."""
        return self.next_page_token


class PromptTemplatePage(ApiModel):
    """One page of prompt templates; `next_token` is None on the last page."""

    prompt_templates: tuple[PromptTemplate, ...]
    total_count: int
    max_results: int
    next_token: str | None = None

    @property
    def items(self) -> tuple[PromptTemplate, ...]:
        """The templates of this page."""
        return self.prompt_templates

    @property
    def continuation(self) -> str | None:
        """Where the next page starts (`next_token`)."""
        return self.next_token


class Rendered(ApiModel):
    """A filled template: its text (a chat template's filled `messages` too), the variables
    left unfilled, the names not used, and the version's `config`."""

    text: str
    variables: tuple[str, ...]
    missing: tuple[str, ...]
    unused: tuple[str, ...]
    version: int
    messages: tuple[Message, ...] | None = None
    config: dict[str, Any] | None = None

    def chat_messages(self) -> list[dict[str, str]]:
        """The filled messages as the `openai` and `anthropic` SDKs take them (a text
        template's text as one user message)."""
        if self.messages is None:
            return [{"role": "user", "content": self.text}]
        return [{"role": m.role, "content": m.content} for m in self.messages]


def _without_unset_gray(self: BaseModel, handler: SerializerFunctionWrapHandler) -> Any:
    """Dump a model whose gray-release fields the API leaves out when there is nothing to
    say likewise: `candidate` and `full` only when set."""
    data = handler(self)
    if isinstance(data, dict):
        for name in ("candidate", "full"):
            if name in data and data[name] is None:
                del data[name]
    return data


class CandidateRef(ApiModel):
    """The gray release a client with a targeted label is served: its id and version."""

    candidate_id: str
    version: int


class Config(ApiModel):
    """One dynamic parameter; `revision` is the namespace revision of its last change, and
    `format` (`text`, `json`, `yaml` or `properties`) the one its values are checked in.
    `candidate`: read with a client label, the gray release the value comes from."""

    key: str
    value: str
    created_at: int
    updated_at: int
    revision: int
    format: str = "text"
    candidate: CandidateRef | None = None

    dump_gray = model_serializer(mode="wrap")(_without_unset_gray)


class ConfigNamespace(ApiModel):
    """Every parameter of a service, in key order, at one revision (0 before any write)."""

    revision: int
    configs: tuple[Config, ...]
    candidate: CandidateRef | None = None  # read with a client label the candidate targets

    dump_gray = model_serializer(mode="wrap")(_without_unset_gray)

    @property
    def values(self) -> dict[str, str]:
        """The parameters as `{key: value}`."""
        return {c.key: c.value for c in self.configs}

    @property
    def candidate_version(self) -> int:
        """The version of the gray release applied (0: none): a watch passes it back."""
        return self.candidate.version if self.candidate is not None else 0

    def applied(self, changes: ConfigNamespaceChanges) -> ConfigNamespace:
        """The service at `changes.revision`: these parameters with `changes` applied (or
        replaced by them, when `changes.full`)."""
        configs = {} if changes.full else {c.key: c for c in self.configs}
        configs.update((c.key, c) for c in changes.configs)
        for key in changes.deleted:
            configs.pop(key, None)
        ordered = tuple(configs[key] for key in sorted(configs))
        return ConfigNamespace(
            revision=changes.revision, configs=ordered, candidate=changes.candidate
        )


class ConfigNamespaceChanges(ApiModel):
    """What changed in a service after a revision (a watch's answer): the parameters set
    since, in key order, and the keys deleted since. From revision 0, every parameter.

    Also what one batch or revert changed, at the revision it made (the revision the
    service already had when a revert had nothing to change)."""

    revision: int
    configs: tuple[Config, ...]
    deleted: tuple[str, ...] = ()
    # A watch with a client label: `full` when `configs` is every parameter as the client
    # sees them now (replacing what it held), and the gray release served (None: none).
    full: bool | None = None
    candidate: CandidateRef | None = None

    dump_gray = model_serializer(mode="wrap")(_without_unset_gray)


class ConfigCandidateItem(ApiModel):
    """One change of a gray release: a `set` (value, format) or a `delete`."""

    key: str
    op: str
    value: str | None = None
    format: str | None = None


class ConfigCandidate(ApiModel):
    """A service's open gray release: changes served only to clients with one of `labels`
    until it is promoted (one revision for everyone) or dropped."""

    candidate_id: str
    version: int
    labels: tuple[str, ...]
    items: tuple[ConfigCandidateItem, ...]
    base_revision: int
    created_by: str
    created_at: int
    updated_at: int


class ConfigListener(ApiModel):
    """One open watch of a service: its client label, replica, what it holds, since when."""

    listener_id: str
    replica_id: str
    client_label: str | None = None
    revision: int
    candidate_version: int
    principal_id: str
    mode: str
    since: int


class ConfigChange(ApiModel):
    """One history entry; `value` and `format` are None for a delete. A batch or a revert
    makes one entry per parameter, all with its revision."""

    revision: int
    key: str
    kind: str
    value: str | None = None
    format: str | None = None
    actor_id: str
    at: int


class Principal(ApiModel):
    """A principal: a user or a program, `admin` or `member`."""

    principal_id: str
    name: str
    role: str
    created_at: int


class ScopedModel(ApiModel):
    """A model name or group an API key may call; `model_template_id` is set when it names
    a whole group (then any name of the group)."""

    name: str
    model_template_id: str | None = None


class ApiKey(ApiModel):
    """An API key; its token is shown only when it is issued. `gateway_only`, `models`
    (None: every model) and `expires_at` (None: never) are its scope."""

    api_key_id: str
    principal_id: str
    key_prefix: str
    label: str | None = None
    created_at: int
    revoked_at: int | None = None
    gateway_only: bool = False
    models: tuple[ScopedModel, ...] | None = None
    expires_at: int | None = None


class IssuedApiKey(ApiModel):
    """A new API key and its token (shown only this once)."""

    api_key: ApiKey
    token: str


class AccessKey(ApiModel):
    """An access-key pair for the Alibaba faces; its secret is shown only when issued."""

    access_key_id: str
    principal_id: str
    created_at: int
    revoked_at: int | None = None


class IssuedAccessKey(AccessKey):
    """A new access-key pair (the secret is shown only this once)."""

    access_key_secret: str


class Workspace(ApiModel):
    """A workspace: the scope of prompt templates."""

    workspace_id: str
    name: str
    owner_id: str
    created_at: int


class WorkspaceMember(ApiModel):
    """A member of a workspace: `reader` (reads, lists, renders the templates), `author`
    (also creates and updates them, moves labels but `production`) or `editor` (also
    deletes them, moves `production`)."""

    principal_id: str
    role: str
    added_at: int


class ProviderConfig(ApiModel):
    """A provider's endpoint; the API key only as a masked hint such as `sk-****abcd`."""

    base_url: str | None = None
    api: str | None = None
    api_key: str | None = None


class ProviderTemplate(ApiModel):
    """A provider template (`mpt-…`) of a model group."""

    provider_template_id: str
    model_template_id: str
    owner_id: str
    name: str
    provider_name: str
    provider_type: str
    description: str | None = None
    config: ProviderConfig
    has_api_key: bool
    enable_wuying_proxy: bool
    created_at: int
    updated_at: int


class ProviderTemplatePage(ApiModel):
    """One page of provider templates."""

    provider_templates: tuple[ProviderTemplate, ...]
    page_number: int
    page_size: int
    total_count: int

    @property
    def items(self) -> tuple[ProviderTemplate, ...]:
        """The provider templates of this page."""
        return self.provider_templates


class LlmTemplate(ApiModel):
    """An LLM template (`llmt-…`): a model a provider template offers."""

    llm_template_id: str
    provider_template_id: str
    model_template_id: str
    llm_code: str
    name: str | None = None
    description: str | None = None
    config: dict[str, Any]
    is_default_model: bool
    created_at: int


class LlmTemplatePage(ApiModel):
    """One page of LLM templates."""

    llm_templates: tuple[LlmTemplate, ...]
    page_number: int
    page_size: int
    total_count: int

    @property
    def items(self) -> tuple[LlmTemplate, ...]:
        """The LLM templates of this page."""
        return self.llm_templates


class SkippedItem(ApiModel):
    """An item of a batch that was not created, and why."""

    llm_code: str
    reason: str


class BatchResult(ApiModel):
    """The answer of a batch creation: `success_count + len(skipped_items) == total_count`."""

    llm_template_ids: tuple[str, ...]
    success_count: int
    total_count: int
    skipped_items: tuple[SkippedItem, ...]


class RuntimeBinding(ApiModel):
    """What a bind or unbind request did with one runtime: `code` is `OK`,
    `PERMISSION_DENIED` (bound to a group the caller may not change; it stays there) or
    `NOT_FOUND` (not bound to the group)."""

    runtime_id: str
    success: bool
    code: str
    message: str
    http_status_code: int


class BoundRuntime(ApiModel):
    """A runtime bound to a group, and since when."""

    runtime_type: str
    runtime_id: str
    created_at: int


class BoundRuntimePage(ApiModel):
    """One page of the runtimes bound to a group, by type and then id."""

    runtimes: tuple[BoundRuntime, ...]
    page_number: int
    page_size: int
    total_count: int

    @property
    def items(self) -> tuple[BoundRuntime, ...]:
        """The runtimes of this page."""
        return self.runtimes


class RuntimeBindings(ApiModel):
    """The answer of a bind or unbind request: one result per distinct runtime."""

    results: tuple[RuntimeBinding, ...]
    total_count: int


class RuntimeModel(ApiModel):
    """A model a bound runtime may use."""

    llm_template_id: str
    llm_code: str
    name: str | None = None
    description: str | None = None
    is_default_model: bool


class RuntimeProvider(ApiModel):
    """A provider of a runtime's group and its models."""

    provider_template_id: str
    name: str
    provider_name: str
    models: tuple[RuntimeModel, ...]


class GatewayModel(ApiModel):
    """A model of the group as the gateway names it (`GROUP/PROVIDER/CODE`)."""

    model: str
    api: str


class RuntimeGateway(ApiModel):
    """How a runtime calls its group through the gateway, with the binding's API key."""

    base_url: str
    anthropic_base_url: str
    api_key: str
    api_key_id: str
    default_model: str | None = None
    models: tuple[GatewayModel, ...]


class RuntimeModelConfig(ApiModel):
    """The group bound to a runtime, its providers and models, and the default model
    (`providerName/llmCode`); `gateway` only when asked for."""

    model_template_id: str
    model_template_name: str
    default_model: str | None = None
    providers: tuple[RuntimeProvider, ...]
    gateway: RuntimeGateway | None = None


class NamespaceSummary(ApiModel):
    """A namespace of dynamic parameters that was written to."""

    cluster: str
    config_type: str
    name: str
    owner_id: str
    revision: int
    created_at: int
    updated_at: int


class UsageGroup(ApiModel):
    """Gateway usage summed over one group: the values of the groups asked for (the others
    None), then the sums. `cost` covers the calls with a price (None when none had one)."""

    day: str | None = None
    principal_id: str | None = None
    api_key_id: str | None = None
    model: str | None = None
    member: str | None = None
    calls: int
    streamed_calls: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    cost: float | None = None
    unpriced_calls: int
    latency_ms_avg: float | None = None


class UsageReport(ApiModel):
    """One page of a usage report, groups in order (day first)."""

    from_: str = Field(alias="from")
    to: str
    group_by: tuple[str, ...]
    groups: tuple[UsageGroup, ...]
    next_page_token: str | None = None

    @property
    def items(self) -> tuple[UsageGroup, ...]:
        """The groups of this page."""
        return self.groups

    @property
    def continuation(self) -> str | None:
        """Where the next page starts (`next_page_token`)."""
        return self.next_page_token


class UsageRecord(ApiModel):
    """One gateway call: who, which key, model name and member, tokens, cost, latency."""

    at: int
    principal_id: str
    api_key_id: str | None = None
    model: str
    member: str | None = None
    operation: str
    status: int
    streamed: bool
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    cost: float | None = None
    latency_ms: float
    request_id: str | None = None
    prompt: str | None = None  # TEMPLATE_ID@VERSION of the prompt template served


class UsageRecordPage(ApiModel):
    """One page of usage records, newest first."""

    records: tuple[UsageRecord, ...]
    next_page_token: str | None = None

    @property
    def items(self) -> tuple[UsageRecord, ...]:
        """The records of this page."""
        return self.records

    @property
    def continuation(self) -> str | None:
        """Where the next page starts (`next_page_token`)."""
        return self.next_page_token
