"""Built-in catalog of well-known LLM models, read from ``data/known_models.json``.

`lookup_model` maps a model identifier, as a user, a router or a local runtime spells it,
to what the catalog knows: provider type, default endpoint, context length, input
modalities and capabilities, and, where its maker publishes one, its list price (per
million tokens, in US dollars, dated by `asOf`). Unknown identifiers give None; nothing is
guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypeVar

from modelplane.domain.errors import ViolationCollector
from modelplane.domain.llm_types import Capabilities, Modality, ProviderType
from modelplane.domain.prices import Prices, check_cost, prices_of

_DATA_PACKAGE = "modelplane.domain.data"
_DATA_FILE = "known_models.json"

_ENTRY_KEYS = frozenset(
    {
        "match",
        "family",
        "providerType",
        "endpointUrl",
        "maxContextLength",
        "modalities",
        "capabilities",
    }
)
_OPTIONAL_KEYS = frozenset({"prices"})  # {"input", "output", "cacheRead", "cacheWrite", "asOf"}
_AS_OF = re.compile(r"\d{4}-\d{2}-\d{2}")
_CAPABILITY_KEYS = frozenset(
    {
        "supportsChat",
        "supportsCompletion",
        "supportsFunctionCalling",
        "supportsSystemMessages",
        "supportsStreaming",
        "supportsSamplingParameters",
    }
)
# A pattern is a normalized name, optionally ending in `*` (prefix match). Prefix stems
# need at least three characters so that no pattern can match almost anything.
_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
_MIN_PREFIX_STEM = 3
_FAMILY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_Enum = TypeVar("_Enum", ProviderType, Modality)

# Version suffixes dropped (one at a time, right to left) when the shorter name is known:
# -2024-08-06, -09-2025, -20241022, -05-20, -0125 / -2411 / -002, -latest, -preview, -exp.
_VERSION_SUFFIX = re.compile(
    r"-(?:\d{4}-\d{2}-\d{2}|\d{2}-\d{4}|\d{8}|\d{2}-\d{2}|\d{3,4}|latest|preview|exp)$"
)
# An Ollama tag that may be part of the name once joined with `-` (`llama4:scout`).
_TAG = re.compile(r"[a-z0-9._-]+")
# `llama3.1` -> `llama-3.1`: the first letter-to-digit boundary gets a hyphen.
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)")


@dataclass(frozen=True, slots=True)
class KnownModel:
    """What the catalog knows about one model family/version."""

    key: str
    family: str
    provider_type: ProviderType
    endpoint_url: str | None
    max_context_length: int
    modalities: tuple[Modality, ...]
    capabilities: Capabilities
    prices: Prices | None = None  # list prices per million tokens, US dollars
    prices_as_of: str | None = None  # the day they were the list prices, YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class _Index:
    models: tuple[KnownModel, ...]
    exact: Mapping[str, KnownModel]
    # Prefix stem -> entry, grouped by stem length, longest length first.
    prefixes: tuple[tuple[int, Mapping[str, KnownModel]], ...]

    def best_match(self, name: str) -> tuple[int, bool, KnownModel] | None:
        """(pattern length, is exact, entry) of the most specific pattern matching `name`."""
        model = self.exact.get(name)
        if model is not None:
            return len(name), True, model
        for length, stems in self.prefixes:
            if length <= len(name):
                model = stems.get(name[:length])
                if model is not None:
                    return length, False, model
        return None


def lookup_model(model_identifier: str) -> KnownModel | None:
    """Return the most specific catalog entry for `model_identifier`, or None if unknown.

    Matching is case-insensitive and ignores routing prefixes (`openai/`, `models/`, ...),
    Vertex `@version` suffixes, OpenAI `ft:` fine-tune wrappers and Ollama `:tags` (also
    tried joined: `llama4:scout` -> `llama4-scout`); `llama3.1` also reads as `llama-3.1`;
    version suffixes (`-2024-08-06`, `-20241022`, `-0125`, `-latest`, ...) whenever the
    shorter name is in the catalog. Of all matching patterns the longest wins; at equal
    length an exact name beats a prefix.
    """
    index = _index()
    best: tuple[int, bool, KnownModel] | None = None
    for name in _candidate_names(model_identifier):
        match = index.best_match(name)
        if match is not None and (best is None or match[:2] > best[:2]):
            best = match
    return best[2] if best is not None else None


def known_models() -> tuple[KnownModel, ...]:
    """Every catalog entry, in file order."""
    return _index().models


def parse_catalog(document: object) -> tuple[KnownModel, ...]:
    """Validate a catalog document (the decoded JSON) and return its entries.

    Raises ValueError naming the offending entry on unknown or missing keys, bad enum
    values, a non-positive context length, a malformed pattern, or a pattern or key
    used twice.
    """
    return _build_index(document).models


@cache
def _index() -> _Index:
    raw = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return _build_index(json.loads(raw))


def _candidate_names(model_identifier: str) -> list[str]:
    """Normalized spellings of `model_identifier` to look up, least rewritten first."""
    name = model_identifier.strip().lower().rsplit("/", 1)[-1]
    name = name.split("@", 1)[0].removeprefix("ft:")
    base, _, tag = name.partition(":")
    bases = [f"{base}-{tag}", base] if tag and _TAG.fullmatch(tag) else [base]
    bases += [hyphenated for b in bases if (hyphenated := _LETTER_DIGIT.sub("-", b, count=1)) != b]
    names: dict[str, None] = {}
    for candidate in bases:
        while candidate and candidate not in names:
            names[candidate] = None
            candidate = _VERSION_SUFFIX.sub("", candidate)
    return list(names)


def _build_index(document: object) -> _Index:
    if not isinstance(document, list):
        raise ValueError(f"{_DATA_FILE}: expected a list of entries")
    models: list[KnownModel] = []
    exact: dict[str, KnownModel] = {}
    prefixes: dict[int, dict[str, KnownModel]] = {}
    owners: dict[str, str] = {}  # pattern -> key of the entry that declared it
    for position, entry in enumerate(document):
        label = _entry_label(position, entry)
        model, patterns = _parse_entry(entry, label)
        if any(known.key == model.key for known in models):
            raise ValueError(f"{label}: key {model.key!r} is used by an earlier entry")
        for pattern in patterns:
            if pattern in owners:
                raise ValueError(
                    f"{label}: pattern {pattern!r} is already used by entry {owners[pattern]!r}"
                )
            owners[pattern] = model.key
            if pattern.endswith("*"):
                stem = pattern[:-1]
                prefixes.setdefault(len(stem), {})[stem] = model
            else:
                exact[pattern] = model
        models.append(model)
    return _Index(
        models=tuple(models),
        exact=exact,
        prefixes=tuple(sorted(prefixes.items(), reverse=True)),
    )


def _entry_label(position: int, entry: object) -> str:
    match = entry.get("match") if isinstance(entry, dict) else None
    first = match[0] if isinstance(match, list) and match else None
    return f"{_DATA_FILE} entry {position}" + (f" ({first!r})" if first is not None else "")


def _parse_entry(entry: object, label: str) -> tuple[KnownModel, list[str]]:
    if not isinstance(entry, dict):
        raise ValueError(f"{label}: expected an object")
    unknown = sorted(set(entry) - _ENTRY_KEYS - _OPTIONAL_KEYS)
    if unknown:
        raise ValueError(f"{label}: unknown keys {unknown}")
    missing = sorted(_ENTRY_KEYS - set(entry))
    if missing:
        raise ValueError(f"{label}: missing keys {missing}")

    patterns = entry["match"]
    if not isinstance(patterns, list) or not patterns:
        raise ValueError(f"{label}: 'match' must be a non-empty list of patterns")
    for pattern in patterns:
        _check_pattern(pattern, label)
    if len(set(patterns)) != len(patterns):
        raise ValueError(f"{label}: 'match' lists a pattern twice")

    family = entry["family"]
    if not isinstance(family, str) or not _FAMILY.fullmatch(family):
        raise ValueError(f"{label}: 'family' must be a lowercase hyphenated name")
    provider_type = _enum(ProviderType, entry["providerType"], "providerType", label)
    endpoint_url = entry["endpointUrl"]
    if endpoint_url is not None and (
        not isinstance(endpoint_url, str) or not endpoint_url.startswith("https://")
    ):
        raise ValueError(f"{label}: 'endpointUrl' must be an https URL or null")
    max_context_length = entry["maxContextLength"]
    if (
        not isinstance(max_context_length, int)
        or isinstance(max_context_length, bool)
        or max_context_length <= 0
    ):
        raise ValueError(f"{label}: 'maxContextLength' must be a positive integer")

    raw_modalities = entry["modalities"]
    if not isinstance(raw_modalities, list) or not raw_modalities:
        raise ValueError(f"{label}: 'modalities' must be a non-empty list")
    modalities = tuple(_enum(Modality, value, "modalities", label) for value in raw_modalities)
    if len(set(modalities)) != len(modalities):
        raise ValueError(f"{label}: 'modalities' lists a modality twice")

    prices, as_of = _parse_prices(entry.get("prices"), label)
    model = KnownModel(
        key=patterns[0].removesuffix("*"),
        family=family,
        provider_type=provider_type,
        endpoint_url=endpoint_url,
        max_context_length=max_context_length,
        modalities=modalities,
        capabilities=_parse_capabilities(entry["capabilities"], label),
        prices=prices,
        prices_as_of=as_of,
    )
    return model, patterns


def _parse_prices(raw: object, label: str) -> tuple[Prices | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise ValueError(f"{label}: 'prices' must be an object")
    as_of = raw.get("asOf")
    if not isinstance(as_of, str) or not _AS_OF.fullmatch(as_of):
        raise ValueError(f"{label}: 'prices.asOf' must be the date of the prices, YYYY-MM-DD")
    cost = {key: value for key, value in raw.items() if key != "asOf"}
    errors = ViolationCollector()
    check_cost(cost, "prices", errors)
    if errors.violations:
        raise ValueError(
            f"{label}: " + "; ".join(f"{v.field}: {v.rule}" for v in errors.violations)
        )
    return prices_of(cost), as_of


def _check_pattern(pattern: object, label: str) -> None:
    if not isinstance(pattern, str):
        raise ValueError(f"{label}: pattern {pattern!r} is not a string")
    stem = pattern.removesuffix("*")
    if not _PATTERN.fullmatch(stem):
        raise ValueError(
            f"{label}: pattern {pattern!r} must be a lowercase model name "
            "(letters, digits, '.', '_', '-'), optionally ending in '*'"
        )
    if stem != pattern and len(stem) < _MIN_PREFIX_STEM:
        raise ValueError(f"{label}: prefix pattern {pattern!r} is too short")


def _parse_capabilities(raw: object, label: str) -> Capabilities:
    if not isinstance(raw, dict) or set(raw) != _CAPABILITY_KEYS:
        raise ValueError(
            f"{label}: 'capabilities' must have exactly the keys {sorted(_CAPABILITY_KEYS)}"
        )
    for key, value in raw.items():
        if not isinstance(value, bool):
            raise ValueError(f"{label}: capability {key!r} must be true or false")
    return Capabilities(
        supports_chat=raw["supportsChat"],
        supports_completion=raw["supportsCompletion"],
        supports_function_calling=raw["supportsFunctionCalling"],
        supports_system_messages=raw["supportsSystemMessages"],
        supports_streaming=raw["supportsStreaming"],
        supports_sampling_parameters=raw["supportsSamplingParameters"],
    )


def _enum(kind: type[_Enum], value: object, field: str, label: str) -> _Enum:
    if not isinstance(value, str):
        raise ValueError(f"{label}: {field!r} value {value!r} is not a string")
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValueError(f"{label}: {field!r} value {value!r} is not one of {allowed}") from None
