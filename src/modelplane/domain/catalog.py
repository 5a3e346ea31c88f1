"""Model catalog: groups (`mt-`) of provider templates (`mpt-`) holding LLM templates (`llmt-`).

Rules kept here for every face:
- `ProviderName` is unique in a group; `Custom` providers are named `provider-…`, the
  `WuyingCredit` provider is named `wuying-credit`.
- `LlmCode` is unique per provider; a batch skips existing codes and repeats, with a reason.
- A group has at most one default model. Its pointer also lives in the group's `Config`
  as `{"defaults": {"model": {"primary": "<providerName>/<llmCode>"}}}`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.json_values import DEPTH_MAX, INT_MAX, depth
from modelplane.domain.text import first_bad_text
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
REPEAT_REASON = "LlmCode appears more than once in this request; the first one is created."
MASK = "****"
REF_SCOPES = ("ALL_USER", "USER_MIXED", "RESOURCE_MIXED")
_LLM_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$")
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


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


def _json_int(text: str) -> int:
    value = int(text)
    if abs(value) > INT_MAX:
        raise ValueError("integers must fit in 64 bits")
    return value


def _json_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("numbers must be finite")
    return value


def _not_json(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def parse_json_object(text: str | None, path: str, errors: ViolationCollector) -> dict[str, Any]:
    """A JSON object given as text (as the RPC face sends it); empty means `{}`.

    Numbers must be finite, integers fit in 64 bits and nesting is limited, so that every
    store and every client can hold the value as it was given.
    """
    if text is None or not text.strip():
        return {}
    if len(text.encode()) > CONFIG_MAX_BYTES:
        errors.add(path, f"must be at most {CONFIG_MAX_BYTES} bytes")
        return {}
    try:
        value = json.loads(
            text, parse_int=_json_int, parse_float=_json_float, parse_constant=_not_json
        )
    except json.JSONDecodeError as exc:
        errors.add(path, f"must be a JSON object ({exc.msg} at position {exc.pos})")
        return {}
    except (ValueError, RecursionError) as exc:
        errors.add(path, f"must be a JSON object ({exc})")
        return {}
    if not isinstance(value, dict):
        errors.add(path, "must be a JSON object")
        return {}
    bad = first_bad_text(value, path)
    if bad is not None:
        errors.add(bad.field, bad.rule)
        return {}
    if depth(value) > DEPTH_MAX:
        errors.add(path, f"must nest at most {DEPTH_MAX} levels deep")
        return {}
    return value


def check_text(value: str | None, path: str, limit: int, errors: ViolationCollector) -> None:
    """Record a violation unless `value` (if any) is at most `limit` characters.

    (That it is valid text without NUL was checked where it entered: `domain/text.py`.)
    """
    if value is not None and len(value) > limit:
        errors.add(path, f"at most {limit} characters")


def _check_name(
    value: str | None, path: str, errors: ViolationCollector, *, required: bool
) -> None:
    if value is None or not value.strip():
        if required:
            errors.add(path, f"required, 1..{NAME_MAX} characters")
    else:
        check_text(value, path, NAME_MAX, errors)


def _check_description(value: str | None, errors: ViolationCollector) -> None:
    check_text(value, "Description", DESCRIPTION_MAX, errors)


@dataclass(frozen=True, slots=True)
class ModelGroup:
    """A model group (`ModelTemplate` on the wire)."""

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
        """The `providerName/llmCode` pointer in `Config`, if any."""
        defaults = self.config.get("defaults")
        model = defaults.get("model") if isinstance(defaults, dict) else None
        primary = model.get("primary") if isinstance(model, dict) else None
        return primary if isinstance(primary, str) else None

    def with_default(self, pointer: str | None, *, now_ms: int) -> ModelGroup:
        """A copy whose `Config` points at `pointer` (None removes the pointer).

        `Config` must have passed `check_group` (`defaults` and `defaults.model` objects).
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
    _check_name(group.name, "Name", errors, required=True)
    _check_description(group.description, errors)
    check_text(group.agent_platform, "AgentPlatform", LABEL_MAX, errors)
    check_text(group.agent_provider, "AgentProvider", LABEL_MAX, errors)
    if group.biz_type is not None and not -INT32_MAX - 1 <= group.biz_type <= INT32_MAX:
        errors.add("BizType", "must be a 32-bit integer")
    if group.ref_scope is not None and group.ref_scope not in REF_SCOPES:
        errors.add("RefScope", f"must be {', '.join(REF_SCOPES)}")
    if len(json.dumps(group.config).encode()) > CONFIG_MAX_BYTES:
        errors.add("Config", f"must be at most {CONFIG_MAX_BYTES} bytes")
    _check_pointer_shape(group.config, errors)
    errors.raise_if_any()


def _check_pointer_shape(config: dict[str, Any], errors: ViolationCollector) -> None:
    """`defaults` and `defaults.model` are objects and `primary` a string, where present."""
    defaults = config.get("defaults", {})
    if not isinstance(defaults, dict):
        errors.add("Config.defaults", "must be a JSON object")
        return
    model = defaults.get("model", {})
    if not isinstance(model, dict):
        errors.add("Config.defaults.model", "must be a JSON object")
    elif not isinstance(model.get("primary", ""), str):
        errors.add("Config.defaults.model.primary", "must be a string providerName/llmCode")


def new_group(
    *,
    owner_id: str,
    name: str,
    description: str | None = None,
    agent_platform: str | None = None,
    agent_provider: str | None = None,
    biz_type: int | None = None,
    ref_scope: str | None = None,
    now_ms: int,
) -> ModelGroup:
    """Validate and build a new model group."""
    group = ModelGroup(
        model_template_id=new_id(GROUP_PREFIX),
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

    @classmethod
    def parse(cls, text: str | None, path: str, errors: ViolationCollector) -> ProviderConfig:
        """Read `{"baseUrl", "api", "apiKey"}` (any key case) from JSON text."""
        raw = parse_json_object(text, path, errors)
        lowered = {str(k).lower(): v for k, v in raw.items()}
        unknown = sorted(set(lowered) - {"baseurl", "api", "apikey", "apitype"})
        if unknown:
            errors.add(path, f"unknown keys {unknown}; expected baseUrl, api, apiKey")
        values = {
            "base_url": lowered.get("baseurl"),
            "api": lowered.get("api", lowered.get("apitype")),
            "api_key": lowered.get("apikey"),
        }
        for name, value in values.items():
            if value is not None and not isinstance(value, str):
                errors.add(path, f"{name} must be a string")
        config = cls(**{k: v if isinstance(v, str) else None for k, v in values.items()})
        if config.base_url is not None:
            check_http_url(config.base_url, f"{path}.baseUrl", errors)
        check_text(config.api, f"{path}.api", LABEL_MAX, errors)
        check_text(config.api_key, f"{path}.apiKey", CONFIG_MAX_BYTES, errors)
        return config


def mask_api_key(api_key: str) -> str:
    """A hint that tells keys apart without revealing them: `sk-****abcd`."""
    if len(api_key) < 16:
        return MASK
    return f"{api_key[:3]}{MASK}{api_key[-4:]}"


_PATCH_KEYS = {"baseurl": "base_url", "apitype": "api", "api": "api", "apikey": "api_key"}


def parse_provider_patch(
    text: str | None, path: str, errors: ViolationCollector
) -> dict[str, str | None]:
    """The provider `Config` fields an update names (`BaseUrl`, `ApiType`, `ApiKey`, any case).

    A field that is absent stays as it is; `null` or `""` clears it.
    """
    raw = parse_json_object(text, path, errors)
    patch: dict[str, str | None] = {}
    for key, value in raw.items():
        name = _PATCH_KEYS.get(str(key).lower())
        if name is None:
            errors.add(f"{path}.{key}", "unknown key; expected BaseUrl, ApiType, ApiKey")
        elif value is not None and not isinstance(value, str):
            errors.add(f"{path}.{key}", "must be a string")
        else:
            patch[name] = value or None
            limit = LABEL_MAX if name == "api" else CONFIG_MAX_BYTES
            check_text(value, f"{path}.{key}", limit, errors)
    if patch.get("base_url"):
        check_http_url(patch["base_url"] or "", f"{path}.BaseUrl", errors)
    return patch


@dataclass(frozen=True, slots=True)
class GroupFilter:
    """What ListModelTemplates may filter on; None or empty means any."""

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
    """What ListModelProviderTemplates may filter on."""

    model_template_id: str | None = None
    provider_name: str | None = None
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TemplateFilter:
    """What ListLlmTemplates may filter on."""

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
        """The `Config` shown on read: the API key only as its masked hint."""
        shown = {"baseUrl": self.base_url, "api": self.api}
        if self.has_api_key:
            shown["apiKey"] = self.api_key_hint or MASK
        return {k: v for k, v in shown.items() if v is not None}


def check_provider_name(kind: ProviderKind, provider_name: str, errors: ViolationCollector) -> None:
    """Record a violation unless `provider_name` fits `kind`."""
    if not _PROVIDER_NAME.match(provider_name):
        errors.add("ProviderName", "1..64 of [a-z0-9._-], starting with a letter or digit")
    elif kind is ProviderKind.CUSTOM and not provider_name.startswith(CUSTOM_PREFIX):
        errors.add("ProviderName", f"a Custom provider's name starts with {CUSTOM_PREFIX!r}")
    elif kind is ProviderKind.WUYING_CREDIT and provider_name != WUYING_CREDIT_NAME:
        errors.add("ProviderName", f"the WuyingCredit provider is named {WUYING_CREDIT_NAME!r}")


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
    _check_name(name, "Name", errors, required=True)
    _check_description(description, errors)
    kinds = {k.value: k for k in ProviderKind}
    kind = kinds.get(provider_type)
    if kind is None:
        errors.add("ProviderType", f"must be one of {', '.join(kinds)}")
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
    """One requested LLM template of a batch (`LlmTemplateItems.N`)."""

    llm_code: str | None
    name: str | None = None
    description: str | None = None
    config_text: str | None = None
    is_default_model: bool = False


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
        errors.add("LlmTemplateItems", "at least one item is required")
    if len(items) > BATCH_MAX:
        errors.add("LlmTemplateItems", f"at most {BATCH_MAX} items per request")
    if sum(1 for item in items if item.is_default_model) > 1:
        errors.add("LlmTemplateItems", "at most one item may set IsDefaultModel")
    configs: list[dict[str, Any]] = []
    for n, item in enumerate(items, start=1):
        path = f"LlmTemplateItems.{n}"
        if item.llm_code is None or not _LLM_CODE.match(item.llm_code):
            errors.add(f"{path}.LlmCode", "required, 1..128 of [A-Za-z0-9._:/@+-]")
        check_text(item.name, f"{path}.Name", NAME_MAX, errors)
        check_text(item.description, f"{path}.Description", DESCRIPTION_MAX, errors)
        configs.append(parse_json_object(item.config_text, f"{path}.Config", errors))
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
    pointer: str, *, group: ModelGroup, providers: dict[str, ProviderTemplate], codes: set[str]
) -> tuple[str, str]:
    """Split a `providerName/llmCode` pointer, checking both exist in `group`.

    `providers` maps provider names of the group to their templates; `codes` holds the
    LLM codes of the named provider.
    """
    provider_name, sep, llm_code = pointer.partition("/")
    if not sep or not provider_name or not llm_code:
        raise InvalidArgument.of("Config.defaults.model.primary", "must be providerName/llmCode")
    if provider_name not in providers:
        raise InvalidArgument.of(
            "Config.defaults.model.primary",
            f"provider {provider_name!r} is not in group {group.model_template_id}",
        )
    if llm_code not in codes:
        raise InvalidArgument.of(
            "Config.defaults.model.primary",
            f"provider {provider_name!r} has no LLM template {llm_code!r}",
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
    """The provider with the given fields changed (None leaves a field as it is)."""
    errors = ViolationCollector()
    if name is not None:
        _check_name(name, "Name", errors, required=True)
    _check_description(description, errors)
    errors.raise_if_any()
    has_key = provider.has_api_key
    hint = provider.api_key_hint
    if "api_key" in patch:
        key = patch["api_key"]
        has_key, hint = bool(key), (mask_api_key(key) if key else None)
    return replace(
        provider,
        name=name if name is not None else provider.name,
        description=description if description is not None else provider.description,
        enable_wuying_proxy=(
            enable_wuying_proxy if enable_wuying_proxy is not None else provider.enable_wuying_proxy
        ),
        base_url=patch.get("base_url", provider.base_url),
        api=patch.get("api", provider.api),
        has_api_key=has_key,
        api_key_hint=hint,
        updated_at=max(now_ms, provider.updated_at),
    )
