"""Value types of an LLM connection: enums, capabilities and sampling parameters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProviderType(StrEnum):
    """Wire enum `providerType` (seed 003, plus DASHSCOPE as sent by the goodmem SDK)."""

    OPENAI = "OPENAI"
    LITELLM_PROXY = "LITELLM_PROXY"
    OPEN_ROUTER = "OPEN_ROUTER"
    DASHSCOPE = "DASHSCOPE"
    VLLM = "VLLM"
    OLLAMA = "OLLAMA"
    LLAMA_CPP = "LLAMA_CPP"
    CUSTOM_OPENAI_COMPATIBLE = "CUSTOM_OPENAI_COMPATIBLE"


class Modality(StrEnum):
    """Wire enum `supportedModalities[]`."""

    TEXT = "TEXT"
    IMAGE = "IMAGE"
    AUDIO = "AUDIO"
    VIDEO = "VIDEO"


class DashScopeApiDialect(StrEnum):
    """Wire enum `dashscopeApiDialect`; only meaningful for DASHSCOPE."""

    LLM_NATIVE_TEXT = "LLM_NATIVE_TEXT"
    LLM_NATIVE_MULTIMODAL = "LLM_NATIVE_MULTIMODAL"
    OPENAI_COMPATIBLE = "OPENAI_COMPATIBLE"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an LLM endpoint supports. Every flag is explicit once stored."""

    supports_chat: bool
    supports_completion: bool
    supports_function_calling: bool
    supports_system_messages: bool
    supports_streaming: bool
    supports_sampling_parameters: bool


# Applied when capabilities are not given and the model is not in the catalog:
# the baseline every OpenAI-compatible chat endpoint offers; nothing beyond it is guessed.
BASELINE_CAPABILITIES = Capabilities(
    supports_chat=True,
    supports_completion=False,
    supports_function_calling=False,
    supports_system_messages=True,
    supports_streaming=True,
    supports_sampling_parameters=True,
)


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """Default sampling parameters sent with generation requests."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop_sequences: tuple[str, ...] | None = None
