"""Prompt templates: named text with `${var}` placeholders, kept in immutable versions.

Variable grammar: `${name}` where `name` starts with a letter of any script (so `${主题}`
works) or `_`, and goes on with letters, digits, `_`, `.` or `-`, at most 64 characters in
all. `$${x}` is the literal text `${x}`. Anything else, such as `${ x }` or `${1x}`, is
plain text. `variables` lists the distinct names in order of first appearance.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from modelplane.domain.errors import FieldViolation, InvalidArgument, ViolationCollector

PROMPT_TEMPLATE = "PromptTemplate"
NAME_MAX = 255
CONTENT_MAX = 100_000
VALUE_MAX = 100_000
VERSION_MAX = 2**31 - 1
MISSING_RULE = "missing: the template uses it and no value was given"
# `$$` followed by `{…}` escapes; a name is a letter (any script) or `_`, then word
# characters, `.` or `-`.
_PLACEHOLDER = re.compile(r"\$(\$?)\{([^\W\d][\w.-]{0,63})\}")
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


@dataclass(frozen=True, slots=True)
class Rendered:
    """A filled template, the names left unfilled, and the names given but not used."""

    text: str
    missing: tuple[str, ...]
    unused: tuple[str, ...]


def new_template_id() -> str:
    """32 lowercase hex characters."""
    return secrets.token_hex(16)


def is_template_id(text: str) -> bool:
    """Whether `text` has the form of a template id."""
    return bool(_ID.fullmatch(text))


def variables_of(content: str) -> tuple[str, ...]:
    """The distinct `${name}` placeholders of `content`, in order of first appearance."""
    names = (m.group(2) for m in _PLACEHOLDER.finditer(content) if not m.group(1))
    return tuple(dict.fromkeys(names))


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
    """Raise InvalidArgument (field `name` or `content`) for a bad name or content."""
    errors = ViolationCollector()
    if name is not None and (not name.strip() or len(name) > NAME_MAX):
        errors.add("name", f"required, 1..{NAME_MAX} characters, not only spaces")
    if content is not None and (not content.strip() or len(content) > CONTENT_MAX):
        errors.add("content", f"required, 1..{CONTENT_MAX} characters, not only spaces")
    errors.raise_if_any()


def new_template(
    *, workspace_id: str, name: str, content: str, actor_id: str, now_ms: int
) -> PromptTemplate:
    """Validate and build version 1 of a custom template."""
    check_text(name, content)
    return PromptTemplate(
        prompt_template_id=new_template_id(),
        workspace_id=workspace_id,
        name=name,
        content=content,
        variables=variables_of(content),
        type=TemplateType.CUSTOM,
        version=1,
        created_at=now_ms,
        updated_at=now_ms,
        created_by=actor_id,
        updated_by=actor_id,
    )


def next_version(
    template: PromptTemplate, *, name: str | None, content: str | None, actor_id: str, now_ms: int
) -> PromptTemplate:
    """The template's next version with the given fields changed."""
    check_text(name, content)
    new_content = content if content is not None else template.content
    return PromptTemplate(
        prompt_template_id=template.prompt_template_id,
        workspace_id=template.workspace_id,
        name=name if name is not None else template.name,
        content=new_content,
        variables=variables_of(new_content),
        type=template.type,
        version=template.version + 1,
        created_at=template.created_at,
        updated_at=max(now_ms, template.updated_at),
        created_by=template.created_by,
        updated_by=actor_id,
    )


def render(content: str, values: dict[str, str], *, allow_partial: bool = False) -> Rendered:
    """Fill the placeholders of `content` with `values`.

    A placeholder without a value stays as written when `allow_partial` is set; otherwise
    InvalidArgument names every missing variable. `$${x}` becomes `${x}`.
    """
    errors = ViolationCollector()
    for key, value in values.items():
        if not isinstance(value, str):
            errors.add(f"variables.{key}", "must be a string")
        elif len(value) > VALUE_MAX:
            errors.add(f"variables.{key}", f"at most {VALUE_MAX} characters")
    errors.raise_if_any()
    names = variables_of(content)
    missing = tuple(n for n in names if n not in values)
    if missing and not allow_partial:
        raise InvalidArgument(
            f"variables: missing values for {', '.join(missing)}",
            violations=[FieldViolation(f"variables.{n}", MISSING_RULE) for n in missing],
        )

    def fill(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(0)[1:]
        name = match.group(2)
        return values[name] if name in values else match.group(0)

    text = _PLACEHOLDER.sub(fill, content)
    unused = tuple(k for k in values if k not in names)
    return Rendered(text=text, missing=missing, unused=unused)
