"""Keys: principals (admins: paged, create, delete handing what they own over) and their
API keys (issue with a scope and an expiry, the token shown once on the answer to the
issuing form and nowhere else; revoke), and the limits and budgets of a principal or a
key. A member sees its own principal and keys only, as the API lets it.

The token of a new key is in the body of the response to the POST that issued it, and
nowhere else: not in a redirect or URL, not in the session or a cookie, not in any later
page. Every page answers `no-store`, so the browser keeps no copy to go back to.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import Response

from modelplane.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    ViolationCollector,
)
from modelplane.domain.key_scopes import MODELS_MAX
from modelplane.domain.principals import Role
from modelplane.domain.spend_limits import BudgetPeriod, amount_text
from modelplane.faces.console.web import PREFIX, ConsolePage, Form, Pager, Screen
from modelplane.faces.console.zones import ZONE_FIELD, date_of, day_end_ms, zone_of
from modelplane.services import principal_views as views
from modelplane.services import principals as service
from modelplane.services import spend_limits as limits_service
from modelplane.services.spend_limits import LimitsView

screen = Screen()
HOME = f"{PREFIX}/keys"
FILTERS = ("q", "role")
ROLE_CHOICES = [(r.value, r.value) for r in Role][::-1]  # member first
ROLE_FILTERS = [("", "Any role")] + [(r.value, r.value) for r in Role]
PERIOD_CHOICES = [("", "No budget")] + [
    (p.value, "per UTC day" if p is BudgetPeriod.DAY else "per calendar month (UTC)")
    for p in BudgetPeriod
]
NUMBER_MAX_DIGITS = 20  # longer text goes to the domain as text, which names the rule
_REFUSED = (InvalidArgument, AlreadyExists, FailedPrecondition)
_ISSUE_REFUSED = (InvalidArgument, PermissionDenied)


def _now() -> int:
    return int(time.time() * 1000)


def _principal_url(principal_id: str) -> str:
    return f"{HOME}/{principal_id}"


def _key_url(principal_id: str, api_key_id: str) -> str:
    return f"{HOME}/{principal_id}/api-keys/{api_key_id}"


def _models(text: str) -> list[str] | None:
    """The model names of the form (one a line, or separated by commas); none: every model."""
    names = [n.strip() for line in text.splitlines() for n in line.split(",")]
    found = [n for n in names if n]
    return found or None


def _number(value: str) -> int | str | None:
    """A form's whole number (blank: None); other text goes on as text for the domain's
    rule to name."""
    if not value:
        return None
    if value.isdigit() and len(value) <= NUMBER_MAX_DIGITS:
        return int(value)
    return value


def _limits_fields(view: LimitsView) -> dict[str, str]:
    limits = view.limits
    if limits is None:
        return {}
    return {
        "rpm": str(limits.rpm or ""),
        "tpm": str(limits.tpm or ""),
        "budget": amount_text(limits.budget_nanos) if limits.budget_nanos is not None else "",
        "period": limits.period.value if limits.period is not None else "",
    }


# --- principals ---------------------------------------------------------------------


@screen.get(HOME)
async def principals(page: ConsolePage) -> Response:
    """Admins: the principals, by name, a page at a time. A member: its own keys."""
    if not page.is_admin:
        return await _principal_page(page, page.principal.principal_id)
    query = page.list_query(*FILTERS)
    found = await service.list_principal_page(
        store=page.store,
        actor=page.principal,
        role=query.filters["role"] or None,
        search=query.filters["q"] or None,
        page=query.page,
    )
    return page.render(
        "keys/list.html",
        principals=found.items,
        pager=Pager.of(found, query),
        filters=query.filters,
        role_choices=ROLE_FILTERS,
    )


@screen.get(f"{HOME}/new")
async def new_principal(page: ConsolePage) -> Response:
    """The form of a new principal."""
    fields = {"role": Role.MEMBER.value}
    return page.render("keys/new.html", fields=fields, errors=None, choices=ROLE_CHOICES)


@screen.post(f"{HOME}/new")
async def create_principal(page: ConsolePage) -> Response:
    """Create the principal (admins); a refused form comes back naming the field."""
    fields = page.form.values()
    try:
        created = await service.create_principal(
            store=page.store,
            actor=page.principal,
            name=page.form.get("name"),
            role=page.form.get("role"),
        )
    except (InvalidArgument, AlreadyExists) as exc:
        return page.form_failed("keys/new.html", exc, fields=fields, choices=ROLE_CHOICES)
    return page.redirect(
        _principal_url(created.principal_id), flash=f"Principal {created.name} created."
    )


async def _principal_page(page: ConsolePage, principal_id: str) -> Response:
    found = await views.principal_keys(
        store=page.store,
        counters=page.state.spend_guard.counters,
        actor=page.principal,
        principal_id=principal_id,
    )
    return page.render("keys/principal.html", found=found, now=_now(), amount=amount_text)


@screen.get(HOME + "/{principal_id}")
async def show_principal(page: ConsolePage) -> Response:
    """A principal, its limits and its API keys (admins; a member its own)."""
    return await _principal_page(page, page.request.path_params["principal_id"])


@screen.get(HOME + "/{principal_id}/delete")
async def confirm_delete(page: ConsolePage) -> Response:
    """Ask before deleting a principal, and to whom what it owns goes."""
    principal_id = page.request.path_params["principal_id"]
    principal = await service.get_principal(
        store=page.store, actor=page.principal, principal_id=principal_id
    )
    return page.render(
        "keys/delete.html",
        principal_id=principal_id,
        name=principal.name,
        fields={},
        errors=None,
    )


@screen.post(HOME + "/{principal_id}/delete")
async def delete_principal(page: ConsolePage) -> Response:
    """Delete the principal and its keys, handing what it owns to `transferTo` (required
    when it owns anything: the API's rule)."""
    principal_id = page.request.path_params["principal_id"]
    try:
        await service.delete_principal(
            store=page.store,
            actor=page.principal,
            principal_id=principal_id,
            transfer_to=page.form.optional("transferTo"),
        )
    except _REFUSED as exc:
        return page.form_failed(
            "keys/delete.html",
            exc,
            principal_id=principal_id,
            name=None,
            fields=page.form.values(),
        )
    return page.redirect(HOME, flash="Principal deleted.")


# --- limits of a principal or a key -------------------------------------------------


def _subject_url(principal_id: str, api_key_id: str | None) -> str:
    return _key_url(principal_id, api_key_id) if api_key_id else _principal_url(principal_id)


def _limits_page(principal_id: str, api_key_id: str | None) -> dict[str, Any]:
    """What the limits form's template needs besides the view and the fields."""
    back = _subject_url(principal_id, api_key_id)
    return {
        "action": f"{back}/limits",
        "back": back,
        "principal_id": principal_id,
        "api_key_id": api_key_id,
        "periods": PERIOD_CHOICES,
        "amount": amount_text,
    }


async def _limits_form(page: ConsolePage, api_key_id: str | None) -> Response:
    principal_id = page.request.path_params["principal_id"]
    view = await limits_service.get_limits(
        store=page.store,
        counters=page.state.spend_guard.counters,
        actor=page.principal,
        principal_id=principal_id,
        api_key_id=api_key_id,
    )
    return page.render(
        "keys/limits.html",
        view=view,
        fields=_limits_fields(view),
        errors=None,
        **_limits_page(principal_id, api_key_id),
    )


async def _set_limits(page: ConsolePage, api_key_id: str | None) -> Response:
    principal_id = page.request.path_params["principal_id"]
    form = page.form
    try:
        await limits_service.set_limits(
            store=page.store,
            counters=page.state.spend_guard.counters,
            actor=page.principal,
            principal_id=principal_id,
            api_key_id=api_key_id,
            rpm=_number(form.get("rpm")),
            tpm=_number(form.get("tpm")),
            budget=form.optional("budget"),
            period=form.optional("period"),
        )
    except _ISSUE_REFUSED as exc:
        return page.form_failed(
            "keys/limits.html",
            exc,
            view=None,
            fields=form.values(),
            **_limits_page(principal_id, api_key_id),
        )
    return page.redirect(_subject_url(principal_id, api_key_id), flash="Limits saved.")


async def _clear_limits(page: ConsolePage, api_key_id: str | None) -> Response:
    principal_id = page.request.path_params["principal_id"]
    removed = await limits_service.clear_limits(
        store=page.store, actor=page.principal, principal_id=principal_id, api_key_id=api_key_id
    )
    flash = "Limits removed." if removed else "There were no limits."
    return page.redirect(_subject_url(principal_id, api_key_id), flash=flash)


@screen.get(HOME + "/{principal_id}/limits")
async def principal_limits(page: ConsolePage) -> Response:
    """The form of a principal's limits (admins set them), with this window's use."""
    return await _limits_form(page, None)


@screen.post(HOME + "/{principal_id}/limits")
async def set_principal_limits(page: ConsolePage) -> Response:
    """Replace a principal's limits (admins)."""
    return await _set_limits(page, None)


@screen.post(HOME + "/{principal_id}/limits/clear")
async def clear_principal_limits(page: ConsolePage) -> Response:
    """Remove a principal's limits (admins)."""
    return await _clear_limits(page, None)


# --- API keys -----------------------------------------------------------------------


def _issue_form(page: ConsolePage, principal_id: str, **values: object) -> dict[str, Any]:
    return {
        "action": f"{HOME}/{principal_id}/api-keys/new",
        "principal_id": principal_id,
        "member_issues": not page.is_admin,
        "models_max": MODELS_MAX,
        **values,
    }


def _expiry(form: Form, errors: ViolationCollector) -> int | None:
    """The end of the local day the form names (in its time zone), in epoch ms."""
    zone = zone_of(form.get(ZONE_FIELD), errors)
    day = date_of(form.get("expiresAt"), "expiresAt", errors)
    return day_end_ms(day, zone) if day is not None else None


@screen.get(HOME + "/{principal_id}/api-keys/new")
async def new_key(page: ConsolePage) -> Response:
    """The form of a new API key: label, scope, expiry."""
    principal_id = page.request.path_params["principal_id"]
    fields = {"gatewayOnly": "on"} if not page.is_admin else {}
    return page.render(
        "keys/issue.html", errors=None, **_issue_form(page, principal_id, fields=fields)
    )


@screen.post(HOME + "/{principal_id}/api-keys/new")
async def issue_key(page: ConsolePage) -> Response:
    """Issue the key and show its token, this once, in this answer only."""
    principal_id = page.request.path_params["principal_id"]
    form = page.form
    fields = form.values()
    try:
        errors = ViolationCollector()
        expires_at = _expiry(form, errors)
        errors.raise_if_any()
        issued = await service.issue_api_key(
            store=page.store,
            actor=page.principal,
            principal_id=principal_id,
            label=form.optional("label"),
            gateway_only=form.has("gatewayOnly") or not page.is_admin,
            models=_models(form.get("models")),
            expires_at=expires_at,
            actor_key_id=page.session.api_key_id if page.session is not None else None,
        )
    except _ISSUE_REFUSED as exc:
        return page.form_failed(
            "keys/issue.html", exc, **_issue_form(page, principal_id, fields=fields)
        )
    return page.render(
        "keys/issued.html",
        key=issued.api_key,
        token=issued.token,
        key_url=_key_url(principal_id, issued.api_key.api_key_id),
        principal_url=_principal_url(principal_id),
    )


@screen.get(HOME + "/{principal_id}/api-keys/{api_key_id}")
async def show_key(page: ConsolePage) -> Response:
    """One API key: its scope, expiry, state and limits (never its token)."""
    params = page.request.path_params
    found = await views.key_detail(
        store=page.store,
        counters=page.state.spend_guard.counters,
        actor=page.principal,
        principal_id=params["principal_id"],
        api_key_id=params["api_key_id"],
    )
    return page.render("keys/key.html", found=found, now=_now(), amount=amount_text)


@screen.get(HOME + "/{principal_id}/api-keys/{api_key_id}/limits")
async def key_limits(page: ConsolePage) -> Response:
    """The form of a key's limits, with this window's use."""
    return await _limits_form(page, page.request.path_params["api_key_id"])


@screen.post(HOME + "/{principal_id}/api-keys/{api_key_id}/limits")
async def set_key_limits(page: ConsolePage) -> Response:
    """Replace a key's limits (a member: within its principal's)."""
    return await _set_limits(page, page.request.path_params["api_key_id"])


@screen.post(HOME + "/{principal_id}/api-keys/{api_key_id}/limits/clear")
async def clear_key_limits(page: ConsolePage) -> Response:
    """Remove a key's limits."""
    return await _clear_limits(page, page.request.path_params["api_key_id"])


@screen.get(HOME + "/{principal_id}/api-keys/{api_key_id}/revoke")
async def confirm_revoke(page: ConsolePage) -> Response:
    """Ask before revoking a key."""
    params = page.request.path_params
    found = await views.key_detail(
        store=page.store,
        counters=page.state.spend_guard.counters,
        actor=page.principal,
        principal_id=params["principal_id"],
        api_key_id=params["api_key_id"],
    )
    return page.render("keys/revoke.html", found=found)


@screen.post(HOME + "/{principal_id}/api-keys/{api_key_id}/revoke")
async def revoke_key(page: ConsolePage) -> Response:
    """Revoke the key: it stops working at once (sessions signed in with it end too)."""
    params = page.request.path_params
    key = await service.revoke_api_key(
        store=page.store,
        actor=page.principal,
        principal_id=params["principal_id"],
        api_key_id=params["api_key_id"],
    )
    return page.redirect(_principal_url(key.principal_id), flash=f"Key {key.key_prefix}… revoked.")
