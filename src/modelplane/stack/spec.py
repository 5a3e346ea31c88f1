"""The stack file: its YAML schema, parsing, and the rules a file must keep.

Every mapping refuses unknown fields, so a typo is an error that names its place
(`llms[0].displayname: unknown field`), not a silently ignored line. Secrets are never
written in the file: they are `env://NAME` references, resolved when the stack is applied;
the tokens of API keys are never in it either (apply prints those it issues, once).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

API_VERSION: Literal["modelplane/v1"] = "modelplane/v1"
ENV_REF = re.compile(r"^env://([A-Za-z_][A-Za-z0-9_]{0,127})$")


class StackError(Exception):
    """The stack file is unreadable or breaks a rule; the message names the place."""


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


def _env_ref(value: str | None) -> str | None:
    if value is not None and not ENV_REF.match(value):
        raise ValueError("must be env://NAME (secrets are never written in the file)")
    return value


_OWNER_NAME = (
    "The name of the principal that owns it, declared under `principals` (created when "
    "missing); left out, the principal applying owns what it creates"
)


def _one_owner(owner: str | None, owner_id: str | None) -> None:
    if owner is not None and owner_id is not None:
        raise ValueError("give owner (a principal's name) or ownerId, not both")


class ApiKeySpec(_Spec):
    """An LLM's API key: `secret` is resolved at apply, `secretRef` is stored as is."""

    secret: str | None = Field(default=None, description="env://NAME, read when applying")
    secret_ref: str | None = Field(default=None, description="env://NAME, stored as reference")
    header_name: str | None = None
    prefix: str | None = None

    _refs = field_validator("secret", "secret_ref")(_env_ref)

    @model_validator(mode="after")
    def _one_secret(self) -> ApiKeySpec:
        if (self.secret is None) == (self.secret_ref is None):
            raise ValueError("exactly one of secret or secretRef must be set")
        return self


class CredentialsSpec(_Spec):
    """How an LLM authenticates to its provider."""

    kind: str = "CREDENTIAL_KIND_API_KEY"
    api_key: ApiKeySpec | None = None
    gcp_adc: dict[str, Any] | None = None
    labels: dict[str, str] | None = None


class LlmSpec(_Spec):
    """An LLM connection; found by `llmId` when given, else by `displayName`."""

    llm_id: str | None = None
    display_name: str
    model_identifier: str
    provider_type: str | None = None
    endpoint_url: str | None = None
    api_path: str | None = None
    description: str | None = None
    labels: dict[str, str] | None = None
    supported_modalities: list[str] | None = None
    version: str | None = None
    monitoring_endpoint: str | None = None
    capabilities: dict[str, bool] | None = None
    default_sampling_params: dict[str, Any] | None = None
    max_context_length: int | None = None
    client_config: dict[str, Any] | None = None
    dashscope_api_dialect: str | None = None
    owner: str | None = Field(default=None, description=_OWNER_NAME)
    credentials: CredentialsSpec | None = None

    def wire_fields(self) -> dict[str, Any]:
        """The fields given, as the API names them, without id, owner and credentials."""
        data = self.model_dump(by_alias=True, exclude_none=True)
        for name in ("llmId", "owner", "credentials"):
            data.pop(name, None)
        return data


class ModelSpec(_Spec):
    """An LLM template of a provider; found by `llmCode`."""

    llm_code: str
    name: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None


class ProviderSpec(_Spec):
    """A provider template of a group; found by `providerName`."""

    provider_name: str
    name: str
    provider_type: Literal["Managed", "Custom", "WuyingCredit"]
    description: str | None = None
    enable_wuying_proxy: bool | None = None
    base_url: str | None = None
    api: str | None = None
    api_key: str | None = Field(default=None, description="env://NAME, read when applying")
    models: list[ModelSpec] = Field(default_factory=list)

    _ref = field_validator("api_key")(_env_ref)


# The server's rules for ids a client chooses (domain/catalog.py, domain/prompts.py).
GROUP_ID = re.compile(r"mt-[a-z0-9][a-z0-9-]{0,28}")
GROUP_ID_RULE = "mt- then 1..29 of a-z, 0-9 and - (starting with a letter or digit)"
TEMPLATE_ID = re.compile(r"[0-9a-f]{32}")
RUNTIME_TYPE_DEFAULT = "Default"
RUNTIME_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
RUNTIME_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")


class RuntimeSpec(_Spec):
    """A runtime bound to the group; found by `runtimeType` and `runtimeId`."""

    runtime_id: str
    runtime_type: str = RUNTIME_TYPE_DEFAULT

    @field_validator("runtime_id")
    @classmethod
    def _id(cls, runtime_id: str) -> str:
        if not RUNTIME_ID.fullmatch(runtime_id):
            raise ValueError(
                "must be 1..128 of A-Z, a-z, 0-9 and ._:@/-, starting with one of A-Z, a-z, 0-9"
            )
        return runtime_id

    @field_validator("runtime_type")
    @classmethod
    def _type(cls, runtime_type: str) -> str:
        if not RUNTIME_TYPE.fullmatch(runtime_type):
            raise ValueError("must be 1..64 of A-Z, a-z, 0-9 and ._-, starting with a letter")
        return runtime_type


class ModelGroupSpec(_Spec):
    """A model group; found by `modelTemplateId` when given, else by `name`.
    `defaultModel` is `providerName/llmCode`; `config` is the group's config without the
    default model's pointer (which `defaultModel` holds)."""

    model_template_id: str | None = Field(
        default=None, description="Its id, chosen when the group is created"
    )
    name: str
    owner: str | None = Field(default=None, description=_OWNER_NAME)
    description: str | None = None
    ref_scope: str | None = None
    agent_platform: str | None = None
    agent_provider: str | None = None
    biz_type: int | None = None
    config: dict[str, Any] | None = None
    default_model: str | None = None
    providers: list[ProviderSpec] = Field(default_factory=list)
    runtimes: list[RuntimeSpec] | None = Field(
        default=None, description="The runtimes bound to it (left out: not managed)"
    )

    @field_validator("model_template_id")
    @classmethod
    def _group_id(cls, group_id: str | None) -> str | None:
        if group_id is not None and not GROUP_ID.fullmatch(group_id):
            raise ValueError(f"must be {GROUP_ID_RULE}")
        return group_id


# The server's label grammar (domain/prompt_labels.py), checked before anything is sent.
LABEL = re.compile(r"[a-z0-9_-]{1,64}")
LABEL_RULE = "1..64 characters of a-z, 0-9, _ and -"
LATEST = "latest"


class MessageSpec(_Spec):
    """One message of a chat template."""

    role: str
    content: str


def _check_labels(labels: list[str]) -> list[str]:
    for label in labels:
        if not LABEL.fullmatch(label) or label == LATEST:
            raise ValueError(f"{label!r}: a label is {LABEL_RULE}, and not {LATEST!r}")
    if len(set(labels)) != len(labels):
        raise ValueError("a label is listed twice")
    return labels


class VersionBody(_Spec):
    """A version's body: a text (`content`) or a chat template (`messages`), its `config`,
    and the `labels` that point at it."""

    content: str | None = None
    messages: list[MessageSpec] | None = None
    config: dict[str, Any] | None = None
    labels: list[str] = Field(default_factory=list)

    _labels = field_validator("labels")(_check_labels)

    @model_validator(mode="after")
    def _one_body(self) -> VersionBody:
        if (self.content is None) == (self.messages is None):
            raise ValueError("give content (a text) or messages (a chat template), one of them")
        return self

    def message_dicts(self) -> list[dict[str, str]] | None:
        """The messages as the SDK takes them."""
        if self.messages is None:
            return None
        return [{"role": m.role, "content": m.content} for m in self.messages]


class VersionSpec(VersionBody):
    """An earlier version of a template: its body and the labels on it, and its `name`
    where the template was named otherwise then."""

    name: str | None = None


class PromptSpec(VersionBody):
    """A prompt template of a workspace; found by `promptTemplateId` when given, else by
    `name`: a text (`content`) or a chat template (`messages`), its version's `config`,
    and the `labels` that are to point at the version the stack declares (a deploy:
    `production` moves when the text does). `history` is its earlier versions, oldest
    first: written when the template is created (or continues them)."""

    prompt_template_id: str | None = Field(
        default=None, description="Its id, chosen when the template is created"
    )
    name: str
    history: list[VersionSpec] = Field(default_factory=list)

    @field_validator("prompt_template_id")
    @classmethod
    def _template_id(cls, template_id: str | None) -> str | None:
        if template_id is not None and not TEMPLATE_ID.fullmatch(template_id):
            raise ValueError("must be 32 characters of 0-9 and a-f")
        return template_id

    @model_validator(mode="after")
    def _labels_once(self) -> PromptSpec:
        labels = [label for v in [*self.history, self] for label in v.labels]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"a label points at one version only: {', '.join(twice)}")
        return self

    def versions(self) -> list[VersionBody]:
        """Every version declared, oldest first: the history, then the current one."""
        return [*self.history, self]

    def name_of(self, version: VersionBody) -> str:
        """The template's name at a version declared."""
        if isinstance(version, VersionSpec) and version.name is not None:
            return version.name
        return self.name


_OWNER = (
    "The principal that owns it: an admin writing into another principal's must name it; "
    "one that does not exist yet is created owned by it"
)


MEMBER_ROLES = ("reader", "author", "editor")


class MemberSpec(_Spec):
    """A member of a workspace: a principal by name, and its role."""

    principal: str
    role: Literal["reader", "author", "editor"]


class WorkspaceSpec(_Spec):
    """A workspace and its prompt templates; found by `workspaceId`."""

    workspace_id: str
    name: str
    owner: str | None = Field(default=None, description=_OWNER_NAME)
    owner_id: str | None = Field(default=None, description=_OWNER)
    members: list[MemberSpec] | None = Field(
        default=None, description="Its members and their roles (left out: not managed)"
    )
    prompt_templates: list[PromptSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _owner(self) -> WorkspaceSpec:
        _one_owner(self.owner, self.owner_id)
        return self


ConfigFormat = Literal["text", "json", "yaml", "properties"]

# The server's rules for a candidate (domain/configs.py), checked before anything is sent.
CLIENT_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CLIENT_LABEL_RULE = "1..64 of [A-Za-z0-9._-], starting with a letter or digit"
CLIENT_LABELS_MAX = 20
CANDIDATE_ITEMS_MAX = 1000


def _formats_named(formats: Mapping[str, str] | None, values: Mapping[str, str]) -> None:
    unknown = sorted(set(formats or {}) - set(values))
    if unknown:
        raise ValueError(f"formats names keys without a value: {', '.join(unknown)}")


class CandidateSpec(_Spec):
    """A service's open gray release: `values` set and the keys of `delete` deleted only
    for clients that identify with one of `labels`, until it is promoted or dropped.
    `formats` names the format of a key it sets; a key it does not name takes the format
    the entry gives it (see `ConfigsSpec.formats`)."""

    labels: list[str]
    values: dict[str, str] = Field(default_factory=dict)
    formats: dict[str, ConfigFormat] = Field(default_factory=dict)
    delete: list[str] = Field(default_factory=list)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: list[str]) -> list[str]:
        if not 1 <= len(labels) <= CLIENT_LABELS_MAX:
            raise ValueError(f"must hold 1..{CLIENT_LABELS_MAX} client labels")
        for label in labels:
            if not CLIENT_LABEL.fullmatch(label):
                raise ValueError(f"{label!r}: a client label is {CLIENT_LABEL_RULE}")
        if len(set(labels)) != len(labels):
            raise ValueError("a label is listed twice")
        return labels

    @field_validator("delete")
    @classmethod
    def _delete(cls, delete: list[str]) -> list[str]:
        if len(set(delete)) != len(delete):
            raise ValueError("a key is listed twice")
        return delete

    @model_validator(mode="after")
    def _items(self) -> CandidateSpec:
        if not 1 <= len(self.values) + len(self.delete) <= CANDIDATE_ITEMS_MAX:
            raise ValueError(f"values and delete must hold 1..{CANDIDATE_ITEMS_MAX} keys together")
        both = sorted(set(self.values) & set(self.delete))
        if both:
            raise ValueError(f"a key is set and deleted: {', '.join(both)}")
        _formats_named(self.formats, self.values)
        return self


class ConfigsSpec(_Spec):
    """The dynamic parameters of one service: every key and its value, and the format of
    the keys whose values are not plain text (`json`, `yaml`, `properties`). Without
    `formats` the formats are not managed (each key keeps its own); with it, a key it does
    not name is `text`. `candidate` is its open gray release, if any."""

    cluster: str
    service: str
    owner: str | None = Field(default=None, description=_OWNER_NAME)
    owner_id: str | None = Field(default=None, description=_OWNER)
    values: dict[str, str] = Field(default_factory=dict)
    formats: dict[str, ConfigFormat] | None = None
    candidate: CandidateSpec | None = None

    @model_validator(mode="after")
    def _formats_of_values(self) -> ConfigsSpec:
        _one_owner(self.owner, self.owner_id)
        _formats_named(self.formats, self.values)
        return self

    def format_of(self, key: str) -> str | None:
        """The declared format of `key` (`text` when `formats` names others; None when
        the stack does not manage formats)."""
        return None if self.formats is None else self.formats.get(key, "text")

    def candidate_format_of(self, key: str) -> str | None:
        """The format the candidate sets `key` in: the one its `formats` names, else the
        entry's (None: not managed, the server keeps the parameter's own)."""
        assert self.candidate is not None
        return self.candidate.formats.get(key) or self.format_of(key)


# The server's rules for limits (domain/spend_limits.py), checked before anything is sent.
RPM_MAX = 10_000_000
TPM_MAX = 10_000_000_000
BUDGET_MAX = 1_000_000
NANOS = 10**9  # a budget is a whole number of nano-units


def amount(nanos: int) -> int | float:
    """Nano-units as the number a stack writes: whole units as an integer."""
    units = Decimal(nanos) / NANOS
    return int(units) if units == units.to_integral_value() else float(units)


class LimitsSpec(_Spec):
    """Limits at the gateway: requests and tokens per minute, money per `day` or `month`
    (UTC). A limit left out is none; `{}` declares no limits at all."""

    rpm: int | None = None
    tpm: int | None = None
    budget: Decimal | None = None
    period: Literal["day", "month"] | None = None

    @field_validator("rpm", "tpm", mode="before")
    @classmethod
    def _whole(cls, value: Any, info: ValidationInfo) -> Any:
        most = RPM_MAX if info.field_name == "rpm" else TPM_MAX
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most
        ):
            raise ValueError(f"must be a whole number from 1 to {most}")
        return value

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> Any:
        rule = (
            f"must be an amount of money above 0 and at most {BUDGET_MAX}, with at most 9 decimals"
        )
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise ValueError(rule)
        try:
            money = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except ArithmeticError:
            raise ValueError(rule) from None
        if not money.is_finite() or not 0 < money <= BUDGET_MAX:
            raise ValueError(rule)
        if money * NANOS != (money * NANOS).to_integral_value():
            raise ValueError(rule)
        return money

    @model_validator(mode="after")
    def _budget_and_period(self) -> LimitsSpec:
        if (self.budget is None) != (self.period is None):
            raise ValueError("budget and period go together: an amount of money per day or month")
        return self

    @property
    def empty(self) -> bool:
        """Whether it declares no limit at all."""
        return self.rpm is None and self.tpm is None and self.budget is None

    def fields(self) -> dict[str, Any]:
        """The limits as a plan shows and compares them."""
        nanos = None if self.budget is None else int(self.budget * NANOS)
        return {
            "rpm": self.rpm,
            "tpm": self.tpm,
            "budget": None if nanos is None else amount(nanos),
            "period": self.period,
        }


# The server's rules for principals and keys (services/principals.py, domain/key_scopes.py).
NAME_MAX = 128
KEY_LABEL_MAX = 128
MODELS_MAX = 100
MODEL_NAME_MAX = 256
# How the label of a key the server keeps for a runtime binding starts (domain/runtimes.py):
# such keys are the server's, never a stack's.
RUNTIME_KEY_LABEL = "runtime "


def epoch_ms(moment: datetime) -> int:
    """A time as epoch milliseconds."""
    return int(moment.timestamp() * 1000)


def iso_time(ms: int) -> str:
    """Epoch milliseconds as the ISO 8601 UTC time a stack writes (`2027-01-31T12:00:00Z`)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    spec = "milliseconds" if ms % 1000 else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


class KeySpec(_Spec):
    """An API key of a principal, for an app; found by `label`. Its scope (`gatewayOnly`,
    `models`, `expiresAt`) is fixed when it is issued; a field left out is its default (not
    gateway-only, every model, never expires)."""

    label: str
    gateway_only: bool = False
    models: list[str] | None = None
    expires_at: datetime | None = Field(
        default=None, description="An ISO 8601 time, UTC unless it names an offset"
    )
    limits: LimitsSpec | None = None

    @field_validator("label")
    @classmethod
    def _label(cls, label: str) -> str:
        if not label.strip() or len(label) > KEY_LABEL_MAX:
            raise ValueError(f"must be 1..{KEY_LABEL_MAX} characters, not only spaces")
        if label.startswith(RUNTIME_KEY_LABEL):
            raise ValueError(
                f"a label starting with {RUNTIME_KEY_LABEL!r} names a key the server keeps "
                "for a runtime binding"
            )
        return label

    @field_validator("models")
    @classmethod
    def _models(cls, models: list[str] | None) -> list[str] | None:
        if models is None:
            return None
        if not 1 <= len(models) <= MODELS_MAX:
            raise ValueError(
                f"must list 1..{MODELS_MAX} model names or groups; leave it out for all"
            )
        for name in models:
            if not name or len(name) > MODEL_NAME_MAX:
                raise ValueError(f"{name[:40]!r}: a model name is 1..{MODEL_NAME_MAX} characters")
        if len(set(models)) != len(models):
            raise ValueError("a model is listed twice")
        return models

    @field_validator("expires_at", mode="before")
    @classmethod
    def _expiry(cls, value: Any) -> Any:
        rule = "must be an ISO 8601 time such as 2027-01-31T12:00:00Z"
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):  # a bare date: its midnight, UTC
            moment = datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(rule) from None
        else:
            raise ValueError(rule)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    @property
    def expires_at_ms(self) -> int | None:
        """The expiry in epoch milliseconds (None: never)."""
        return None if self.expires_at is None else epoch_ms(self.expires_at)


class PrincipalSpec(_Spec):
    """A principal, found by `name` and created when missing (never deleted by a stack):
    its limits at the gateway and its API keys for apps."""

    name: str
    role: Literal["admin", "member"] | None = None
    limits: LimitsSpec | None = None
    api_keys: list[KeySpec] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.strip() or len(name) > NAME_MAX:
            raise ValueError(f"must be 1..{NAME_MAX} characters, not only spaces")
        return name


class Stack(_Spec):
    """A whole stack file."""

    api_version: Literal["modelplane/v1"] = API_VERSION
    llms: list[LlmSpec] = Field(default_factory=list)
    model_groups: list[ModelGroupSpec] = Field(default_factory=list)
    workspaces: list[WorkspaceSpec] = Field(default_factory=list)
    configs: list[ConfigsSpec] = Field(default_factory=list)
    principals: list[PrincipalSpec] = Field(default_factory=list)


def parse(data: Any) -> Stack:
    """Validate a loaded document; StackError names every broken rule's place."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StackError("the stack file must be a mapping at the top level")
    try:
        stack = Stack.model_validate(data)
    except ValidationError as exc:
        raise StackError("; ".join(_describe(e) for e in exc.errors())) from None
    problems = _duplicates(stack)
    if problems:
        raise StackError("; ".join(problems))
    return stack


def load(text: str) -> Stack:
    """Parse the YAML text of a stack file."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise StackError(f"{problem}{where}") from None
    return parse(data)


def _place(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _describe(error: Any) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{_place(loc)}: unknown field"
    if error["type"] == "missing":
        return f"{_place(loc)}: required"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{_place(loc)}: {message}"


def _repeats(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def _duplicates(stack: Stack) -> list[str]:
    """Two entries that would be the same resource, and defaults that point nowhere."""
    problems: list[str] = []
    ids = [llm.llm_id for llm in stack.llms if llm.llm_id]
    problems += [f"llms: llmId {i!r} is declared twice" for i in _repeats(ids)]
    unnamed = [llm.display_name for llm in stack.llms if not llm.llm_id]
    problems += [
        f"llms: displayName {n!r} is declared twice without llmId" for n in _repeats(unnamed)
    ]
    problems += [
        f"modelGroups: modelTemplateId {i!r} is declared twice"
        for i in _repeats([g.model_template_id for g in stack.model_groups if g.model_template_id])
    ]
    unnamed_groups = [
        f"{g.name!r}" + (f" of owner {g.owner!r}" if g.owner else "")
        for g in stack.model_groups
        if not g.model_template_id
    ]
    problems += [
        f"modelGroups: name {n} is declared twice without modelTemplateId"
        for n in _repeats(unnamed_groups)
    ]
    bound = [
        f"{r.runtime_type}/{r.runtime_id}" for g in stack.model_groups for r in g.runtimes or []
    ]
    problems += [
        f"modelGroups: runtime {r!r} is bound twice (a runtime is bound to one group)"
        for r in _repeats(bound)
    ]
    for i, group in enumerate(stack.model_groups):
        names = [p.provider_name for p in group.providers]
        problems += [
            f"modelGroups[{i}].providers: providerName {n!r} is declared twice"
            for n in _repeats(names)
        ]
        codes: set[str] = set()
        for j, provider in enumerate(group.providers):
            repeated = _repeats([m.llm_code for m in provider.models])
            problems += [
                f"modelGroups[{i}].providers[{j}].models: llmCode {c!r} is declared twice"
                for c in repeated
            ]
            codes |= {f"{provider.provider_name}/{m.llm_code}" for m in provider.models}
        if group.default_model and group.default_model not in codes:
            problems.append(
                f"modelGroups[{i}].defaultModel: {group.default_model!r} is not a declared "
                "providerName/llmCode of the group"
            )
    problems += [
        f"workspaces: workspaceId {w!r} is declared twice"
        for w in _repeats([w.workspace_id for w in stack.workspaces])
    ]
    for i, workspace in enumerate(stack.workspaces):
        names = [t.name for t in workspace.prompt_templates]
        problems += [
            f"workspaces[{i}].promptTemplates: name {n!r} is declared twice"
            for n in _repeats(names)
        ]
        problems += [
            f"workspaces[{i}].members: principal {n!r} is declared twice"
            for n in _repeats([m.principal for m in workspace.members or []])
        ]
    template_ids = [
        t.prompt_template_id
        for w in stack.workspaces
        for t in w.prompt_templates
        if t.prompt_template_id
    ]
    problems += [
        f"workspaces: promptTemplateId {t!r} is declared twice" for t in _repeats(template_ids)
    ]
    services = [f"{c.cluster}/{c.service}" for c in stack.configs]
    problems += [f"configs: {s!r} is declared twice" for s in _repeats(services)]
    problems += [
        f"principals: name {n!r} is declared twice"
        for n in _repeats([p.name for p in stack.principals])
    ]
    problems += _undeclared_principals(stack)
    for i, principal in enumerate(stack.principals):
        labels = [k.label for k in principal.api_keys]
        problems += [
            f"principals[{i}].apiKeys: label {label!r} is declared twice (a stack finds a "
            "principal's key by its label)"
            for label in _repeats(labels)
        ]
    return problems


def _undeclared_principals(stack: Stack) -> list[str]:
    """Owners and members name principals the file declares (so that apply can create
    them where they are missing)."""
    declared = {p.name for p in stack.principals}
    named: list[tuple[str, str | None]] = []
    named += [(f"llms[{i}].owner", e.owner) for i, e in enumerate(stack.llms)]
    named += [(f"modelGroups[{i}].owner", e.owner) for i, e in enumerate(stack.model_groups)]
    named += [(f"configs[{i}].owner", e.owner) for i, e in enumerate(stack.configs)]
    for i, workspace in enumerate(stack.workspaces):
        named.append((f"workspaces[{i}].owner", workspace.owner))
        named += [
            (f"workspaces[{i}].members[{j}].principal", m.principal)
            for j, m in enumerate(workspace.members or [])
        ]
    return [
        f"{place}: principal {name!r} is not declared under principals (a stack declares "
        "the principals it names, so that apply can create those that are missing)"
        for place, name in named
        if name is not None and name not in declared
    ]
