"""Prompt templates: named text with `${var}` placeholders, kept in immutable versions.

Variable grammar: `${name}` where `name` starts with a letter of any script (so `${主题}`
works) or `_`, and goes on with letters, digits, `_`, `.` or `-`, at most 64 characters in
all. `$${x}` is the literal text `${x}`. Anything else, such as `${ x }` or `${1x}`, is
plain text. `variables` lists the distinct names in order of first appearance.

Rendering is bounded: the size of the text it would make is computed from the template's
parts and the values' sizes before any of it is built, and a text over the limit is refused.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from modelplane.domain.chat_prompts import (
    ChatMessage,
    PromptKind,
    chat_text,
    check_config,
    check_messages,
)
from modelplane.domain.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    ViolationCollector,
)
from modelplane.domain.text import check_length
from modelplane.placeholders import Placeholders, variables_of

PROMPT_TEMPLATE = "PromptTemplate"
NAME_MAX = 255
CONTENT_MAX = 100_000
VALUE_MAX = 100_000
VERSION_MAX = 2**31 - 1
RENDERED_MAX_BYTES = 1024 * 1024  # the default of MODELPLANE_MAX_RENDERED_BYTES
MISSING_RULE = "missing: the template uses it and no value was given"
# `$$` followed by `{…}` escapes; a name is a letter (any script) or `_`, then word
# characters, `.` or `-`.
_ID = re.compile(r"^[0-9a-f]{32}$")


class TemplateType(StrEnum):
    """`Custom` templates belong to a workspace; `System` ones ship built in, read-only."""

    CUSTOM = "Custom"
    SYSTEM = "System"


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """A prompt template at its current version."""

    prompt_template_id: str
    workspace_id: str
    name: str
    content: str
    variables: tuple[str, ...]
    type: TemplateType
    version: int
    created_at: int
    updated_at: int
    created_by: str
    updated_by: str
    labels: tuple[str, ...] = ()  # the labels that point at this version (`latest` too)
    kind: PromptKind = PromptKind.TEXT
    messages: tuple[ChatMessage, ...] = ()  # a chat template's; `content` shows them as text
    config: Mapping[str, Any] | None = None  # read with the prompt (model, sampling, …)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A filled template (a chat template's messages too), the names left unfilled, and
    the names given but not used."""

    text: str
    missing: tuple[str, ...]
    unused: tuple[str, ...]
    messages: tuple[ChatMessage, ...] = ()


def new_template_id() -> str:
    """32 lowercase hex characters."""
    return secrets.token_hex(16)


def is_template_id(text: str) -> bool:
    """Whether `text` has the form of a template id."""
    return bool(_ID.fullmatch(text))


def check_version(version: int | None) -> None:
    """Raise InvalidArgument (field `version`) for a number no version can have."""
    if version is not None and not 1 <= version <= VERSION_MAX:
        raise InvalidArgument.of("version", f"must be 1..{VERSION_MAX}")


def first_in_list_order(now_ms: int, newest_ms: int | None) -> int:
    """The creation time of a new template: after every template already in the workspace.

    Lists run in (createdAt, id) order and a next-page token continues after its last
    row, so a template added while a client pages must sort after every row it has seen,
    even when created in the same millisecond.
    """
    return now_ms if newest_ms is None else max(now_ms, newest_ms + 1)


def check_text(name: str | None, content: str | None) -> None:
    """Raise InvalidArgument (field `name` or `content`) for a bad name or content; None
    is one not given (an update leaves it as it is)."""
    errors = ViolationCollector()
    if name is not None:
        check_length(name, "name", errors, most=NAME_MAX, required=True)
    if content is not None:
        check_length(content, "content", errors, most=CONTENT_MAX, required=True)
    errors.raise_if_any()


@dataclass(frozen=True, slots=True)
class Body:
    """What a version holds besides its name: a text or chat messages, and a config."""

    kind: PromptKind
    content: str
    messages: tuple[ChatMessage, ...]
    config: Mapping[str, Any] | None

    @classmethod
    def of(
        cls,
        *,
        content: str | None,
        messages: Sequence[ChatMessage] | None,
        config: Mapping[str, Any] | None,
        was: Body | None = None,
    ) -> Body:
        """The body given (`content` or `messages`, not both), checked; for an update, what
        is not given stays as `was` holds it (an empty `config` clears it)."""
        if content is not None and messages is not None:
            raise InvalidArgument.of("messages", "give content (a text) or messages, not both")
        if config is not None:
            check_config(config)
        kept_config = was.config if was is not None and config is None else (config or None)
        if messages is not None:
            check_messages(messages, content_max=CONTENT_MAX)
            chat = tuple(messages)
            return cls(PromptKind.CHAT, chat_text(chat), chat, kept_config)
        if content is None:
            if was is None:
                raise InvalidArgument.of(
                    "content", "required: give content (a text) or messages (a chat template)"
                )
            return cls(was.kind, was.content, was.messages, kept_config)
        check_text(None, content)
        return cls(PromptKind.TEXT, content, (), kept_config)


TEMPLATE_ID_RULE = "must be 32 characters of 0-9 and a-f"


def check_template_id(template_id: str | None) -> None:
    """A client-chosen `promptTemplateId` has the form of the ids the server makes."""
    if template_id is not None and not is_template_id(template_id):
        raise InvalidArgument.of("promptTemplateId", TEMPLATE_ID_RULE)


def template_id_taken(template_id: str) -> AlreadyExists:
    """The error for a client-chosen template id that is already a template's."""
    return AlreadyExists(
        PROMPT_TEMPLATE, f"promptTemplateId {template_id!r} is taken; choose another"
    )


def new_template(
    *,
    workspace_id: str,
    name: str,
    body: Body,
    actor_id: str,
    now_ms: int,
    prompt_template_id: str | None = None,
) -> PromptTemplate:
    """Build version 1 of a custom template (`body` checked by `Body.of`); its id is the
    client's when given."""
    check_text(name, None)
    check_template_id(prompt_template_id)
    return PromptTemplate(
        prompt_template_id=prompt_template_id or new_template_id(),
        workspace_id=workspace_id,
        name=name,
        content=body.content,
        variables=variables_of(body.content),
        type=TemplateType.CUSTOM,
        version=1,
        created_at=now_ms,
        updated_at=now_ms,
        created_by=actor_id,
        updated_by=actor_id,
        kind=body.kind,
        messages=body.messages,
        config=body.config,
    )


def body_of(template: PromptTemplate) -> Body:
    """What a template's version holds besides its name."""
    return Body(template.kind, template.content, template.messages, template.config)


def next_version(
    template: PromptTemplate, *, name: str | None, body: Body, actor_id: str, now_ms: int
) -> PromptTemplate:
    """The template's next version with the name (if given) and `body`."""
    check_text(name, None)
    return PromptTemplate(
        prompt_template_id=template.prompt_template_id,
        workspace_id=template.workspace_id,
        name=name if name is not None else template.name,
        content=body.content,
        variables=variables_of(body.content),
        type=template.type,
        version=template.version + 1,
        created_at=template.created_at,
        updated_at=max(now_ms, template.updated_at),
        created_by=template.created_by,
        updated_by=actor_id,
        kind=body.kind,
        messages=body.messages,
        config=body.config,
    )


def _check_values(values: dict[str, str]) -> None:
    """Raise InvalidArgument naming each value that is not a string of VALUE_MAX characters.

    The common case (every value fine) is checked with C loops: a request may send 100,000.
    """
    kinds = set(map(type, values.values()))
    if kinds <= {str} and max(map(len, values.values()), default=0) <= VALUE_MAX:
        return
    errors = ViolationCollector()
    for key, value in values.items():
        if not isinstance(value, str):
            errors.add(f"variables.{key}", "must be a string")
        else:
            check_length(value, f"variables.{key}", errors, most=VALUE_MAX)
    errors.raise_if_any()


def _rendered_size(content: str, counts: Counter[str], escapes: int, values: dict[str, str]) -> int:
    """The UTF-8 size of `content` rendered with `values`, computed without rendering it.

    `counts` holds how often each placeholder occurs and `escapes` how many `$${x}` there
    are: each filled placeholder `${name}` gives way to its value, each escape loses a `$`.
    """
    size = len(content.encode("utf-8", "surrogatepass")) - escapes
    for name, count in counts.items():
        value = values.get(name)
        if value is not None:
            grown = len(value.encode("utf-8", "surrogatepass")) - len(name.encode("utf-8")) - 3
            size += count * grown
    return size


def render(
    content: str,
    values: dict[str, str],
    *,
    allow_partial: bool = False,
    max_bytes: int = RENDERED_MAX_BYTES,
) -> Rendered:
    """Fill the placeholders of `content` with `values`.

    A placeholder without a value stays as written when `allow_partial` is set; otherwise
    InvalidArgument names every missing variable. `$${x}` becomes `${x}`. A text that
    would be over `max_bytes` (UTF-8) is refused (field `variables`) before it is built.
    """
    _check_values(values)
    cut = Placeholders.of(content)
    missing = cut.missing(values)
    if missing and not allow_partial:
        raise InvalidArgument(
            f"variables: missing values for {', '.join(missing)}",
            violations=[FieldViolation(f"variables.{n}", MISSING_RULE) for n in missing],
        )
    size = _rendered_size(content, cut.counts, cut.escapes, values)
    if size > max_bytes:
        raise InvalidArgument.of(
            "variables",
            f"the rendered text would be {size:,} bytes (UTF-8); at most {max_bytes:,} bytes "
            "may be rendered",
        )
    return Rendered(text=cut.fill(values), missing=missing, unused=cut.unused(values))


def render_template(
    template: PromptTemplate,
    values: dict[str, str],
    *,
    allow_partial: bool = False,
    max_bytes: int = RENDERED_MAX_BYTES,
) -> Rendered:
    """Fill a template: its text, and each message of a chat template (checked once, on
    the messages as one text: every missing variable named, the size bounded)."""
    whole = render(template.content, values, allow_partial=allow_partial, max_bytes=max_bytes)
    if template.kind is not PromptKind.CHAT:
        return whole
    filled = tuple(
        ChatMessage(m.role, render(m.content, values, allow_partial=True, max_bytes=max_bytes).text)
        for m in template.messages
    )
    return Rendered(whole.text, whole.missing, whole.unused, messages=filled)


def name_taken(name: str, workspace_id: str) -> AlreadyExists:
    """The error for a template name already used in a workspace."""
    return AlreadyExists(
        PROMPT_TEMPLATE,
        f"name {name!r} is taken in workspace {workspace_id}: template names are unique "
        "in a workspace; choose another, or update that template",
    )
