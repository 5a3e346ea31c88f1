"""Connections: the LLM connections the principal sees, paged and filtered; create, edit,
delete (after a confirmation page) and test (a one-token call through the gateway)."""

from __future__ import annotations

from starlette.responses import Response

from modelplane.domain.credentials import ApiKeyCredential, CredentialKind, Credentials
from modelplane.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    ViolationCollector,
)
from modelplane.domain.llm_types import ProviderType
from modelplane.domain.llms import Llm, LlmFilter, LlmPatch, LlmSpec
from modelplane.faces.console.web import PREFIX, ConsolePage, Form, Pager, Screen
from modelplane.faces.gateway.probe import probe
from modelplane.services import llms as service

screen = Screen()
HOME = f"{PREFIX}/connections"
FORM = "connections/form.html"
FILTERS = ("q", "providerType", "ownerId")
PROVIDER_CHOICES = [("", "Infer from the model")] + [(p.value, p.value) for p in ProviderType]
FILTER_CHOICES = [("", "Any provider")] + [(p.value, p.value) for p in ProviderType]
SECRET_FIELD = "apiKey"  # noqa: S105 - the form's field of the provider's key; errors name `credentials`
_REFUSED = (InvalidArgument, AlreadyExists, FailedPrecondition)


def _provider(value: str, errors: ViolationCollector) -> ProviderType | None:
    if not value:
        return None
    try:
        return ProviderType(value)
    except ValueError:
        errors.add("providerType", f"must be one of {', '.join(p.value for p in ProviderType)}")
        return None


def _labels(text: str, errors: ViolationCollector) -> dict[str, str]:
    labels: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            errors.add("labels", f"line {n}: must be key=value")
            continue
        labels[key.strip()] = value.strip()
    return labels


def _whole(value: str, name: str, errors: ViolationCollector) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        errors.add(name, "must be a whole number")
        return None
    return int(value)


def _credentials(form: Form) -> Credentials | None:
    """The provider key given (inline, or `env://NAME`); None when left blank."""
    secret = form.get(SECRET_FIELD)
    if not secret:
        return None
    given = (
        ApiKeyCredential(secret_ref=secret)
        if secret.startswith("env://")
        else ApiKeyCredential(inline_secret=secret)
    )
    return Credentials(kind=CredentialKind.API_KEY, api_key=given)


def _spec(form: Form) -> LlmSpec:
    errors = ViolationCollector()
    spec = LlmSpec(
        display_name=form.get("displayName"),
        model_identifier=form.get("modelIdentifier"),
        provider_type=_provider(form.get("providerType"), errors),
        endpoint_url=form.optional("endpointUrl"),
        description=form.optional("description"),
        api_path=form.optional("apiPath"),
        credentials=_credentials(form),
        labels=_labels(form.get("labels"), errors),
        max_context_length=_whole(form.get("maxContextLength"), "maxContextLength", errors),
    )
    errors.raise_if_any()
    return spec


def _patch(form: Form) -> LlmPatch:
    errors = ViolationCollector()
    patch = LlmPatch(
        display_name=form.get("displayName"),
        description=form.get("description"),
        endpoint_url=form.optional("endpointUrl"),
        api_path=form.optional("apiPath"),
        model_identifier=form.get("modelIdentifier"),
        credentials=_credentials(form),  # blank: the stored key stays
        replace_labels=_labels(form.get("labels"), errors),
        max_context_length=_whole(form.get("maxContextLength"), "maxContextLength", errors),
    )
    errors.raise_if_any()
    return patch


def _fields_of(llm: Llm) -> dict[str, str]:
    """The edit form's values for `llm` (never its key: that field starts blank)."""
    return {
        "displayName": llm.display_name,
        "description": llm.description or "",
        "providerType": llm.provider_type.value,
        "modelIdentifier": llm.model_identifier,
        "endpointUrl": llm.endpoint_url,
        "apiPath": llm.api_path,
        "labels": "\n".join(f"{k}={v}" for k, v in sorted(llm.labels.items())),
        "maxContextLength": str(llm.max_context_length or ""),
    }


@screen.get(HOME)
async def list_connections(page: ConsolePage) -> Response:
    """The connections the principal may read, newest first, a page at a time."""
    query = page.list_query(*FILTERS)
    errors = ViolationCollector()
    provider = _provider(query.filters["providerType"], errors)
    errors.raise_if_any()
    flt = LlmFilter(owner_id=query.filters["ownerId"] or None, provider_type=provider)
    found = await service.list_llm_page(
        store=page.store,
        actor=page.principal,
        flt=flt,
        search=query.filters["q"] or None,
        page=query.page,
    )
    return page.render(
        "connections/list.html",
        llms=found.items,
        pager=Pager.of(found, query),
        filters=query.filters,
        provider_choices=FILTER_CHOICES,
    )


@screen.get(f"{HOME}/new")
async def new_connection(page: ConsolePage) -> Response:
    """The form of a new connection."""
    return page.render(FORM, action=f"{HOME}/new", fields={}, errors=None, choices=PROVIDER_CHOICES)


@screen.post(f"{HOME}/new")
async def create_connection(page: ConsolePage) -> Response:
    """Create the connection; a refused form comes back naming each field and rule."""
    fields = page.form.values()
    try:
        llm, _ = await service.create_llm(
            store=page.store,
            secrets=page.state.secrets,
            actor=page.principal,
            spec=_spec(page.form),
        )
    except _REFUSED as exc:
        return page.form_failed(
            FORM, exc, action=f"{HOME}/new", fields=fields, choices=PROVIDER_CHOICES
        )
    return page.redirect(f"{HOME}/{llm.llm_id}", flash=f"Connection {llm.display_name} created.")


@screen.get(HOME + "/{llm_id}")
async def show_connection(page: ConsolePage) -> Response:
    """One connection: what it is, and its actions."""
    llm_id = page.request.path_params["llm_id"]
    llm = await service.get_llm(store=page.store, actor=page.principal, llm_id=llm_id)
    return page.render("connections/show.html", llm=llm)


@screen.get(HOME + "/{llm_id}/edit")
async def edit_connection(page: ConsolePage) -> Response:
    """The form to change a connection, filled with what it is now."""
    llm_id = page.request.path_params["llm_id"]
    llm = await service.get_llm(store=page.store, actor=page.principal, llm_id=llm_id)
    return page.render(
        FORM,
        action=f"{HOME}/{llm_id}/edit",
        fields=_fields_of(llm),
        errors=None,
        choices=PROVIDER_CHOICES,
    )


@screen.post(HOME + "/{llm_id}/edit")
async def update_connection(page: ConsolePage) -> Response:
    """Change the connection; a refused form comes back naming each field and rule."""
    llm_id = page.request.path_params["llm_id"]
    fields = page.form.values()
    try:
        llm = await service.update_llm(
            store=page.store,
            secrets=page.state.secrets,
            actor=page.principal,
            llm_id=llm_id,
            patch=_patch(page.form),
        )
    except _REFUSED as exc:
        action = f"{HOME}/{llm_id}/edit"
        return page.form_failed(FORM, exc, action=action, fields=fields, choices=PROVIDER_CHOICES)
    return page.redirect(f"{HOME}/{llm.llm_id}", flash=f"Connection {llm.display_name} saved.")


@screen.get(HOME + "/{llm_id}/delete")
async def confirm_delete(page: ConsolePage) -> Response:
    """Ask before deleting."""
    llm_id = page.request.path_params["llm_id"]
    llm = await service.get_llm(store=page.store, actor=page.principal, llm_id=llm_id)
    return page.render("connections/delete.html", llm=llm)


@screen.post(HOME + "/{llm_id}/delete")
async def delete_connection(page: ConsolePage) -> Response:
    """Delete the connection and its stored key."""
    llm_id = page.request.path_params["llm_id"]
    await service.delete_llm(store=page.store, actor=page.principal, llm_id=llm_id)
    return page.redirect(HOME, flash="Connection deleted.")


@screen.post(HOME + "/{llm_id}/test")
async def test_connection(page: ConsolePage) -> Response:
    """Send a one-token call through the gateway's path and show what came back."""
    llm_id = page.request.path_params["llm_id"]
    report = await probe(state=page.state, actor=page.principal, llm_id=llm_id)
    return page.render("connections/test.html", llm_id=llm_id, report=report)
