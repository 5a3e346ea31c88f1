"""Built-in model catalog: data validity, identifier normalization and most-specific matching."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from modelplane.domain.known_models import (
    KnownModel,
    known_models,
    lookup_model,
    parse_catalog,
)
from modelplane.domain.llm_types import Modality, ProviderType

FAMILIES = {
    "openai",
    "anthropic",
    "google",
    "qwen",
    "deepseek",
    "meta-llama",
    "mistral",
    "moonshot",
}


def _document() -> list[dict[str, Any]]:
    text = (
        resources.files("modelplane.domain.data")
        .joinpath("known_models.json")
        .read_text(encoding="utf-8")
    )
    document: list[dict[str, Any]] = json.loads(text)
    return document


def _found(identifier: str) -> KnownModel:
    model = lookup_model(identifier)
    assert model is not None, f"{identifier!r} should be in the catalog"
    return model


# --- the data -------------------------------------------------------------------------


def test_every_json_entry_validates_and_is_loaded() -> None:
    document = _document()
    assert len(parse_catalog(document)) == len(document) == len(known_models())


def test_every_named_family_is_present() -> None:
    assert {model.family for model in known_models()} == FAMILIES


def test_json_entries_are_grouped_by_family_in_sorted_order() -> None:
    families = [entry["family"] for entry in _document()]
    assert families == sorted(families)


def test_every_pattern_finds_its_own_entry() -> None:
    for entry in _document():
        for pattern in entry["match"]:
            model = _found(pattern.removesuffix("*"))
            assert model.key == entry["match"][0].removesuffix("*"), pattern


def test_entry_key_is_its_first_pattern_without_the_star() -> None:
    assert _found("claude-sonnet-4-20250514").key == "claude-sonnet-4"
    assert _found("llama3.1:8b").key == "llama-3.1"


def test_open_weight_models_have_no_default_endpoint() -> None:
    for identifier in ("llama-3.3-70b-instruct", "llama-4-scout-17b-16e-instruct"):
        model = _found(identifier)
        assert model.endpoint_url is None
        assert model.provider_type is ProviderType.CUSTOM_OPENAI_COMPATIBLE


# --- exact matches per family ---------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "family", "provider_type", "endpoint_url", "context"),
    [
        ("gpt-4o", "openai", ProviderType.OPENAI, "https://api.openai.com/v1", 128_000),
        ("gpt-4.1", "openai", ProviderType.OPENAI, "https://api.openai.com/v1", 1_047_576),
        ("gpt-5-nano", "openai", ProviderType.OPENAI, "https://api.openai.com/v1", 400_000),
        (
            "claude-sonnet-4-5",
            "anthropic",
            ProviderType.CUSTOM_OPENAI_COMPATIBLE,
            "https://api.anthropic.com/v1",
            200_000,
        ),
        (
            "gemini-2.5-pro",
            "google",
            ProviderType.CUSTOM_OPENAI_COMPATIBLE,
            "https://generativelanguage.googleapis.com/v1beta/openai",
            1_048_576,
        ),
        (
            "qwen-max",
            "qwen",
            ProviderType.DASHSCOPE,
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            32_768,
        ),
        (
            "deepseek-chat",
            "deepseek",
            ProviderType.CUSTOM_OPENAI_COMPATIBLE,
            "https://api.deepseek.com/v1",
            128_000,
        ),
        (
            "llama-3.3-70b-instruct",
            "meta-llama",
            ProviderType.CUSTOM_OPENAI_COMPATIBLE,
            None,
            131_072,
        ),
        (
            "mistral-large",
            "mistral",
            ProviderType.CUSTOM_OPENAI_COMPATIBLE,
            "https://api.mistral.ai/v1",
            131_072,
        ),
        (
            "moonshot-v1-32k",
            "moonshot",
            ProviderType.CUSTOM_OPENAI_COMPATIBLE,
            "https://api.moonshot.cn/v1",
            32_768,
        ),
    ],
)
def test_exact_name_finds_the_family_provider_endpoint_and_context(
    identifier: str,
    family: str,
    provider_type: ProviderType,
    endpoint_url: str | None,
    context: int,
) -> None:
    model = _found(identifier)
    assert (model.family, model.provider_type, model.endpoint_url) == (
        family,
        provider_type,
        endpoint_url,
    )
    assert model.max_context_length == context


# --- most specific wins ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o", "gpt-4o"),
        ("gpt-4.1", "gpt-4.1"),
        ("gpt-4.1-mini", "gpt-4.1-mini"),
        ("gpt-4", "gpt-4"),
        ("gpt-4-turbo", "gpt-4-turbo"),
        ("o3-mini", "o3-mini"),
        ("o3", "o3"),
        ("o1-preview-2024-09-12", "o1-preview"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-sonnet-4", "claude-sonnet-4"),
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("qwen3-coder-480b-a35b-instruct", "qwen3-coder"),
        ("qwen3-235b-a22b", "qwen3"),
        ("qwen3-max-preview", "qwen3-max"),
        ("qwen2.5-vl-72b-instruct", "qwen2.5-vl"),
        ("llama-3.2-11b-vision-instruct", "llama-3.2-vision"),
        ("llama-3.2-3b-instruct", "llama-3.2"),
        ("deepseek-coder-v2-lite-instruct", "deepseek-coder-v2"),
        ("gpt-3.5-turbo-instruct", "gpt-3.5-turbo-instruct"),
    ],
)
def test_longest_matching_pattern_wins(identifier: str, key: str) -> None:
    assert _found(identifier).key == key


# --- normalization --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("openai/gpt-4o", "gpt-4o"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.3"),
        ("Qwen/Qwen2.5-72B-Instruct", "qwen2.5"),
        ("openrouter/deepseek/deepseek-r1", "deepseek-r1"),
    ],
)
def test_routing_prefixes_are_stripped(identifier: str, key: str) -> None:
    assert _found(identifier).key == key


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("llama3.1:8b", "llama-3.1"),
        ("llama3.1", "llama-3.1"),
        ("llama3:latest", "llama-3"),
        ("llama4:scout", "llama-4-scout"),
        ("qwen2.5:72b", "qwen2.5"),
        ("mixtral:8x22b", "open-mixtral-8x22b"),
        ("anthropic/claude-3.7-sonnet:thinking", "claude-3-7-sonnet"),
    ],
)
def test_ollama_and_router_tags_are_stripped_or_joined(identifier: str, key: str) -> None:
    assert _found(identifier).key == key


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("mistral-large-2411", "mistral-large"),
        ("qwen-plus-latest", "qwen-plus"),
        ("deepseek-r1-0528", "deepseek-r1"),
    ],
)
def test_dated_and_version_suffixes_are_stripped_when_the_base_is_known(
    identifier: str, key: str
) -> None:
    assert _found(identifier).key == key


def test_a_name_listed_with_its_suffix_is_not_stripped() -> None:
    # gpt-4-1106-preview is GPT-4 Turbo (128k), not GPT-4 (8k).
    assert _found("gpt-4-1106-preview").max_context_length == 128_000
    assert _found("gpt-4-0613").max_context_length == 8_192


def test_openai_fine_tune_identifier_finds_its_base_model() -> None:
    assert _found("ft:gpt-4o-mini-2024-07-18:acme::abc123").key == "gpt-4o-mini"


@pytest.mark.parametrize("identifier", ["GPT-4O", "Claude-3-5-Sonnet-20241022", " gpt-4o "])
def test_lookup_is_case_and_whitespace_insensitive(identifier: str) -> None:
    assert lookup_model(identifier) is not None


# --- unknown models -------------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier",
    [
        "my-private-model",
        "gpt",
        "gpt-4o-evil",  # hosted names match exactly: no loose prefix for gpt-4o
        "gpt-4o-audio-preview",  # a different model with different capabilities
        "claude",
        "llama-30b",  # `llama-3` patterns must not take LLaMA-1 30B
        "acme-internal-7b",
        "",
        "   ",
        "openai/",
    ],
)
def test_unknown_identifier_returns_none(identifier: str) -> None:
    assert lookup_model(identifier) is None


# --- capabilities and modalities ------------------------------------------------------


@pytest.mark.parametrize("identifier", ["o1", "o1-mini", "o3", "o3-mini", "o4-mini", "gpt-5"])
def test_openai_reasoning_models_do_not_support_sampling_parameters(identifier: str) -> None:
    assert _found(identifier).capabilities.supports_sampling_parameters is False


def test_deepseek_reasoner_ignores_sampling_and_has_no_tools() -> None:
    capabilities = _found("deepseek-reasoner").capabilities
    assert not capabilities.supports_sampling_parameters
    assert not capabilities.supports_function_calling


@pytest.mark.parametrize("identifier", ["o1-mini", "o1-preview"])
def test_early_o1_models_have_no_system_messages_or_tools(identifier: str) -> None:
    capabilities = _found(identifier).capabilities
    assert not capabilities.supports_system_messages
    assert not capabilities.supports_function_calling


@pytest.mark.parametrize("identifier", ["gpt-3.5-turbo-instruct", "davinci-002", "babbage-002"])
def test_legacy_instruct_models_are_completion_only(identifier: str) -> None:
    capabilities = _found(identifier).capabilities
    assert capabilities.supports_completion
    assert not capabilities.supports_chat


def test_chat_models_are_chat_only() -> None:
    capabilities = _found("gpt-4o").capabilities
    assert capabilities.supports_chat
    assert not capabilities.supports_completion
    assert capabilities.supports_function_calling


@pytest.mark.parametrize(
    "identifier",
    [
        "gpt-4o",
        "gpt-4.1-mini",
        "claude-3-haiku",
        "gemini-2.0-flash",
        "qwen-vl-max",
        "qwen2.5-vl-7b-instruct",
        "llama-3.2-90b-vision-instruct",
        "llama-4-maverick",
        "pixtral-large-latest",
        "moonshot-v1-8k-vision-preview",
    ],
)
def test_vision_models_accept_images(identifier: str) -> None:
    assert Modality.IMAGE in _found(identifier).modalities


@pytest.mark.parametrize("identifier", ["gpt-3.5-turbo", "o3-mini", "deepseek-chat", "qwen-max"])
def test_text_only_models_accept_only_text(identifier: str) -> None:
    assert _found(identifier).modalities == (Modality.TEXT,)


def test_gemini_accepts_audio_and_video() -> None:
    assert set(_found("gemini-2.5-flash").modalities) == set(Modality)


# --- validation -----------------------------------------------------------------------


def _valid_entry() -> dict[str, Any]:
    return copy.deepcopy(_document()[0])


def _reject(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        parse_catalog([entry])
    assert "known_models.json entry 0" in str(raised.value)


def test_validation_rejects_unknown_keys_naming_the_entry() -> None:
    entry = _valid_entry() | {"contextWindow": 1}
    _reject(entry, r"entry 0 \('claude-opus-4-5'\): unknown keys \['contextWindow'\]")


def test_validation_rejects_missing_keys() -> None:
    entry = _valid_entry()
    del entry["endpointUrl"]
    _reject(entry, "missing keys")


def test_validation_rejects_a_bad_provider_type() -> None:
    _reject(_valid_entry() | {"providerType": "ANTHROPIC"}, "'providerType' value 'ANTHROPIC'")


def test_validation_rejects_a_bad_modality() -> None:
    _reject(_valid_entry() | {"modalities": ["TEXT", "PDF"]}, "'modalities' value 'PDF'")


@pytest.mark.parametrize("context", [0, -1, "128000", True, 1.5])
def test_validation_rejects_a_non_positive_or_non_integer_context_length(context: object) -> None:
    _reject(_valid_entry() | {"maxContextLength": context}, "'maxContextLength'")


def test_validation_rejects_incomplete_or_non_boolean_capabilities() -> None:
    entry = _valid_entry()
    del entry["capabilities"]["supportsStreaming"]
    _reject(entry, "'capabilities' must have exactly the keys")
    entry = _valid_entry()
    entry["capabilities"]["supportsChat"] = "yes"
    _reject(entry, "'supportsChat' must be true or false")


@pytest.mark.parametrize(
    "pattern", ["GPT-4o", "openai/gpt-4o", "gpt*4", "*", "ab*", "gpt-4o:8b", ""]
)
def test_validation_rejects_malformed_patterns(pattern: str) -> None:
    entry = _valid_entry()
    entry["match"] = ["fine-name", pattern]
    _reject(entry, "pattern")


def test_validation_rejects_a_pattern_used_by_two_entries() -> None:
    first, second = _valid_entry(), _valid_entry()
    second["match"] = ["other-name", first["match"][0]]
    with pytest.raises(ValueError, match=r"entry 1 \('other-name'\).*already used"):
        parse_catalog([first, second])


def test_validation_rejects_a_document_that_is_not_a_list() -> None:
    with pytest.raises(ValueError, match="expected a list"):
        parse_catalog({"models": []})
