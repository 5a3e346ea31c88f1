"""Prompt templates served at the gateway: a call names a template instead of, or before,
its messages, and the gateway sends the rendered prompt.

A call's body may hold `prompt`, shaped as OpenAI's Responses API shapes its reusable
prompts, with a label of our own:

    "prompt": {"id": "WORKSPACE/TEMPLATE", "variables": {"name": "Ada"},
               "label": "production" | "version": "3"}

`TEMPLATE` is the template's name or id in that workspace. Without `label` or `version`
the version the `production` label points at is served. The rendered messages come first
(a text template is one `user` message; a chat template its messages), then the call's own
(`messages` for chat completions, `input` for responses). The version's `config` fills
what the call does not set: `model` (an empty `model`, as an SDK that requires one
sends, counts as not set), and the sampling names it holds (`temperature`,
`top_p`, `max_tokens`, `stop`, `response_format`, …); what the call sets wins. For a
response, `max_tokens` is sent as `max_output_tokens`, `response_format` as `text.format`,
and `stop` (which responses do not take) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelplane.domain.chat_prompts import ChatMessage
from modelplane.domain.errors import FieldViolation, InvalidArgument, ViolationCollector
from modelplane.domain.gateway import Operation
from modelplane.domain.prompt_labels import LABEL_RULE, is_label

DEFAULT_LABEL = "production"
FIELD = "prompt"
VARIABLES_MAX = 200
VARIABLE_VALUE_MAX = 1_000_000  # characters; the rendered text has its own bound
MISSING_RULE = "required by the template: give it a value"
# Where the rendered messages go, by operation; the others take no prompt.
_MESSAGES_FIELD = {Operation.CHAT: "messages", Operation.RESPONSES: "input"}


@dataclass(frozen=True, slots=True)
class PromptCall:
    """The template a call names: where it is, which version, and the values to fill."""

    workspace_id: str
    template: str
    label: str | None
    version: int | None
    variables: dict[str, str]


def names_prompt(body: object, operation: Operation) -> bool:
    """Whether a call's body names a prompt template (a completion's `prompt` is its own
    text, and other operations take none)."""
    return operation in _MESSAGES_FIELD and isinstance(body, dict) and FIELD in body


def prompt_of(body: Mapping[str, Any], operation: Operation) -> PromptCall | None:
    """The call's `prompt`, checked; None when it names none (and for operations other than
    chat completions and responses, which pass `prompt` on as it is)."""
    if not names_prompt(body, operation) or body[FIELD] is None:
        return None
    given = body[FIELD]
    if not isinstance(given, dict):
        raise InvalidArgument.of(FIELD, "must be an object with `id` and `variables`")
    errors = ViolationCollector()
    ref = given.get("id")
    workspace, _, template = ref.partition("/") if isinstance(ref, str) else ("", "", "")
    if not workspace or not template:
        errors.add(f"{FIELD}.id", "must be WORKSPACE/TEMPLATE (the template's name or id)")
    label = given.get("label")
    if label is not None and not (isinstance(label, str) and is_label(label)):
        errors.add(f"{FIELD}.label", f"must be {LABEL_RULE}")
    version = _version(given.get("version"), errors)
    if label is not None and version is not None:
        errors.add(f"{FIELD}.version", "give `label` or `version`, not both")
    variables = _variables(given.get("variables", {}), errors)
    unknown = sorted(set(given) - {"id", "label", "version", "variables"})
    for name in unknown:
        errors.add(f"{FIELD}.{name}", "is not a field of prompt (id, label, version, variables)")
    errors.raise_if_any()
    if version is None and label is None:
        label = DEFAULT_LABEL
    return PromptCall(workspace, template, label, version, variables)


def _version(given: object, errors: ViolationCollector) -> int | None:
    if given is None:
        return None
    text = str(given) if isinstance(given, int) and not isinstance(given, bool) else given
    if isinstance(text, str) and text.isascii() and text.isdigit() and 0 < int(text) < 2**31:
        return int(text)
    errors.add(f"{FIELD}.version", "must be a version number (1 or more)")
    return None


def _variables(given: object, errors: ViolationCollector) -> dict[str, str]:
    if not isinstance(given, dict):
        errors.add(f"{FIELD}.variables", "must be an object of names to strings")
        return {}
    if len(given) > VARIABLES_MAX:
        errors.add(f"{FIELD}.variables", f"must hold at most {VARIABLES_MAX} values")
        return {}
    found = {}
    for name, value in given.items():
        if not isinstance(value, str):
            errors.add(f"{FIELD}.variables.{name}", "must be a string")
        elif len(value) > VARIABLE_VALUE_MAX:
            errors.add(f"{FIELD}.variables.{name}", f"must be at most {VARIABLE_VALUE_MAX} chars")
        else:
            found[name] = value
    return found


def missing_variables(missing: Sequence[str]) -> InvalidArgument:
    """The error for variables the template needs and the call did not give."""
    return InvalidArgument(
        f"{FIELD}.variables: missing values for {', '.join(missing)}",
        violations=[FieldViolation(f"{FIELD}.variables.{n}", MISSING_RULE) for n in missing],
    )


def with_prompt(
    body: Mapping[str, Any],
    operation: Operation,
    messages: Sequence[ChatMessage],
    config: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """`body` without `prompt`, the rendered `messages` before its own, and the version's
    `config` where the body sets nothing."""
    sent = {key: value for key, value in body.items() if key != FIELD}
    if sent.get("model") == "":  # the SDKs require one: an empty name leaves it to the config
        del sent["model"]
    field = _MESSAGES_FIELD[operation]
    rendered: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
    own = sent.get(field)
    if own is None:
        sent[field] = rendered
    elif isinstance(own, list):
        sent[field] = [*rendered, *own]
    elif isinstance(own, str) and operation is Operation.RESPONSES:
        sent[field] = [*rendered, {"role": "user", "content": own}]
    else:
        raise InvalidArgument.of(field, "must be a list to follow a prompt's messages")
    for key, value in (config or {}).items():
        if operation is Operation.RESPONSES:
            key, value = _for_responses(key, value)
        if key:
            sent.setdefault(key, value)
    return sent


def _for_responses(key: str, value: Any) -> tuple[str, Any]:
    """A config name as the Responses API spells it ("" for one it has no place for)."""
    if key == "max_tokens":
        return "max_output_tokens", value
    if key == "response_format" and isinstance(value, dict):
        if value.get("type") == "json_schema" and isinstance(value.get("json_schema"), dict):
            return "text", {"format": {"type": "json_schema", **value["json_schema"]}}
        return "text", {"format": value}
    if key == "stop":
        return "", None
    return key, value
