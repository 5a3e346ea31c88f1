"""Chat prompts and a version's config.

A chat template holds a list of messages (`role`, `content` with `${var}` placeholders)
instead of one text; rendering fills every message. Its `content` is the messages as one
readable text (`role: content` blocks, a blank line between), which is what faces without
messages (bailian) show, and what its `variables` are read from.

A version of any template may carry a `config`: a JSON object a caller reads with the
prompt (the model to call, sampling parameters, `response_format`, …). The names the
gateway knows are checked (`model`, `temperature`, `top_p`, `max_tokens`, `stop`,
`response_format`); others are kept as given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from modelplane.domain.errors import InvalidArgument, ViolationCollector
from modelplane.domain.text import check_length

ROLES = ("system", "developer", "user", "assistant")
MESSAGES_MAX = 100
CONFIG_MAX_BYTES = 16 * 1024
MODEL_MAX = 255


class PromptKind(StrEnum):
    """What a template holds: one text, or a list of chat messages."""

    TEXT = "text"
    CHAT = "chat"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a chat template."""

    role: str
    content: str


def chat_text(messages: Sequence[ChatMessage]) -> str:
    """The messages as one text: `role: content` blocks with a blank line between."""
    return "\n\n".join(f"{m.role}: {m.content}" for m in messages)


def check_messages(messages: Sequence[ChatMessage], *, content_max: int) -> None:
    """Raise InvalidArgument naming each bad message (`messages[i].role`, …)."""
    errors = ViolationCollector()
    if not 1 <= len(messages) <= MESSAGES_MAX:
        raise InvalidArgument.of("messages", f"must hold 1..{MESSAGES_MAX} messages")
    for i, message in enumerate(messages):
        if message.role not in ROLES:
            errors.add(f"messages.{i}.role", f"must be one of {', '.join(ROLES)}")
        check_length(message.content, f"messages.{i}.content", errors, most=content_max)
    errors.raise_if_any()
    size = len(chat_text(messages))
    if size > content_max:
        raise InvalidArgument.of(
            "messages",
            f"{size:,} characters in all (as `role: content` blocks); at most {content_max:,}",
        )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_config(config: Mapping[str, Any]) -> None:
    """Raise InvalidArgument naming each field of `config` (`config.temperature`, …) that
    breaks its rule, or `config` when it is too large."""
    if not isinstance(config, Mapping):
        raise InvalidArgument.of("config", "must be a JSON object")
    size = len(orjson.dumps(dict(config)))
    if size > CONFIG_MAX_BYTES:
        raise InvalidArgument.of("config", f"{size:,} bytes as JSON; at most {CONFIG_MAX_BYTES:,}")
    errors = ViolationCollector()
    model = config.get("model")
    if "model" in config and (not isinstance(model, str) or not 1 <= len(model) <= MODEL_MAX):
        errors.add("config.model", f"must be a model name of 1..{MODEL_MAX} characters")
    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        if name in config and not (_number(config[name]) and low <= config[name] <= high):
            errors.add(f"config.{name}", f"must be a number {low}..{high}")
    tokens = config.get("max_tokens")
    if "max_tokens" in config and not (
        isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 1
    ):
        errors.add("config.max_tokens", "must be a whole number of at least 1")
    stop = config.get("stop")
    if "stop" in config and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        errors.add("config.stop", "must be a string or a list of strings")
    if "response_format" in config and not isinstance(config["response_format"], Mapping):
        errors.add("config.response_format", "must be a JSON object")
    errors.raise_if_any()
