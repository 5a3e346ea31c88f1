"""Wire models of workspaces, their members and prompt templates, and their renderers.

Requests refuse unknown fields and check types; every domain rule (lengths, the id form,
the variable grammar) is checked by the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from modelplane.domain.chat_prompts import MESSAGES_MAX, ChatMessage, PromptKind
from modelplane.domain.prompts import PromptTemplate, Rendered, TemplateType
from modelplane.domain.workspaces import MemberRole, Workspace
from modelplane.faces.native.llm_schemas import WireModel
from modelplane.services.prompts import (
    MAX_RESULTS_DEFAULT,
    MAX_RESULTS_MAX,
    TemplateDiff,
    TemplatePage,
)
from modelplane.services.workspaces import Member

# Copied from the docstring of `modelplane.domain.prompts`, where the grammar is defined.
VARIABLE_GRAMMAR = (
    "Variable grammar: `${name}` where `name` starts with a letter of any script (so "
    "`${主题}` works) or `_`, and goes on with letters, digits, `_`, `.` or `-`, at most 64 "
    "characters in all. `$${x}` is the literal text `${x}`. Anything else, such as `${ x }` "
    "or `${1x}`, is plain text. `variables` lists the distinct names in order of first "
    "appearance."
)
_CONTENT = "1..100,000 characters, not only spaces. " + VARIABLE_GRAMMAR
_NAME = "1..255 characters, not only spaces"
MAX_RESULTS = f"1..{MAX_RESULTS_MAX}; {MAX_RESULTS_DEFAULT} when absent"

# --- requests -------------------------------------------------------------------------------


class WorkspaceCreate(WireModel):
    """Body of `POST /v1/workspaces`."""

    workspace_id: str | None = Field(
        default=None,
        alias="workspaceId",
        description="Chosen by the client, e.g. `llm-czal8nvvwb8d4xxx`: 3..64 of "
        "`[a-z0-9-]`, starting with a letter or digit. Generated when absent; a taken id "
        "is 409.",
    )
    name: str = Field(description=_NAME)
    owner_id: str | None = Field(
        default=None,
        alias="ownerId",
        description="The principal that will own it (default: the caller); another "
        "principal needs the admin role (403)",
    )


class WorkspacePatch(WireModel):
    """Body of `PATCH /v1/workspaces/{id}`."""

    name: str = Field(description=_NAME)


class MemberIn(WireModel):
    """Body of `PUT /v1/workspaces/{id}/members/{principalId}` (optional)."""

    role: str | None = Field(
        default=None,
        description="`reader` (the default: reads, lists and renders the templates), "
        "`author` (also creates and updates them, and moves their labels other than "
        "`production`) or `editor` (also deletes them and moves `production`)",
        json_schema_extra={"enum": [r.value for r in MemberRole]},
    )


class MessageIn(WireModel):
    """One message of a chat template."""

    role: str = Field(description="`system`, `developer`, `user` or `assistant`")
    content: str = Field(description="Its text, with `${name}` placeholders")

    def message(self) -> ChatMessage:
        """The domain's message."""
        return ChatMessage(self.role, self.content)


_MESSAGES = (
    f"A chat template's messages (1..{MESSAGES_MAX}; 100,000 characters in all as `role: "
    "content` blocks); not with `content`"
)
_CONFIG = (
    "A JSON object read with the prompt (at most 16 KiB): `model` (a model name), "
    "`temperature` (0..2), `top_p` (0..1), `max_tokens` (at least 1), `stop` (a string or "
    "strings), `response_format` (an object) are checked; other names are kept as given"
)


class TemplateCreate(WireModel):
    """Body of `POST /v1/workspaces/{ws}/prompt-templates`: `content` (a text template) or
    `messages` (a chat template)."""

    name: str = Field(description=_NAME)
    content: str | None = Field(default=None, description=_CONTENT)
    messages: list[MessageIn] | None = Field(default=None, description=_MESSAGES)
    config: dict[str, Any] | None = Field(default=None, description=_CONFIG)
    prompt_template_id: str | None = Field(
        default=None,
        alias="promptTemplateId",
        description="Chosen by the client (32 of `[0-9a-f]`, as the ids the server makes), "
        "e.g. to copy a template to another instance. Generated when absent; an id any "
        "template has is 409.",
    )

    def chat(self) -> list[ChatMessage] | None:
        """The messages given, as the domain's."""
        return None if self.messages is None else [m.message() for m in self.messages]


class TemplatePatch(WireModel):
    """Body of `PATCH …/prompt-templates/{id}`: the fields given (not null) change.

    Every update writes a new immutable version; the old one stays readable. `content`
    makes the new version a text template, `messages` a chat one; `config: {}` clears it.
    """

    name: str | None = Field(default=None, description=_NAME)
    content: str | None = Field(default=None, description=_CONTENT)
    messages: list[MessageIn] | None = Field(default=None, description=_MESSAGES)
    config: dict[str, Any] | None = Field(default=None, description=_CONFIG)

    def chat(self) -> list[ChatMessage] | None:
        """The messages given, as the domain's."""
        return None if self.messages is None else [m.message() for m in self.messages]


class RenderIn(WireModel):
    """Body of `POST …/prompt-templates/{id}:render`."""

    variables: dict[str, str] = Field(
        default_factory=dict, description="A value for each variable name"
    )
    allow_partial: bool = Field(
        default=False,
        alias="allowPartial",
        description="Leave placeholders without a value as written instead of failing",
    )
    version: int | None = Field(default=None, description="Render this version (default: current)")
    label: str | None = Field(
        default=None,
        description="Render the version this label points at (`latest`: the current one); "
        "not with `version`",
    )


# --- responses ------------------------------------------------------------------------------


class WorkspaceOut(BaseModel):
    """A workspace."""

    workspaceId: str
    name: str
    ownerId: str
    createdAt: int


class WorkspaceListOut(BaseModel):
    """The workspaces the caller owns or is a member of (admins: all), oldest first."""

    workspaces: list[WorkspaceOut]


class MemberOut(BaseModel):
    """A principal that was added to a workspace, its role, and when it was added."""

    principalId: str
    role: MemberRole = Field(description="`reader`, `author` or `editor`")
    addedAt: int


class MemberListOut(BaseModel):
    """The members of a workspace, in the order they were added."""

    members: list[MemberOut]


class MessageOut(BaseModel):
    """One message of a chat template."""

    role: str
    content: str


class PromptTemplateOut(BaseModel):
    """A prompt template at one version."""

    promptTemplateId: str = Field(description="32 lowercase hex characters")
    workspaceId: str
    name: str
    content: str
    variables: list[str] = Field(
        description="The distinct `${name}` placeholders in order of first appearance"
    )
    type: TemplateType = Field(description="`Custom`, or `System` (built in, read-only)")
    version: int
    createdAt: int
    updatedAt: int
    createdBy: str
    updatedBy: str
    labels: list[str] = Field(
        description="The labels that point at this version; `latest` marks the current one"
    )
    kind: PromptKind = Field(description="`text`, or `chat` (it holds `messages`)")
    messages: list[MessageOut] | None = Field(
        description="A chat template's messages (null for a text template); `content` shows "
        "them as `role: content` blocks"
    )
    config: dict[str, Any] | None = Field(description="The version's config, if it has one")


class PromptTemplateListOut(BaseModel):
    """A page of prompt templates, oldest first."""

    promptTemplates: list[PromptTemplateOut]
    totalCount: int = Field(description="How many templates match in all")
    maxResults: int
    nextToken: str | None = Field(
        default=None, description="Pass as `nextToken` for the next page; null on the last"
    )


class VersionListOut(BaseModel):
    """Every version of a template, oldest first."""

    versions: list[PromptTemplateOut]


class RenderOut(BaseModel):
    """A filled template."""

    text: str
    variables: list[str] = Field(description="The template's variables")
    missing: list[str] = Field(description="Variables left unfilled (only with `allowPartial`)")
    unused: list[str] = Field(description="Names given that the template does not use")
    version: int = Field(description="The version that was rendered")
    messages: list[MessageOut] | None = Field(
        description="A chat template's messages, filled (null for a text template); `text` "
        "shows them as `role: content` blocks"
    )
    config: dict[str, Any] | None = Field(description="The rendered version's config")


class DiffEndOut(BaseModel):
    """One side of a diff: the version compared, and the label that named it (if one did)."""

    version: int
    name: str
    labels: list[str] = Field(description="The labels that point at this version")


class DiffOut(BaseModel):
    """The unified diff of a template's text between two versions."""

    promptTemplateId: str
    fromVersion: DiffEndOut = Field(alias="from")
    toVersion: DiffEndOut = Field(alias="to")
    diff: str = Field(
        description="A unified diff (`---`/`+++` headers, `@@` hunks); empty "
        "when the texts are the same"
    )
    identical: bool
    exact: bool = Field(description="False when a large changed block is shown whole")


# --- renderers ------------------------------------------------------------------------------


def render_workspace(workspace: Workspace) -> dict[str, Any]:
    """The wire form of a workspace."""
    return {
        "workspaceId": workspace.workspace_id,
        "name": workspace.name,
        "ownerId": workspace.owner_id,
        "createdAt": workspace.created_at,
    }


def render_member(member: Member) -> dict[str, Any]:
    """The wire form of a member."""
    return {
        "principalId": member.principal_id,
        "role": member.role.value,
        "addedAt": member.added_at,
    }


def render_template(template: PromptTemplate) -> dict[str, Any]:
    """The wire form of a prompt template."""
    return {
        "promptTemplateId": template.prompt_template_id,
        "workspaceId": template.workspace_id,
        "name": template.name,
        "content": template.content,
        "variables": list(template.variables),
        "type": template.type.value,
        "version": template.version,
        "createdAt": template.created_at,
        "updatedAt": template.updated_at,
        "createdBy": template.created_by,
        "updatedBy": template.updated_by,
        "labels": list(template.labels),
        "kind": template.kind.value,
        "messages": _messages(template.messages) if template.kind is PromptKind.CHAT else None,
        "config": template.config,
    }


def _messages(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def render_template_page(page: TemplatePage) -> dict[str, Any]:
    """A page of templates with the token of the next one."""
    return {
        "promptTemplates": [render_template(t) for t in page.items],
        "totalCount": page.total,
        "maxResults": page.max_results,
        "nextToken": page.next_token,
    }


def render_rendered(template: PromptTemplate, rendered: Rendered) -> dict[str, Any]:
    """The answer of a render."""
    return {
        "text": rendered.text,
        "variables": list(template.variables),
        "missing": list(rendered.missing),
        "unused": list(rendered.unused),
        "version": template.version,
        "messages": _messages(rendered.messages) if template.kind is PromptKind.CHAT else None,
        "config": template.config,
    }


def _diff_end(template: PromptTemplate) -> dict[str, Any]:
    return {"version": template.version, "name": template.name, "labels": list(template.labels)}


def render_diff(found: TemplateDiff) -> dict[str, Any]:
    """The answer of a diff."""
    return {
        "promptTemplateId": found.new.prompt_template_id,
        "from": _diff_end(found.old),
        "to": _diff_end(found.new),
        "diff": found.diff.text,
        "identical": found.diff.identical,
        "exact": found.diff.exact,
    }
