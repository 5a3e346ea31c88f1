"""Model catalog: groups (`mt-`) of provider templates (`mpt-`) holding LLM templates (`llmt-`).

Rules kept here for every face:
- `providerName` is unique in a group; `Custom` providers are named `provider-…`, the
  `WuyingCredit` provider is named `wuying-credit`.
- `llmCode` is unique per provider; a batch skips existing codes and repeats, with a reason.
  A model's code never changes (names, scopes and pointers refer to it); its name,
  description and config do.
- A group has at most one default model. Its pointer also lives in the group's `config`
  as `{"defaults": {"model": {"primary": "<providerName>/<llmCode>"}}}`.

Fields are named as the native API names them (`providerName`, `items.0.llmCode`); each
face spells them its own way where it renders errors.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.json_values import check_json_value
from modelplane.domain.prices import check_cost
from modelplane.domain.text import check_length
from modelplane.domain.urls import check_http_url

GROUP = "ModelTemplate"
PROVIDER = "ModelProviderTemplate"
LLM_TEMPLATE = "LlmTemplate"
GROUP_PREFIX = "mt-"
PROVIDER_PREFIX = "mpt-"
LLM_TEMPLATE_PREFIX = "llmt-"
NAME_MAX = 128
DESCRIPTION_MAX = 1024
LABEL_MAX = 64  # AgentPlatform, AgentProvider, a provider's `api`
INT32_MAX = 2**31 - 1
CONFIG_MAX_BYTES = 64 * 1024
BATCH_MAX = 1000
CUSTOM_PREFIX = "provider-"
WUYING_CREDIT_NAME = "wuying-credit"
EXISTS_REASON = "LLM template already exists with same providerTemplateId and llmCode."
REPEAT_REASON = "The same llmCode appears more than once in this request; the first one is created."
MASK = "****"
POINTER = "config.defaults.model.primary"
CONFIG_KEYS = ("baseUrl", "api", "apiKey")  # a provider's `config`
REF_SCOPES = ("ALL_USER", "USER_MIXED", "RESOURCE_MIXED")
_LLM_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$")
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# A group id the client chooses: what `new_id` makes fits it too (`mt-` + 16 hex).
_GROUP_ID = re.compile(r"^mt-[a-z0-9][a-z0-9-]{0,28}$")
GROUP_ID_TAKEN = "modelTemplateId {id!r} is taken; choose another"
GROUP_ID_RULE = "must be mt- then 1..29 of a-z, 0-9 and - (starting with a letter or digit)"


class ProviderKind(StrEnum):
    """Wire enum `ProviderType` of a provider template."""

    MANAGED = "Managed"
    CUSTOM = "Custom"
    WUYING_CREDIT = "WuyingCredit"


def new_id(prefix: str) -> str:
    """A fresh id such as `mt-3f9a0c1d2b4e5f60`."""
    return prefix + secrets.token_hex(8)


def batch_ids(prefix: str) -> Iterator[str]:
    """Fresh ids for the items of one batch that sort in the batch's order.

    Lists order by creation time, then id; a batch's items share their creation time,
    so their ids carry one random part and then the item's position.
    """
    batch = secrets.token_hex(5)
    return (f"{prefix}{batch}{n:06x}" for n in itertools.count())


def default_pointer(provider_name: str, llm_code: str) -> str:
    """The group's default-model pointer: `providerName/llmCode`."""
    return f"{provider_name}/{llm_code}"


def check_config(value: dict[str, Any], path: str, errors: ViolationCollector) -> None:
    """Record a violation unless `value` (a free-form JSON object) is one every store and
    client can hold as given: nested at most `DEPTH_MAX` levels, finite numbers, 64-bit
    integers, and at most `CONFIG_MAX_BYTES` of JSON."""
    before = len(errors.violations)
    check_json_value(value, path, errors)
    if len(errors.violations) == before and len(json.dumps(value).encode()) > CONFIG_MAX_BYTES:
        errors.add(path, f"must be at most {CONFIG_MAX_BYTES} bytes")


def _check_name(value: str | None, path: str, errors: ViolationCollector) -> None:
    check_length(value, path, errors, most=NAME_MAX, required=True)


def _check_description(value: str | None, path: str, errors: ViolationCollector) -> None:
    check_length(value, path, errors, most=DESCRIPTION_MAX)


@dataclass(frozen=True, slots=True)
class ModelGroup:
    """A model group (`ModelTemplate` to the Alibaba RPC face)."""

    model_template_id: str
    owner_id: str
    name: str
    description: str | None
    agent_platform: str | None
    agent_provider: str | None
    biz_type: int | None
    ref_scope: str | None
    config: dict[str, Any]
    created_at: int
    updated_at: int

    @property
    def default_model(self) -> str | None:
        """The `providerName/llmCode` pointer in `config`, if any."""
        defaults = self.config.get("defaults")
        model = defaults.get("model") if isinstance(defaults, dict) else None
        primary = model.get("primary") if isinstance(model, dict) else None
        return primary if isinstance(primary, str) else None

    def with_default(self, pointer: str | None, *, now_ms: int) -> ModelGroup:
        """A copy whose `config` points at `pointer` (None removes the pointer).

        `config` must have passed `check_group` (`defaults` and `defaults.model` objects).
        """
        config = json.loads(json.dumps(self.config))  # deep copy, JSON-safe by construction
        defaults = config.setdefault("defaults", {})
        model = defaults.setdefault("model", {})
        if pointer is None:
            model.pop("primary", None)
            if not model:
                del defaults["model"]
            if not defaults:
                del config["defaults"]
        else:
            model["primary"] = pointer
        return replace(self, config=config, updated_at=max(now_ms, self.updated_at))


def check_group(group: ModelGroup) -> None:
    """Raise InvalidArgument naming every field of `group` that breaks a rule."""
    errors = ViolationCollector()
    _check_name(group.name, "name", errors)
    _check_description(group.description, "description", errors)
    check_length(group.agent_platform, "agentPlatform", errors, most=LABEL_MAX)
    check_length(group.agent_provider, "agentProvider", errors, most=LABEL_MAX)
    if group.biz_type is not None and not -INT32_MAX - 1 <= group.biz_type <= INT32_MAX:
        errors.add("bizType", "must be a 32-bit integer")
    if group.ref_scope is not None and group.ref_scope not in REF_SCOPES:
        errors.add("refScope", f"must be {', '.join(REF_SCOPES)}")
    check_config(group.config, "config", errors)
    _check_pointer_shape(group.config, errors)
    errors.raise_if_any()


def _check_pointer_shape(config: dict[str, Any], errors: ViolationCollector) -> None:
    """`defaults` and `defaults.model` are objects and `primary` a string, where present."""
    defaults = config.get("defaults", {})
    if not isinstance(defaults, dict):
        errors.add("config.defaults", "must be a JSON object")
        return
    model = defaults.get("model", {})
    if not isinstance(model, dict):
        errors.add("config.defaults.model", "must be a JSON object")
    elif not isinstance(model.get("primary", ""), str):
        errors.add(POINTER, "must be a string providerName/llmCode")


def new_group(
    *,
    owner_id: str,
    name: str,
    description: str | None = None,
    agent_platform: str | None = None,
    agent_provider: str | None = None,
    biz_type: int | None = None,
    ref_scope: str | None = None,
    model_template_id: str | None = None,
    now_ms: int,
) -> ModelGroup:
    """Validate and build a new model group; its id is the client's when given."""
    if model_template_id is not None and not _GROUP_ID.fullmatch(model_template_id):
        raise InvalidArgument.of("modelTemplateId", GROUP_ID_RULE)
    group = ModelGroup(
        model_template_id=model_template_id or new_id(GROUP_PREFIX),
        owner_id=owner_id,
        name=name,
        description=description,
        agent_platform=agent_platform,
        agent_provider=agent_provider,
        biz_type=biz_type,
        ref_scope=ref_scope,
        config={},
        created_at=now_ms,
        updated_at=now_ms,
    )
    check_group(group)
    return group


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """A provider's endpoint; the API key is sealed at rest and never returned."""

    base_url: str | None = None
    api: str | None = None
    api_key: str | None = None


def _config_fields(values: Mapping[str, Any], errors: ViolationCollector) -> dict[str, str | None]:
    """The fields of a provider's `config` that `values` gives, each a string or null."""
    found: dict[str, str | None] = {}
    for key, value in values.items():
        if key not in CONFIG_KEYS:
            errors.add(f"config.{key}", f"unknown key; expected {', '.join(CONFIG_KEYS)}")
        elif value is not None and not isinstance(value, str):
            errors.add(f"config.{key}", "must be a string")
        else:
            found[key] = value
    return found


def _check_config_fields(found: Mapping[str, str | None], errors: ViolationCollector) -> None:
    base_url = found.get("baseUrl")
    if base_url is not None:
        check_http_url(base_url, "config.baseUrl", errors)
    check_length(found.get("api"), "config.api", errors, most=LABEL_MAX)
    check_length(found.get("apiKey"), "config.apiKey", errors, most=CONFIG_MAX_BYTES)


def provider_config(values: Mapping[str, Any], errors: ViolationCollector) -> ProviderConfig:
    """A new provider's `config` (`baseUrl`, `api`, `apiKey`; absent or null: none)."""
    found = _config_fields(values, errors)
    _check_config_fields(found, errors)
    return ProviderConfig(found.get("baseUrl"), found.get("api"), found.get("apiKey"))


def provider_patch(values: Mapping[str, Any], errors: ViolationCollector) -> dict[str, str | None]:
    """The `config` fields an update of a provider names (`baseUrl`, `api`, `apiKey`).

    A field that is absent stays as it is; `null` or `""` clears it.
    """
    found = {key: value or None for key, value in _config_fields(values, errors).items()}
    _check_config_fields(found, errors)
    return found


def mask_api_key(api_key: str) -> str:
    """A hint that tells keys apart without revealing them: `sk-****abcd`."""
    if len(api_key) < 16:
        return MASK
    return f"{api_key[:3]}{MASK}{api_key[-4:]}"


@dataclass(frozen=True, slots=True)
class GroupFilter:
    """What a list of groups may filter on; None or empty means any."""

    ids: tuple[str, ...] = ()
    name: str | None = None
    ref_scope: str | None = None
    agent_platforms: tuple[str, ...] = ()
    agent_providers: tuple[str, ...] = ()
    biz_type: int | None = None
    has_model: bool | None = None


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """A group with the number of LLM templates it holds."""

    group: ModelGroup
    model_count: int


@dataclass(frozen=True, slots=True)
class ProviderFilter:
    """What a list of provider templates may filter on."""

    model_template_id: str | None = None
    provider_name: str | None = None
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TemplateFilter:
    """What a list of LLM templates may filter on."""

    model_template_id: str | None = None
    provider_template_id: str | None = None
    llm_code: str | None = None
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderTemplate:
    """A provider template under a model group."""

    provider_template_id: str
    model_template_id: str
    owner_id: str
    name: str
    provider_name: str
    provider_type: ProviderKind
    description: str | None
    base_url: str | None
    api: str | None
    has_api_key: bool
    enable_wuying_proxy: bool
    created_at: int
    updated_at: int
    api_key_hint: str | None = None

    @property
    def masked_config(self) -> dict[str, str]:
        """The `config` shown on read: the API key only as its masked hint."""
        shown = {"baseUrl": self.base_url, "api": self.api}
        if self.has_api_key:
            shown["apiKey"] = self.api_key_hint or MASK
        return {k: v for k, v in shown.items() if v is not None}


def check_provider_name(kind: ProviderKind, provider_name: str, errors: ViolationCollector) -> None:
    """Record a violation unless `provider_name` fits `kind`."""
    if not _PROVIDER_NAME.match(provider_name):
        errors.add("providerName", "1..64 of [a-z0-9._-], starting with a letter or digit")
    elif kind is ProviderKind.CUSTOM and not provider_name.startswith(CUSTOM_PREFIX):
        errors.add("providerName", f"a Custom provider's name starts with {CUSTOM_PREFIX!r}")
    elif kind is ProviderKind.WUYING_CREDIT and provider_name != WUYING_CREDIT_NAME:
        errors.add("providerName", f"the WuyingCredit provider is named {WUYING_CREDIT_NAME!r}")


def new_provider(
    *,
    group: ModelGroup,
    owner_id: str,
    name: str,
    provider_name: str,
    provider_type: str,
    config: ProviderConfig,
    description: str | None = None,
    enable_wuying_proxy: bool = False,
    now_ms: int,
) -> ProviderTemplate:
    """Validate and build a provider template in `group` (the API key is sealed elsewhere)."""
    errors = ViolationCollector()
    _check_name(name, "name", errors)
    _check_description(description, "description", errors)
    kinds = {k.value: k for k in ProviderKind}
    kind = kinds.get(provider_type)
    if kind is None:
        errors.add("providerType", f"must be one of {', '.join(kinds)}")
    else:
        check_provider_name(kind, provider_name, errors)
    errors.raise_if_any()
    assert kind is not None
    return ProviderTemplate(
        provider_template_id=new_id(PROVIDER_PREFIX),
        model_template_id=group.model_template_id,
        owner_id=owner_id,
        name=name,
        provider_name=provider_name,
        provider_type=kind,
        description=description,
        base_url=config.base_url,
        api=config.api,
        has_api_key=bool(config.api_key),
        enable_wuying_proxy=enable_wuying_proxy,
        created_at=now_ms,
        updated_at=now_ms,
        api_key_hint=mask_api_key(config.api_key) if config.api_key else None,
    )


@dataclass(frozen=True, slots=True)
class LlmTemplate:
    """A model offered by a provider template."""

    llm_template_id: str
    provider_template_id: str
    model_template_id: str
    llm_code: str
    name: str | None
    description: str | None
    config: dict[str, Any]
    is_default_model: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One requested LLM template of a batch (`items.N`)."""

    llm_code: str | None
    name: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    is_default_model: bool = False


# A batch item as a file or a form writes it: the API's field names, what each holds.
BATCH_ITEM_FIELDS: dict[str, tuple[type, str]] = {
    "llmCode": (str, "text"),
    "name": (str, "text"),
    "description": (str, "text"),
    "config": (dict, "an object"),
    "isDefaultModel": (bool, "true or false"),
}


def batch_item_shape(n: int, value: object, errors: ViolationCollector) -> None:
    """Record what is wrong with the shape of item `n` of a batch written as data: a code,
    or a mapping of `BATCH_ITEM_FIELDS` holding llmCode (the values' rules come after)."""
    if isinstance(value, str):
        return
    if not isinstance(value, dict):
        errors.add(f"items.{n}", "must be a code or an object with llmCode")
        return
    for key, given in value.items():
        expected = BATCH_ITEM_FIELDS.get(str(key))
        if expected is None:
            errors.add(
                f"items.{n}.{key}", f"unknown field; expected {', '.join(BATCH_ITEM_FIELDS)}"
            )
        elif given is not None and not isinstance(given, expected[0]):
            errors.add(f"items.{n}.{key}", f"must be {expected[1]}")
    if value.get("llmCode") is None:
        errors.add(f"items.{n}.llmCode", "required")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A batch item that was not created, and why."""

    llm_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """What a batch will do: `len(create) + len(skipped) == total` always holds."""

    create: list[LlmTemplate]
    skipped: list[Skipped]
    total: int
    default: LlmTemplate | None = field(default=None)


def plan_batch(
    items: list[BatchItem],
    *,
    provider: ProviderTemplate,
    existing_codes: set[str],
    now_ms: int,
) -> BatchPlan:
    """Validate a batch and decide what to create and what to skip.

    Any invalid item, or more than one default, fails the whole batch (nothing is stored).
    """
    errors = ViolationCollector()
    if not items:
        errors.add("items", "at least one item is required")
    if len(items) > BATCH_MAX:
        errors.add("items", f"at most {BATCH_MAX} items per request")
    if sum(1 for item in items if item.is_default_model) > 1:
        errors.add("items", "at most one item may be the default model")
    configs: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        path = f"items.{n}"
        if item.llm_code is None or not _LLM_CODE.match(item.llm_code):
            errors.add(f"{path}.llmCode", "required, 1..128 of [A-Za-z0-9._:/@+-]")
        check_length(item.name, f"{path}.name", errors, most=NAME_MAX)
        _check_description(item.description, f"{path}.description", errors)
        configs.append(item.config or {})
        check_config(configs[-1], f"{path}.config", errors)
        check_cost(configs[-1].get("cost"), f"{path}.config.cost", errors)
    errors.raise_if_any()

    create: list[LlmTemplate] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    default = None
    ids = batch_ids(LLM_TEMPLATE_PREFIX)
    for item, config in zip(items, configs, strict=True):
        code = item.llm_code or ""
        if code in existing_codes:
            skipped.append(Skipped(code, EXISTS_REASON))
            continue
        if code in seen:
            skipped.append(Skipped(code, REPEAT_REASON))
            continue
        seen.add(code)
        template = LlmTemplate(
            llm_template_id=next(ids),
            provider_template_id=provider.provider_template_id,
            model_template_id=provider.model_template_id,
            llm_code=code,
            name=item.name,
            description=item.description,
            config=config,
            is_default_model=item.is_default_model,
            created_at=now_ms,
        )
        create.append(template)
        if template.is_default_model:
            default = template
    return BatchPlan(create=create, skipped=skipped, total=len(items), default=default)


def require_in_group(
    pointer: str,
    *,
    group: ModelGroup,
    providers: dict[str, ProviderTemplate],
    codes: set[str],
    field: str = POINTER,
) -> tuple[str, str]:
    """Split a `providerName/llmCode` pointer, checking both exist in `group`.

    `providers` maps provider names of the group to their templates; `codes` holds the
    LLM codes of the named provider. Errors name `field`, where the pointer was given.
    """
    provider_name, sep, llm_code = pointer.partition("/")
    if not sep or not provider_name or not llm_code:
        raise InvalidArgument.of(field, "must be providerName/llmCode")
    if provider_name not in providers:
        raise InvalidArgument.of(
            field, f"provider {provider_name!r} is not in group {group.model_template_id}"
        )
    if llm_code not in codes:
        raise InvalidArgument.of(
            field, f"provider {provider_name!r} has no LLM template {llm_code!r}"
        )
    return provider_name, llm_code


def changed_provider(
    provider: ProviderTemplate,
    *,
    name: str | None,
    description: str | None,
    enable_wuying_proxy: bool | None,
    patch: dict[str, str | None],
    now_ms: int,
) -> ProviderTemplate:
    """The provider with the given fields changed (None leaves a field as it is; `patch`
    holds the `config` fields given, see `provider_patch`)."""
    errors = ViolationCollector()
    if name is not None:
        _check_name(name, "name", errors)
    _check_description(description, "description", errors)
    errors.raise_if_any()
    has_key = provider.has_api_key
    hint = provider.api_key_hint
    if "apiKey" in patch:
        key = patch["apiKey"]
        has_key, hint = bool(key), (mask_api_key(key) if key else None)
    return replace(
        provider,
        name=name if name is not None else provider.name,
        description=description if description is not None else provider.description,
        enable_wuying_proxy=(
            enable_wuying_proxy if enable_wuying_proxy is not None else provider.enable_wuying_proxy
        ),
        base_url=patch.get("baseUrl", provider.base_url),
        api=patch.get("api", provider.api),
        has_api_key=has_key,
        api_key_hint=hint,
        updated_at=max(now_ms, provider.updated_at),
    )


LLM_CODE_FIXED = (
    "cannot be changed: a model is known by its code (the gateway's GROUP/CODE names, API "
    "key scopes, the group's default pointer, stacks); add a model with the new code, then "
    "delete this one"
)


def changed_template(
    template: LlmTemplate,
    *,
    llm_code: str | None = None,
    name: str | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
) -> LlmTemplate:
    """The template with the given fields changed (None leaves a field as it is; `config`
    replaces the whole object, `{}` clears it). `llmCode` may only be given as it is."""
    errors = ViolationCollector()
    if llm_code is not None and llm_code != template.llm_code:
        errors.add("llmCode", LLM_CODE_FIXED)
    check_length(name, "name", errors, most=NAME_MAX)
    _check_description(description, "description", errors)
    if config is not None:
        check_config(config, "config", errors)
        check_cost(config.get("cost"), "config.cost", errors)
    errors.raise_if_any()
    return replace(
        template,
        name=name if name is not None else template.name,
        description=description if description is not None else template.description,
        config=config if config is not None else template.config,
    )
