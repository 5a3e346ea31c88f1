"""Catalog: model groups → their providers → their models. Groups paged and searched;
create, edit, delete groups and providers; add models to a provider in a batch (codes one
a line, or YAML), edit a model in place (name, description, config; its code stays),
delete a model; the default model marked and set; a group's runtime bindings paged, bound
and unbound."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import yaml
from starlette.responses import Response

from modelplane.domain.catalog import (
    CONFIG_MAX_BYTES,
    REF_SCOPES,
    BatchItem,
    GroupFilter,
    ProviderKind,
    batch_item_shape,
)
from modelplane.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    ViolationCollector,
)
from modelplane.faces.console.web import PREFIX, ConsolePage, Form, Pager, Screen
from modelplane.services import catalog as service
from modelplane.services import runtimes as runtime_service

screen = Screen()
HOME = f"{PREFIX}/catalog"
GROUP_FORM = "catalog/group_form.html"
PROVIDER_FORM = "catalog/provider_form.html"
BATCH_FORM = "catalog/batch.html"
MODEL_FORM = "catalog/model_form.html"
SCOPE_CHOICES = [("", "None")] + [(s, s) for s in REF_SCOPES]
KIND_CHOICES = [(k.value, k.value) for k in ProviderKind]
_REFUSED = (InvalidArgument, AlreadyExists, FailedPrecondition)
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_GROUP_ID = re.compile(r"mt-[a-z0-9][a-z0-9-]{0,28}")


def _group_page(group_id: str) -> str:
    """Where to go back to after a change in a group (a form's hidden `modelTemplateId`)."""
    return f"{HOME}/{group_id}" if _GROUP_ID.fullmatch(group_id) else HOME


def _path(page: ConsolePage, name: str) -> str:
    value: str = page.request.path_params[name]
    return value


def _group_values(form: Form) -> dict[str, Any]:
    return {
        "name": form.get("name"),
        "description": form.get("description"),
        "ref_scope": form.optional("refScope"),
    }


@screen.get(HOME)
async def list_groups(page: ConsolePage) -> Response:
    """The model groups the principal may read, a page at a time, searched by name."""
    query = page.list_query("q")
    found = await service.list_groups(
        store=page.store,
        actor=page.principal,
        flt=GroupFilter(name=query.filters["q"] or None),
        page=query.page,
    )
    return page.render(
        "catalog/groups.html",
        groups=found.items,
        pager=Pager.of(found, query),
        filters=query.filters,
    )


@screen.get(f"{HOME}/new")
async def new_group(page: ConsolePage) -> Response:
    """The form of a new model group."""
    return page.render(
        GROUP_FORM, action=f"{HOME}/new", fields={}, errors=None, scopes=SCOPE_CHOICES
    )


@screen.post(f"{HOME}/new")
async def create_group(page: ConsolePage) -> Response:
    """Create the group; a refused form comes back naming each field and rule."""
    form = page.form
    try:
        group = await service.create_group(
            store=page.store,
            actor=page.principal,
            **_group_values(form),
            model_template_id=form.optional("modelTemplateId"),
            owner_id=form.optional("ownerId") if page.is_admin else None,
        )
    except (*_REFUSED, PermissionDenied) as exc:
        return page.form_failed(
            GROUP_FORM, exc, action=f"{HOME}/new", fields=form.values(), scopes=SCOPE_CHOICES
        )
    return page.redirect(f"{HOME}/{group.model_template_id}", flash=f"Group {group.name} created.")


@screen.get(HOME + "/{group_id}")
async def show_group(page: ConsolePage) -> Response:
    """A group: its default model, its providers, a page of its models."""
    group_id = _path(page, "group_id")
    query = page.list_query()
    outline = await service.group_outline(
        store=page.store, actor=page.principal, group_id=group_id, page=query.page
    )
    names = {p.provider_template_id: p.provider_name for p in outline.providers}
    return page.render(
        "catalog/group.html",
        outline=outline,
        group=outline.summary.group,
        provider_names=names,
        pager=Pager.of(outline.templates, query),
    )


@screen.get(HOME + "/{group_id}/edit")
async def edit_group(page: ConsolePage) -> Response:
    """The form to change a group, filled with what it is now."""
    group_id = _path(page, "group_id")
    group = (
        await service.get_group(store=page.store, actor=page.principal, group_id=group_id)
    ).group
    fields = {
        "name": group.name,
        "description": group.description or "",
        "refScope": group.ref_scope or "",
    }
    return page.render(
        GROUP_FORM,
        action=f"{HOME}/{group_id}/edit",
        fields=fields,
        errors=None,
        scopes=SCOPE_CHOICES,
    )


@screen.post(HOME + "/{group_id}/edit")
async def update_group(page: ConsolePage) -> Response:
    """Change the group's name, description and scope."""
    group_id = _path(page, "group_id")
    values = _group_values(page.form)
    values["ref_scope"] = values["ref_scope"] or None
    try:
        group = await service.update_group(
            store=page.store, actor=page.principal, group_id=group_id, **values
        )
    except _REFUSED as exc:
        action = f"{HOME}/{group_id}/edit"
        return page.form_failed(
            GROUP_FORM, exc, action=action, fields=page.form.values(), scopes=SCOPE_CHOICES
        )
    return page.redirect(f"{HOME}/{group_id}", flash=f"Group {group.name} saved.")


@screen.post(HOME + "/{group_id}/default")
async def set_default(page: ConsolePage) -> Response:
    """Make a model the group's default (`defaultModel` providerName/llmCode; "" clears)."""
    group_id = _path(page, "group_id")
    pointer = page.form.get("defaultModel")
    await service.update_group(
        store=page.store, actor=page.principal, group_id=group_id, default_model=pointer
    )
    said = f"Default model: {pointer}." if pointer else "The group has no default model now."
    return page.redirect(f"{HOME}/{group_id}", flash=said)


@screen.get(HOME + "/{group_id}/delete")
async def confirm_delete_group(page: ConsolePage) -> Response:
    """Ask before deleting a group."""
    group_id = _path(page, "group_id")
    summary = await service.get_group(store=page.store, actor=page.principal, group_id=group_id)
    return page.render("catalog/delete.html", what="group", summary=summary, item=summary.group)


@screen.post(HOME + "/{group_id}/delete")
async def delete_group(page: ConsolePage) -> Response:
    """Delete the group with its providers, models and runtime bindings."""
    group_id = _path(page, "group_id")
    await service.delete_group(store=page.store, actor=page.principal, group_id=group_id)
    return page.redirect(HOME, flash="Group deleted.")


# --- providers ---------------------------------------------------------------------


def _provider_config(form: Form, *, editing: bool) -> dict[str, Any]:
    config: dict[str, Any] = {"baseUrl": form.optional("baseUrl"), "api": form.optional("api")}
    key = form.get("apiKey")
    if key:
        config["apiKey"] = key
    elif editing and form.has("clearApiKey"):
        config["apiKey"] = None
    return config


@screen.get(HOME + "/{group_id}/providers/new")
async def new_provider(page: ConsolePage) -> Response:
    """The form of a new provider in a group."""
    group_id = _path(page, "group_id")
    return page.render(
        PROVIDER_FORM,
        action=f"{HOME}/{group_id}/providers/new",
        back=f"{HOME}/{group_id}",
        fields={"providerType": ProviderKind.CUSTOM.value},
        errors=None,
        kinds=KIND_CHOICES,
    )


@screen.post(HOME + "/{group_id}/providers/new")
async def create_provider(page: ConsolePage) -> Response:
    """Add the provider (its API key sealed); a refused form names each field and rule."""
    group_id = _path(page, "group_id")
    form = page.form
    try:
        provider = await service.create_provider(
            store=page.store,
            secrets=page.state.secrets,
            actor=page.principal,
            group_id=group_id,
            name=form.get("name"),
            provider_name=form.get("providerName"),
            provider_type=form.get("providerType"),
            config=_provider_config(form, editing=False),
            description=form.optional("description"),
            enable_wuying_proxy=form.has("enableWuyingProxy"),
        )
    except _REFUSED as exc:
        return page.form_failed(
            PROVIDER_FORM,
            exc,
            action=f"{HOME}/{group_id}/providers/new",
            back=f"{HOME}/{group_id}",
            fields=form.values(),
            kinds=KIND_CHOICES,
        )
    return page.redirect(f"{HOME}/{group_id}", flash=f"Provider {provider.provider_name} added.")


@screen.get(HOME + "/providers/{provider_id}/edit")
async def edit_provider(page: ConsolePage) -> Response:
    """The form to change a provider (its key is never shown: blank keeps it)."""
    provider_id = _path(page, "provider_id")
    provider = await service.get_provider(
        store=page.store, actor=page.principal, provider_template_id=provider_id
    )
    fields = {
        "name": provider.name,
        "providerName": provider.provider_name,
        "providerType": provider.provider_type.value,
        "description": provider.description or "",
        "baseUrl": provider.base_url or "",
        "api": provider.api or "",
        "apiKeyHint": provider.api_key_hint or ("stored" if provider.has_api_key else ""),
        "enableWuyingProxy": "on" if provider.enable_wuying_proxy else "",
    }
    return page.render(
        PROVIDER_FORM,
        action=f"{HOME}/providers/{provider_id}/edit",
        back=f"{HOME}/{provider.model_template_id}",
        fields=fields,
        errors=None,
        kinds=KIND_CHOICES,
    )


@screen.post(HOME + "/providers/{provider_id}/edit")
async def update_provider(page: ConsolePage) -> Response:
    """Change the provider; a blank key keeps the stored one, "Remove the key" clears it."""
    provider_id = _path(page, "provider_id")
    form = page.form
    try:
        provider = await service.update_provider(
            store=page.store,
            secrets=page.state.secrets,
            actor=page.principal,
            provider_template_id=provider_id,
            name=form.get("name"),
            description=form.get("description"),
            enable_wuying_proxy=form.has("enableWuyingProxy"),
            config=_provider_config(form, editing=True),
        )
    except _REFUSED as exc:
        return page.form_failed(
            PROVIDER_FORM,
            exc,
            action=f"{HOME}/providers/{provider_id}/edit",
            back=HOME,
            fields=form.values(),
            kinds=KIND_CHOICES,
        )
    return page.redirect(
        f"{HOME}/{provider.model_template_id}", flash=f"Provider {provider.provider_name} saved."
    )


@screen.get(HOME + "/providers/{provider_id}/delete")
async def confirm_delete_provider(page: ConsolePage) -> Response:
    """Ask before deleting a provider."""
    provider_id = _path(page, "provider_id")
    provider = await service.get_provider(
        store=page.store, actor=page.principal, provider_template_id=provider_id
    )
    return page.render("catalog/delete.html", what="provider", item=provider, summary=None)


@screen.post(HOME + "/providers/{provider_id}/delete")
async def delete_provider(page: ConsolePage) -> Response:
    """Delete the provider and its models (the group's default goes if it was one)."""
    provider_id = _path(page, "provider_id")
    await service.delete_provider(
        store=page.store, actor=page.principal, provider_template_id=provider_id
    )
    return page.redirect(_group_page(page.form.get("modelTemplateId")), flash="Provider deleted.")


# --- models (LLM templates) ----------------------------------------------------------


def _too_many_values(value: Any) -> bool:
    """Whether `value` holds more than `CONFIG_MAX_BYTES` values, counted as they would be
    written out (YAML aliases repeat one value many times): the walk stops at the bound."""
    pending, seen = [value], 0
    while pending:
        seen += 1
        if seen > CONFIG_MAX_BYTES:
            return True
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _load_yaml(text: str, field: str, what: str) -> Any:
    """`text` read by YAML's safe loader; InvalidArgument naming `field` when it is not
    `what`, or holds more than `CONFIG_MAX_BYTES` values as written out (aliases repeat a
    value many times from few bytes, and every later step walks them all)."""
    try:
        loaded = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - the safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidArgument.of(field, f"is not valid {what}{where}") from None
    except (RecursionError, ValueError, TypeError, OverflowError):
        raise InvalidArgument.of(field, f"is not valid {what}") from None
    if _too_many_values(loaded):
        raise InvalidArgument.of(field, f"must be at most {CONFIG_MAX_BYTES} bytes")
    return loaded


def _batch_item(n: int, value: Any, errors: ViolationCollector) -> BatchItem | None:
    """One YAML item: a code, or a mapping with the API's names (the domain's shape)."""
    batch_item_shape(n, value, errors)
    if errors.violations:
        return None
    if isinstance(value, str):
        return BatchItem(llm_code=value.strip())
    return BatchItem(
        llm_code=value["llmCode"],
        name=value.get("name"),
        description=value.get("description"),
        config=value.get("config"),
        is_default_model=bool(value.get("isDefaultModel")),
    )


def batch_items(text: str, default_code: str | None) -> list[BatchItem]:
    """The items of the batch form: codes one a line, or a YAML list (of codes, or of
    mappings with llmCode, name, description, config, isDefaultModel); `default_code`
    marks one of them the default. Anything wrong is InvalidArgument, nothing sent."""
    errors = ViolationCollector()
    stripped = text.strip()
    values: list[Any]
    if stripped.startswith(("-", "[")):
        loaded = _load_yaml(stripped, "items", "YAML")
        if not isinstance(loaded, list):
            raise InvalidArgument.of("items", "YAML must be a list")
        values = loaded
    else:
        values = [line.strip() for line in stripped.splitlines() if line.strip()]
    items = [_batch_item(n, value, errors) for n, value in enumerate(values)]
    errors.raise_if_any()
    found = [item for item in items if item is not None]
    if default_code:
        if default_code not in {item.llm_code for item in found}:
            raise InvalidArgument.of("defaultCode", "must be one of the codes of this batch")
        n = next(n for n, item in enumerate(found) if item.llm_code == default_code)
        found[n] = dataclasses.replace(found[n], is_default_model=True)
    return found


@screen.get(HOME + "/providers/{provider_id}/models")
async def batch_form(page: ConsolePage) -> Response:
    """The form to add a batch of models to a provider."""
    provider_id = _path(page, "provider_id")
    provider = await service.get_provider(
        store=page.store, actor=page.principal, provider_template_id=provider_id
    )
    fields = {
        "modelTemplateId": provider.model_template_id,
        "providerName": provider.provider_name,
    }
    return page.render(BATCH_FORM, provider_id=provider_id, fields=fields, errors=None)


@screen.post(HOME + "/providers/{provider_id}/models")
async def add_batch(page: ConsolePage) -> Response:
    """Add the batch in one transaction (codes already there are skipped, with why)."""
    provider_id = _path(page, "provider_id")
    form = page.form
    group_id = form.get("modelTemplateId")
    try:
        result = await service.batch_create_llm_templates(
            store=page.store,
            actor=page.principal,
            provider_template_id=provider_id,
            items=batch_items(form.get("items"), form.optional("defaultCode")),
            model_template_id=group_id or None,
        )
    except _REFUSED as exc:
        return page.form_failed(BATCH_FORM, exc, provider_id=provider_id, fields=form.values())
    said = f"{len(result.llm_template_ids)} of {result.total} models added."
    if result.skipped:
        said += " Skipped: " + ", ".join(s.llm_code for s in result.skipped) + " (already there)."
    return page.redirect(_group_page(group_id), flash=said)


def model_config(text: str) -> dict[str, Any]:
    """The model form's `config`: a YAML or JSON object (blank: `{}`, no config); anything
    else is InvalidArgument naming `config`, nothing sent."""
    if not text.strip():
        return {}
    loaded = _load_yaml(text, "config", "YAML or JSON")
    if not isinstance(loaded, dict):
        raise InvalidArgument.of("config", "must be a mapping (key: value), or blank for none")
    try:  # YAML also reads dates and bytes, which JSON has not
        plain: dict[str, Any] = json.loads(json.dumps(loaded))
    except RecursionError:
        raise InvalidArgument.of("config", "nests too deeply") from None
    except (TypeError, ValueError):
        rule = "must hold only JSON values: text, numbers, true/false, null, lists, mappings"
        raise InvalidArgument.of("config", rule + " (quote dates)") from None
    return plain


@screen.get(HOME + "/models/{template_id}/edit")
async def edit_model(page: ConsolePage) -> Response:
    """The form to change a model, filled with what it is now (its code cannot change)."""
    template_id = _path(page, "template_id")
    template = await service.get_llm_template(
        store=page.store, actor=page.principal, llm_template_id=template_id
    )
    fields = {
        "modelTemplateId": template.model_template_id,
        "llmCode": template.llm_code,
        "name": template.name or "",
        "description": template.description or "",
        "config": json.dumps(template.config, indent=2) if template.config else "",
    }
    return page.render(MODEL_FORM, template_id=template_id, fields=fields, errors=None)


@screen.post(HOME + "/models/{template_id}/edit")
async def update_model(page: ConsolePage) -> Response:
    """Change the model in place: it keeps its id, its code and whether it is the default."""
    template_id = _path(page, "template_id")
    form = page.form
    try:
        template = await service.update_llm_template(
            store=page.store,
            actor=page.principal,
            llm_template_id=template_id,
            name=form.get("name"),
            description=form.get("description"),
            config=model_config(form.get("config")),
        )
    except _REFUSED as exc:
        return page.form_failed(MODEL_FORM, exc, template_id=template_id, fields=form.values())
    return page.redirect(
        _group_page(template.model_template_id), flash=f"Model {template.llm_code} saved."
    )


@screen.get(HOME + "/models/{template_id}/delete")
async def confirm_delete_model(page: ConsolePage) -> Response:
    """Ask before deleting a model."""
    template_id = _path(page, "template_id")
    template = await service.get_llm_template(
        store=page.store, actor=page.principal, llm_template_id=template_id
    )
    return page.render("catalog/delete.html", what="model", item=template, summary=None)


@screen.post(HOME + "/models/{template_id}/delete")
async def delete_model(page: ConsolePage) -> Response:
    """Delete a model (the group's default pointer goes with it when it was the default)."""
    template_id = _path(page, "template_id")
    group_id = page.form.get("modelTemplateId")
    await service.delete_llm_template(
        store=page.store, actor=page.principal, llm_template_id=template_id
    )
    return page.redirect(_group_page(group_id), flash="Model deleted.")


# --- runtime bindings -------------------------------------------------------------------


@screen.get(HOME + "/{group_id}/runtimes")
async def list_runtimes(page: ConsolePage) -> Response:
    """The runtimes bound to a group, a page at a time, and a form to bind more."""
    group_id = _path(page, "group_id")
    query = page.list_query()
    found = await runtime_service.list_bindings(
        store=page.store, actor=page.principal, group_id=group_id, page=query.page
    )
    return page.render(
        "catalog/runtimes.html",
        group_id=group_id,
        runtimes=found.items,
        pager=Pager.of(found, query),
        fields={},
        errors=None,
    )


def _runtime_ids(form: Form) -> list[str]:
    return [line.strip() for line in form.get("runtimeIds").splitlines() if line.strip()]


@screen.post(HOME + "/{group_id}/runtimes")
async def bind(page: ConsolePage) -> Response:
    """Bind runtimes (one id a line) to the group; each runtime's outcome is shown."""
    group_id = _path(page, "group_id")
    form = page.form
    try:
        outcomes = await runtime_service.bind_runtimes(
            store=page.store,
            actor=page.principal,
            group_id=group_id,
            runtime_ids=_runtime_ids(form),
            runtime_type=form.optional("runtimeType"),
        )
    except InvalidArgument as exc:
        return page.form_failed("catalog/bind.html", exc, group_id=group_id, fields=form.values())
    said = "; ".join(f"{o.runtime_id}: {o.result.value}" for o in outcomes)
    kind = "ok" if all(o.success for o in outcomes) else "error"
    return page.redirect(f"{HOME}/{group_id}/runtimes", flash=said, kind=kind)


@screen.post(HOME + "/{group_id}/runtimes/remove")
async def unbind(page: ConsolePage) -> Response:
    """Unbind one runtime from the group (its gateway key is revoked)."""
    group_id = _path(page, "group_id")
    outcomes = await runtime_service.unbind_runtimes(
        store=page.store,
        actor=page.principal,
        group_id=group_id,
        runtime_ids=[page.form.get("runtimeId")],
        runtime_type=page.form.optional("runtimeType"),
    )
    said = "; ".join(f"{o.runtime_id}: {o.result.value.replace('_', ' ')}" for o in outcomes)
    return page.redirect(f"{HOME}/{group_id}/runtimes", flash=said)
