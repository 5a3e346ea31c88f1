"""Signing in with an API key, signing out, the theme toggle, and the static files."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelplane.domain import errors as domain
from modelplane.faces.console.web import (
    ASSET_VERSIONS,
    PREFIX,
    SESSION_COOKIE,
    STATIC_FILES,
    THEME_COOKIE,
    THEMES,
    ConsolePage,
    CsrfRejected,
    Screen,
    clear_session_cookie,
    client_address,
    is_secure,
    new_form_nonce,
    safe_next,
    secure_headers,
    set_session_cookie,
)
from modelplane.services import console_sessions as service

screen = Screen()
SIGN_IN_COOKIE = "modelplane_console_sign_in"  # the sign-in form's own token (no session yet)
KEY_FIELD = "key"
_MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
FOREVER = "public, max-age=31536000, immutable"


def _sign_in_form(page: ConsolePage, *, status: int = 200, error: str | None = None) -> Response:
    nonce = new_form_nonce()
    response = page.render(
        "sign_in.html",
        status=status,
        error=error,
        nonce=nonce,
        next=safe_next(page.query.get("next") or page.form.get("next") or None),
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=3600,
        path=f"{PREFIX}/sign-in",
        httponly=True,
        samesite="strict",
        secure=is_secure(page.request),
    )
    return response


@screen.get(f"{PREFIX}/sign-in", public=True)
async def sign_in_page(page: ConsolePage) -> Response:
    """The sign-in form (a browser already signed in goes on to the console)."""
    session_id = page.request.cookies.get(SESSION_COOKIE)
    if session_id:
        try:
            await service.session_of(store=page.store, session_id=session_id)
        except domain.Unauthenticated:
            pass  # an ended session: sign in again
        else:
            return page.redirect(safe_next(page.query.get("next")))
    return _sign_in_form(page)


@screen.post(f"{PREFIX}/sign-in", public=True)
async def sign_in(page: ConsolePage) -> Response:
    """Start a session with the API key given; the key is never echoed back."""
    expected = page.request.cookies.get(SIGN_IN_COOKIE, "")
    sent = page.form.get("nonce")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRejected
    page.state.console_sign_ins.check(client_address(page.request))  # 429 when hammered
    token = page.form.get(KEY_FIELD)
    if not token:
        return _sign_in_form(page, status=400, error=f"{KEY_FIELD}: required (an API key, mp_…)")
    ttl = page.state.settings.console_session_ttl
    try:
        started = await service.sign_in(store=page.store, token=token, ttl_seconds=ttl)
    except (domain.Unauthenticated, domain.PermissionDenied) as exc:
        status = 401 if isinstance(exc, domain.Unauthenticated) else 403
        return _sign_in_form(page, status=status, error=f"{KEY_FIELD}: {exc.message}")
    response = page.redirect(safe_next(page.form.get("next")))
    set_session_cookie(page.request, response, started.session_id, ttl)
    response.delete_cookie(
        SIGN_IN_COOKIE,
        path=f"{PREFIX}/sign-in",
        httponly=True,
        samesite="strict",
        secure=is_secure(page.request),
    )
    return response


@screen.post(f"{PREFIX}/sign-out")
async def sign_out(page: ConsolePage) -> Response:
    """End the session on every replica and forget its cookie."""
    await service.sign_out(
        store=page.store, session_id=page.request.cookies.get(SESSION_COOKIE, "")
    )
    response = page.redirect(f"{PREFIX}/sign-in", flash="Signed out.")
    clear_session_cookie(page.request, response)
    return response


@screen.post(f"{PREFIX}/theme")
async def theme(page: ConsolePage) -> Response:
    """Remember the theme chosen (auto, light, dark) in a cookie; back to the page."""
    chosen = page.form.get("theme")
    if chosen not in THEMES:
        raise domain.InvalidArgument.of("theme", f"must be one of {', '.join(THEMES)}")
    response = page.redirect(safe_next(page.form.get("back")))
    response.set_cookie(
        THEME_COOKIE,
        chosen,
        max_age=365 * 24 * 3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=is_secure(page.request),
    )
    return response


async def static_file(request: Request) -> Response:
    """A file of `faces/console/static`, cached for ever under its content's version."""
    name = request.path_params["name"]
    content = STATIC_FILES.get(name)
    if content is None:
        return secure_headers(Response("not found", status_code=404, media_type="text/plain"))
    suffix = name[name.rfind(".") :]
    current = request.query_params.get("v") == ASSET_VERSIONS[name]
    response = Response(content, media_type=_MEDIA_TYPES.get(suffix, "application/octet-stream"))
    return secure_headers(response, cache=FOREVER if current else "no-cache")


STATIC_ROUTE = Route(
    f"{PREFIX}/static/{{name}}",
    endpoint=static_file,
    methods=["GET", "HEAD"],
    include_in_schema=False,
)
