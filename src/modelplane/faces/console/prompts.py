"""Prompts: the prompt templates of a workspace. Workspaces, then their templates paged and
searched; create, edit (each save is a version), delete; an editor that lists the
`${variables}` it finds as you type (console.js; without a script they show once saved or
previewed); versions; labels moved (promote, roll back; `production` needs the editor
role) and removed; the diff between two versions or labels; a preview with a field per
variable; a playground that sends the rendered prompt through the gateway to a model.

Chat templates are edited as text: each message starts with a line holding only its role
in brackets (`[system]`, `[developer]`, `[user]`, `[assistant]`); the lines after it, up to
the next such line, are its content."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response

from modelplane.domain.chat_prompts import ChatMessage, PromptKind
from modelplane.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from modelplane.domain.prompt_diff import TextDiff
from modelplane.domain.prompt_labels import LATEST
from modelplane.domain.prompts import PromptTemplate
from modelplane.faces.console import prompt_playground as playground
from modelplane.faces.console.web import PREFIX, ConsolePage, Form, ListQuery, Screen
from modelplane.services import prompt_labels as label_service
from modelplane.services import prompts as service
from modelplane.services import workspaces as workspace_service

screen = Screen()
HOME = f"{PREFIX}/prompts"
FORM = "prompts/form.html"
VARIABLE = "prompt.variables."  # the preview's and playground's fields: as the gateway names them
MAX_TOKENS_DEFAULT = "256"
_REFUSED = (InvalidArgument, AlreadyExists, FailedPrecondition)
_ROLE_LINE = re.compile(r"^\[([a-z]+)\]\s*$")


def _path(page: ConsolePage, name: str) -> str:
    value: str = page.request.path_params[name]
    return value


def _where(page: ConsolePage) -> tuple[str, str]:
    return _path(page, "workspace_id"), _path(page, "template_id")


def template_url(workspace_id: str, template_id: str) -> str:
    """The console page of a template."""
    return f"{HOME}/{workspace_id}/templates/{template_id}"


# --- workspaces ----------------------------------------------------------------------


@screen.get(HOME)
async def list_workspaces(page: ConsolePage) -> Response:
    """The workspaces the principal owns or is a member of (admins: all)."""
    found = await workspace_service.list_workspaces(store=page.store, actor=page.principal)
    return page.render("prompts/workspaces.html", workspaces=found, fields={}, errors=None)


@screen.post(f"{HOME}/workspaces")
async def create_workspace(page: ConsolePage) -> Response:
    """Create a workspace (its id optional); a refused form names the field and rule."""
    form = page.form
    try:
        workspace = await workspace_service.create_workspace(
            store=page.store,
            actor=page.principal,
            name=form.get("name"),
            workspace_id=form.optional("workspaceId"),
        )
    except _REFUSED as exc:
        return page.form_failed("prompts/workspace_form.html", exc, fields=form.values())
    return page.redirect(
        f"{HOME}/{workspace.workspace_id}", flash=f"Workspace {workspace.name} created."
    )


# --- templates -------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPager:
    """A page of a list paged by token: where it is, the first page and the next one."""

    first_item: int
    last_item: int
    total: int
    size: int
    first_url: str | None
    next_url: str | None
    query: ListQuery


@screen.get(HOME + "/{workspace_id}")
async def list_templates(page: ConsolePage) -> Response:
    """A workspace's templates, oldest first, a page at a time, searched by name."""
    workspace_id = _path(page, "workspace_id")
    query = page.list_query("q", "after")
    if query.page.size > service.MAX_RESULTS_MAX:
        raise InvalidArgument.of("size", f"must be 1..{service.MAX_RESULTS_MAX}")
    found = await service.list_prompt_templates(
        store=page.store,
        actor=page.principal,
        workspace_id=workspace_id,
        name=query.filters["q"] or None,
        max_results=query.page.size,
        next_token=query.filters["after"] or None,
    )
    before = query.page.offset if query.filters["after"] else 0  # `page` only counts
    first = before + 1 if found.items else 0
    pager = TokenPager(
        first_item=first,
        last_item=first + len(found.items) - 1 if found.items else 0,
        total=found.total,
        size=found.max_results,
        first_url=query.url(page=None, after=None) if query.filters["after"] else None,
        next_url=(
            query.url(page=query.page.number + 1, after=found.next_token)
            if found.next_token
            else None
        ),
        query=query,
    )
    return page.render(
        "prompts/list.html",
        workspace_id=workspace_id,
        templates=found.items,
        pager=pager,
        filters=query.filters,
    )


def messages_of(text: str) -> list[ChatMessage]:
    """The chat messages written in the editor: `[role]` lines start each message."""
    messages: list[ChatMessage] = []
    role: str | None = None
    lines: list[str] = []
    for n, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        started = _ROLE_LINE.match(line)
        if started:
            if role is not None:
                messages.append(ChatMessage(role, "\n".join(lines).strip("\n")))
            role, lines = started.group(1), []
        elif role is None:
            if line.strip():
                raise InvalidArgument.of(
                    "messages", f"line {n}: start each message with its role, e.g. [system]"
                )
        else:
            lines.append(line)
    if role is not None:
        messages.append(ChatMessage(role, "\n".join(lines).strip("\n")))
    return messages


def messages_text(messages: tuple[ChatMessage, ...]) -> str:
    """Chat messages as the editor writes them."""
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages)


def _config(text: str, *, editing: bool) -> dict[str, Any] | None:
    if not text.strip():
        return {} if editing else None  # an empty config clears the version's
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument.of("config", f"must be a JSON object ({exc})") from None
    if not isinstance(found, dict):
        raise InvalidArgument.of("config", "must be a JSON object")
    return found


def _body(form: Form, *, editing: bool) -> dict[str, Any]:
    content, chat = form.get("content"), form.get("messages")
    return {
        "content": content if content or not chat else None,
        "messages": messages_of(chat) if chat else None,
        "config": _config(form.get("config"), editing=editing),
    }


def _fields_of(template: PromptTemplate) -> dict[str, str]:
    chat = template.kind is PromptKind.CHAT
    return {
        "name": template.name,
        "content": "" if chat else template.content,
        "messages": messages_text(template.messages) if chat else "",
        "config": orjson.dumps(template.config, option=orjson.OPT_INDENT_2).decode()
        if template.config
        else "",
    }


@screen.get(HOME + "/{workspace_id}/new")
async def new_template(page: ConsolePage) -> Response:
    """The editor of a new template."""
    workspace_id = _path(page, "workspace_id")
    return page.render(
        FORM,
        action=f"{HOME}/{workspace_id}/new",
        workspace_id=workspace_id,
        fields={},
        variables=(),
        errors=None,
    )


@screen.post(HOME + "/{workspace_id}/new")
async def create_template(page: ConsolePage) -> Response:
    """Create the template (version 1); a refused form names each field and rule."""
    workspace_id = _path(page, "workspace_id")
    form = page.form
    action = f"{HOME}/{workspace_id}/new"
    try:
        template = await service.create_prompt_template(
            store=page.store,
            actor=page.principal,
            workspace_id=workspace_id,
            name=form.get("name"),
            prompt_template_id=form.optional("promptTemplateId"),
            **_body(form, editing=False),
        )
    except _REFUSED as exc:
        return page.form_failed(
            FORM,
            exc,
            action=action,
            workspace_id=workspace_id,
            fields=form.values(),
            variables=(),
        )
    return page.redirect(
        template_url(workspace_id, template.prompt_template_id),
        flash=f"Template {template.name} created (version 1).",
    )


def _version_param(page: ConsolePage, name: str = "version") -> int | None:
    given = page.query.get(name, "").strip()
    if not given:
        return None
    if not given.isascii() or not given.isdigit() or len(given) > 10:
        raise InvalidArgument.of(name, "must be a version number")
    return int(given)


@screen.get(HOME + "/{workspace_id}/templates/{template_id}")
async def show_template(page: ConsolePage) -> Response:
    """A template: a version's text (the current one unless `version`), its variables,
    the versions with their labels, and the label, diff, preview and edit actions."""
    workspace_id, template_id = _where(page)
    wanted = _version_param(page)
    versions = await service.list_versions(
        store=page.store, actor=page.principal, workspace_id=workspace_id, template_id=template_id
    )
    current = versions[-1]
    shown = next((v for v in versions if v.version == wanted), None) if wanted else current
    if shown is None:
        raise NotFound("PromptTemplate", f"{template_id} version {wanted}")
    labels = sorted(
        ((label, v.version) for v in versions for label in v.labels if label != LATEST),
        key=lambda pair: pair[0],
    )
    return page.render(
        "prompts/show.html",
        workspace_id=workspace_id,
        prompt=current,
        shown=shown,
        versions=list(reversed(versions)),
        labels=labels,
        config_text=orjson.dumps(shown.config, option=orjson.OPT_INDENT_2).decode()
        if shown.config
        else "",
    )


@screen.get(HOME + "/{workspace_id}/templates/{template_id}/edit")
async def edit_template(page: ConsolePage) -> Response:
    """The editor filled with the current version."""
    workspace_id, template_id = _where(page)
    template = await service.get_prompt_template(
        store=page.store, actor=page.principal, workspace_id=workspace_id, template_id=template_id
    )
    return page.render(
        FORM,
        action=f"{template_url(workspace_id, template_id)}/edit",
        workspace_id=workspace_id,
        fields=_fields_of(template),
        variables=template.variables,
        errors=None,
    )


@screen.post(HOME + "/{workspace_id}/templates/{template_id}/edit")
async def update_template(page: ConsolePage) -> Response:
    """Save a new version (nothing changed: no version); a refused form names the field."""
    workspace_id, template_id = _where(page)
    form = page.form
    action = f"{template_url(workspace_id, template_id)}/edit"
    try:
        template = await service.update_prompt_template(
            store=page.store,
            actor=page.principal,
            workspace_id=workspace_id,
            template_id=template_id,
            name=form.get("name"),
            **_body(form, editing=True),
        )
    except _REFUSED as exc:
        return page.form_failed(
            FORM,
            exc,
            action=action,
            workspace_id=workspace_id,
            fields=form.values(),
            variables=(),
        )
    return page.redirect(
        template_url(workspace_id, template.prompt_template_id),
        flash=f"Template {template.name} saved (version {template.version}).",
    )


@screen.get(HOME + "/{workspace_id}/templates/{template_id}/delete")
async def confirm_delete(page: ConsolePage) -> Response:
    """Ask before deleting a template with all its versions."""
    workspace_id, template_id = _where(page)
    template = await service.get_prompt_template(
        store=page.store, actor=page.principal, workspace_id=workspace_id, template_id=template_id
    )
    return page.render("prompts/delete.html", workspace_id=workspace_id, prompt=template)


@screen.post(HOME + "/{workspace_id}/templates/{template_id}/delete")
async def delete_template(page: ConsolePage) -> Response:
    """Delete the template, its versions and its labels."""
    workspace_id, template_id = _where(page)
    await service.delete_prompt_template(
        store=page.store, actor=page.principal, workspace_id=workspace_id, template_id=template_id
    )
    return page.redirect(f"{HOME}/{workspace_id}", flash="Template deleted.")


# --- labels ------------------------------------------------------------------------------


def _form_version(form: Form) -> int:
    given = form.get("version")
    if not given.isascii() or not given.isdigit() or len(given) > 10:
        raise InvalidArgument.of("version", "must be a version number")
    return int(given)


@screen.post(HOME + "/{workspace_id}/templates/{template_id}/labels")
async def move_label(page: ConsolePage) -> Response:
    """Point a label at a version: a promotion, or a roll back to an older one."""
    workspace_id, template_id = _where(page)
    form = page.form
    moved = await label_service.set_label(
        store=page.store,
        actor=page.principal,
        workspace_id=workspace_id,
        template_id=template_id,
        label=form.get("label"),
        version=_form_version(form),
    )
    label = moved.label
    if not moved.moved:
        said = f"Label {label.label} already points at version {label.version}."
    elif moved.previous_version is None:
        said = f"Label {label.label} now points at version {label.version}."
    else:
        said = (
            f"Label {label.label} moved from version {moved.previous_version} "
            f"to version {label.version}."
        )
    return page.redirect(template_url(workspace_id, template_id), flash=said)


@screen.post(HOME + "/{workspace_id}/templates/{template_id}/labels/remove")
async def remove_label(page: ConsolePage) -> Response:
    """Unset a label."""
    workspace_id, template_id = _where(page)
    removed = await label_service.remove_label(
        store=page.store,
        actor=page.principal,
        workspace_id=workspace_id,
        template_id=template_id,
        label=page.form.get("label"),
    )
    return page.redirect(
        template_url(workspace_id, template_id), flash=f"Label {removed.label.label} removed."
    )


# --- diff, preview, playground --------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff and what it is: head, hunk, add, remove or same."""

    kind: str
    text: str


def diff_lines(diff: TextDiff) -> list[DiffLine]:
    """The lines of a unified diff, each with its kind (for the page's styles)."""
    found = []
    for line in diff.text.splitlines():
        if line.startswith(("--- ", "+++ ")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "remove"
        else:
            kind = "same"
        found.append(DiffLine(kind, line))
    return found


@screen.get(HOME + "/{workspace_id}/templates/{template_id}/diff")
async def diff(page: ConsolePage) -> Response:
    """The unified diff from one version or label (`from`) to another (`to`, default
    `latest`)."""
    workspace_id, template_id = _where(page)
    old = page.query.get("from", "").strip() or "1"
    new = page.query.get("to", "").strip() or LATEST
    found = await service.diff_prompt_template(
        store=page.store,
        actor=page.principal,
        workspace_id=workspace_id,
        template_id=template_id,
        old=old,
        new=new,
    )
    return page.render(
        "prompts/diff.html",
        workspace_id=workspace_id,
        template_id=template_id,
        found=found,
        lines=diff_lines(found.diff),
        old=old,
        new=new,
    )


def _variables(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return {key[len(VARIABLE) :]: value for key, value in pairs if key.startswith(VARIABLE)}


@screen.get(HOME + "/{workspace_id}/templates/{template_id}/preview")
async def preview(page: ConsolePage) -> Response:
    """A version rendered with the values given (a field per variable; those left blank
    stay as `${name}`), and the playground's form."""
    workspace_id, template_id = _where(page)
    version = _version_param(page)
    values = _variables(list(page.query.multi_items()))
    template, rendered = await service.render_prompt_template(
        store=page.store,
        actor=page.principal,
        workspace_id=workspace_id,
        template_id=template_id,
        variables={k: v for k, v in values.items() if v},
        allow_partial=True,
        version=version,
    )
    return page.render(
        "prompts/preview.html",
        workspace_id=workspace_id,
        prompt=template,
        rendered=rendered,
        values=values,
        fields={
            "model": str((template.config or {}).get("model", "")),
            "maxTokens": MAX_TOKENS_DEFAULT,
            "version": str(template.version),
        },
        errors=None,
    )


@screen.post(HOME + "/{workspace_id}/templates/{template_id}/playground")
async def play(page: ConsolePage) -> Response:
    """Send the rendered version to a model through the gateway and show the answer."""
    workspace_id, template_id = _where(page)
    form = page.form
    values = _variables(list(form.values().items()))
    shown: dict[str, Any] = {
        "workspace_id": workspace_id,
        "template_id": template_id,
        "values": values,
        "fields": form.values(),
    }
    try:
        version = _form_version(form)
        report = await playground.play(
            state=page.state,
            actor=page.principal,
            workspace_id=workspace_id,
            template_id=template_id,
            version=version,
            variables={name: value for name, value in values.items() if value},
            model=form.get("model"),
            max_tokens=playground.max_tokens_of(form.get("maxTokens") or MAX_TOKENS_DEFAULT),
        )
    except InvalidArgument as exc:
        return page.form_failed("prompts/played.html", exc, report=None, **shown)
    return page.render("prompts/played.html", errors=None, report=report, **shown)
