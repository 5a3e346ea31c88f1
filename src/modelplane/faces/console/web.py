"""The console's machinery: screens and their routes, the page a handler works with,
templates, sessions in cookies, CSRF, flash messages, security headers, the error table.

Read the package docstring (`faces/console/__init__.py`) for how a screen uses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets as random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import jinja2
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from modelplane.domain import errors as domain
from modelplane.domain.console_sessions import ConsoleSession
from modelplane.domain.paging import PAGE_SIZE_MAX, Page, PageRequest, page_request
from modelplane.domain.principals import Permission, Principal
from modelplane.domain.text import text_rule
from modelplane.faces.middleware import BodyTooLarge
from modelplane.services import console_sessions as sessions
from modelplane.services import request_context
from modelplane.store.uow import Store

log = logging.getLogger("modelplane.console")

PREFIX = "/console"
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

SESSION_COOKIE = "modelplane_console"
FLASH_COOKIE = "modelplane_console_flash"
THEME_COOKIE = "modelplane_console_theme"
THEMES = ("auto", "light", "dark")
FLASH_MAX = 300  # characters of a flash message
FORM_FIELDS_MAX = 1000  # fields in one form: bounded work per request

# The navigation bar, in order: (label, path). A screen module claims its path by routing
# it; a path nobody routes shows the "coming" page (`coming.py`).
NAV: tuple[tuple[str, str], ...] = (
    ("Overview", PREFIX),
    ("Connections", f"{PREFIX}/connections"),
    ("Catalog", f"{PREFIX}/catalog"),
    ("Prompts", f"{PREFIX}/prompts"),
    ("Parameters", f"{PREFIX}/parameters"),
    ("Gateway", f"{PREFIX}/gateway"),
    ("Keys", f"{PREFIX}/keys"),
    ("Audit", f"{PREFIX}/audit"),
)

# Every console response: scripts, styles, images and fetches only from modelplane itself.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
NO_STORE = "no-store"

# The console's one error table: domain error -> (status, title shown on the page).
ERROR_TABLE: dict[type[domain.DomainError], tuple[int, str]] = {
    domain.InvalidArgument: (400, "Check the form"),
    domain.Unauthenticated: (401, "Sign in again"),
    domain.PermissionDenied: (403, "Not allowed"),
    domain.NotFound: (404, "Not found"),
    domain.AlreadyExists: (409, "Already exists"),
    domain.FailedPrecondition: (412, "Not possible now"),
    domain.ResourceExhausted: (429, "Too many requests"),
    domain.Unavailable: (503, "Unavailable"),
}


class CsrfRejected(Exception):
    """A state-changing request without this session's form token (403)."""


def status_of(exc: domain.DomainError) -> tuple[int, str]:
    """The status and title of a domain error (the nearest class in ERROR_TABLE)."""
    for kind in type(exc).__mro__:
        if kind in ERROR_TABLE:
            return ERROR_TABLE[kind]
    return 500, "Error"


# The static files, read once, and each one's version: a hash of its content.
STATIC_FILES = {path.name: path.read_bytes() for path in sorted(STATIC.iterdir()) if path.is_file()}
ASSET_VERSIONS = {
    name: hashlib.sha256(content).hexdigest()[:12] for name, content in STATIC_FILES.items()
}


def static_url(name: str) -> str:
    """The URL of a static file, with its content's hash (so it may be cached for ever)."""
    return f"{PREFIX}/static/{name}?v={ASSET_VERSIONS[name]}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    env.globals["NAV"] = NAV
    env.filters["when"] = when_text
    return env


def when_text(at_ms: int | None) -> str:
    """An epoch-ms time as `YYYY-MM-DD HH:MM:SS UTC`."""
    if at_ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(at_ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


TEMPLATE_ENV = _environment()


@dataclass(frozen=True)
class FieldError:
    """One rule a form field broke, as the domain named it."""

    field: str
    rule: str


@dataclass
class FormErrors:
    """What went wrong with a submitted form: the message, and the rules per field."""

    message: str = ""
    fields: list[FieldError] = field(default_factory=list)

    @classmethod
    def of(cls, exc: domain.DomainError) -> FormErrors:
        """The errors of a domain error (an InvalidArgument names each field and rule)."""
        return cls(
            message=exc.message,
            fields=[FieldError(v.field, v.rule) for v in exc.violations],
        )

    def __bool__(self) -> bool:
        return bool(self.message or self.fields)

    def on(self, *names: str) -> list[str]:
        """The rules broken by the fields named (or below them: `credentials` also gets
        `credentials.apiKey.inlineSecret`)."""
        found = []
        for error in self.fields:
            for name in names:
                if error.field == name or error.field.startswith((name + ".", name + "[")):
                    found.append(
                        f"{error.field}: {error.rule}" if error.field != name else error.rule
                    )
                    break
        return found

    def unclaimed(self, claimed: Iterable[str]) -> list[FieldError]:
        """The errors on none of the `claimed` fields (shown above the form)."""
        names = tuple(claimed)
        return [
            e
            for e in self.fields
            if not any(e.field == n or e.field.startswith((n + ".", n + "[")) for n in names)
        ]


class Form:
    """A submitted form (`application/x-www-form-urlencoded`), every value checked text."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def get(self, name: str, default: str = "") -> str:
        """The first value of `name` (surrounding white space removed), or `default`."""
        for key, value in self._pairs:
            if key == name:
                return value.strip()
        return default

    def optional(self, name: str) -> str | None:
        """The value of `name`, or None when it is missing or blank."""
        return self.get(name) or None

    def all(self, name: str) -> list[str]:
        """Every value of `name` (checkboxes, multiple selects)."""
        return [value for key, value in self._pairs if key == name]

    def has(self, name: str) -> bool:
        """Whether `name` was sent at all (a ticked checkbox)."""
        return any(key == name for key, _ in self._pairs)

    def values(self) -> dict[str, str]:
        """The first value of each field, for re-filling a form."""
        found: dict[str, str] = {}
        for key, value in self._pairs:
            found.setdefault(key, value)
        return found


async def read_form(request: Request) -> Form:
    """Parse a urlencoded body (the middleware bounds its size); bad text is 400."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = await request.body()
    if kind not in ("application/x-www-form-urlencoded", "") and body:
        raise domain.InvalidArgument.of(
            "body", "must be a form (application/x-www-form-urlencoded)"
        )
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=FORM_FIELDS_MAX,
        )
    except (UnicodeDecodeError, ValueError):
        raise domain.InvalidArgument.of(
            "body", f"must be UTF-8 form fields, at most {FORM_FIELDS_MAX}"
        ) from None
    errors = domain.ViolationCollector()
    for key, value in pairs:
        for text_value in (key, value):
            rule = text_rule(text_value)
            if rule is not None:
                errors.add(key if text_rule(key) is None else "body", rule)
    errors.raise_if_any()
    return Form(pairs)


@dataclass(frozen=True)
class ListQuery:
    """A paged list's query: page number and size and the filters, kept in the links."""

    page: PageRequest
    filters: dict[str, str]
    path: str

    def url(self, **changes: int | str | None) -> str:
        """This list's URL with some parameters changed (None: left out)."""
        params: dict[str, str] = {k: v for k, v in self.filters.items() if v}
        params["page"] = str(self.page.number)
        params["size"] = str(self.page.size)
        for key, value in changes.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = str(value)
        if params.get("page") == "1":
            params.pop("page")
        return f"{self.path}?{urlencode(params)}" if params else self.path


@dataclass(frozen=True)
class Pager:
    """What the `pager` macro shows of one page of a list."""

    number: int
    size: int
    total: int
    first_item: int
    last_item: int
    pages: int
    previous_url: str | None
    next_url: str | None
    query: ListQuery

    @classmethod
    def of(cls, page: Page[Any], query: ListQuery) -> Pager:
        """The pager of `page`, linking with `query`'s filters."""
        pages = max(1, math.ceil(page.total / page.size))
        first = page.size * (page.number - 1) + 1 if page.items else 0
        return cls(
            number=page.number,
            size=page.size,
            total=page.total,
            first_item=first,
            last_item=first + len(page.items) - 1 if page.items else 0,
            pages=pages,
            previous_url=query.url(page=page.number - 1) if page.number > 1 else None,
            next_url=query.url(page=page.number + 1) if page.number < pages else None,
            query=query,
        )


PAGE_SIZES = (20, 50, 100)


@dataclass
class ConsolePage:
    """What a screen's handler works with: the request, the signed-in session, the form,
    and ways to answer (render a template, redirect with a flash message)."""

    request: Request
    session: ConsoleSession | None
    form: Form = field(default_factory=lambda: Form([]))
    flash: tuple[str, str] | None = None  # (kind, text) to show once
    _set_flash: tuple[str, str] | None = None

    @property
    def principal(self) -> Principal:
        """The signed-in principal (every service call acts as it)."""
        if self.session is None:
            raise domain.Unauthenticated("sign in first")
        return self.session.principal

    @property
    def is_admin(self) -> bool:
        """Whether the principal may manage principals (an admin)."""
        return self.session is not None and self.principal.has(Permission.MANAGE_PRINCIPALS)

    @property
    def store(self) -> Store:
        """The store handle to pass to services."""
        found: Store = self.request.app.state.store
        return found

    @property
    def state(self) -> Any:
        """The application's state (secrets, gateway, settings …)."""
        return self.request.app.state

    @property
    def query(self) -> QueryParams:
        """The URL's query parameters."""
        return self.request.query_params

    @property
    def csrf_token(self) -> str:
        """The token every state-changing form of this session carries (`csrf` field)."""
        return self.session.csrf_token if self.session is not None else ""

    def list_query(self, *filters: str, default_size: int = PAGE_SIZES[0]) -> ListQuery:
        """The page and filters of a paged list from the URL (`page`, `size`, `filters`)."""
        params = self.query
        number = _int_param(params.get("page"), "page")
        size = _int_param(params.get("size"), "size")
        try:
            page = page_request(number, size or default_size)
        except domain.InvalidArgument:
            raise domain.InvalidArgument.of(
                "size" if size is not None and not 1 <= size <= PAGE_SIZE_MAX else "page",
                f"page must be 1 or more, size 1..{PAGE_SIZE_MAX}",
            ) from None
        values = {name: params.get(name, "").strip() for name in filters}
        for name, value in values.items():
            rule = text_rule(value)
            if rule is not None:
                raise domain.InvalidArgument.of(name, rule)
        return ListQuery(page=page, filters=values, path=self.request.url.path)

    def render(self, template: str, *, status: int = 200, **values: Any) -> Response:
        """The page `template` (in `faces/console/templates`) with `values`."""
        html = TEMPLATE_ENV.get_template(template).render(page=self, **values)
        response = HTMLResponse(html, status_code=status)
        if self.flash is not None:
            response.delete_cookie(FLASH_COOKIE, path=PREFIX)
        return response

    def form_failed(self, template: str, exc: domain.DomainError, **values: Any) -> Response:
        """The form `template` again, with what the domain refused (status from the
        error table); `values` are the template's other values (the form's `fields`)."""
        status, _ = status_of(exc)
        return self.render(template, status=status, errors=FormErrors.of(exc), **values)

    def redirect(self, path: str, *, flash: str | None = None, kind: str = "ok") -> Response:
        """303 to `path` (Post/Redirect/Get), with a message shown once on the next page."""
        response = RedirectResponse(path, status_code=303)
        if flash:
            response.set_cookie(
                FLASH_COOKIE,
                quote(f"{kind}:{flash[:FLASH_MAX]}"),
                max_age=60,
                path=PREFIX,
                httponly=True,
                samesite="strict",
                secure=is_secure(self.request),
            )
        return response

    @property
    def theme(self) -> str:
        """`auto` (the system's), `light` or `dark`: the theme toggle's choice."""
        chosen = self.request.cookies.get(THEME_COOKIE, "auto")
        return chosen if chosen in THEMES else "auto"

    @property
    def path(self) -> str:
        """The path of this page (the active navigation link)."""
        return self.request.url.path

    def nav_current(self, link: str) -> bool:
        """Whether the navigation `link` is the current screen's."""
        if link == PREFIX:
            return self.path in (PREFIX, PREFIX + "/")
        return self.path == link or self.path.startswith(link + "/")


def _int_param(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 10:
        raise domain.InvalidArgument.of(name, "must be a whole number")
    return int(value)


def is_secure(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (the request's scheme, which uvicorn takes
    from a trusted proxy's X-Forwarded-Proto, or MODELPLANE_PUBLIC_URL's)."""
    if request.url.scheme == "https":
        return True
    public_url = request.app.state.settings.public_url
    return bool(public_url and str(public_url).startswith("https://"))


def secure_headers(response: Response, *, cache: str = NO_STORE) -> Response:
    """Add the console's security headers and cache policy to `response`."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    response.headers["cache-control"] = cache
    return response


def set_session_cookie(request: Request, response: Response, session_id: str, ttl: int) -> None:
    """The session's cookie: HttpOnly, SameSite=Strict, Secure over HTTPS, Path=/console."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=ttl,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    """Tell the browser to forget the session's cookie."""
    response.delete_cookie(
        SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=is_secure(request)
    )


def _flash_of(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, text = unquote(raw)[: FLASH_MAX + 10].partition(":")
    if kind not in ("ok", "error") or not text or text_rule(text) is not None:
        return None
    return kind, text


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a console path of this site, else the overview."""
    if (
        path
        and path.startswith(PREFIX)
        and not path.startswith("//")
        and "\\" not in path
        and text_rule(path) is None
        and len(path) <= 2000
        and all(31 < ord(c) < 127 for c in path)
    ):
        return path
    return PREFIX


Handler = Callable[[ConsolePage], Awaitable[Response]]


@dataclass
class _Registered:
    path: str
    methods: list[str]
    handler: Handler
    public: bool


class Screen:
    """The routes of one screen module: `screen = Screen()`, then `@screen.get(path)` and
    `@screen.post(path)` on `async def handler(page: ConsolePage) -> Response`.

    A handler runs only for a signed-in browser (others are sent to sign in) unless
    `public=True`; a POST runs only with the session's CSRF token in its `csrf` field.
    """

    def __init__(self) -> None:
        self.registered: list[_Registered] = []

    def _add(self, path: str, methods: list[str], public: bool) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.registered.append(_Registered(path, methods, handler, public))
            return handler

        return register

    def get(self, path: str, *, public: bool = False) -> Callable[[Handler], Handler]:
        """Route GET (and HEAD) of `path` (absolute, under /console) to the handler."""
        return self._add(path, ["GET", "HEAD"], public)

    def post(self, path: str, *, public: bool = False) -> Callable[[Handler], Handler]:
        """Route POST of `path` to the handler; the CSRF token is checked first."""
        return self._add(path, ["POST"], public)

    def routes(self) -> list[BaseRoute]:
        """Starlette routes for every handler registered."""
        return [
            Route(r.path, endpoint=_endpoint(r), methods=r.methods, include_in_schema=False)
            for r in self.registered
        ]


def _endpoint(registered: _Registered) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        request.scope.setdefault("state", {})["face"] = "console"
        request_context.set_face("console")
        page = ConsolePage(request=request, session=None, flash=_flash_of(request))
        try:
            response = await _run(registered, page)
        except CsrfRejected:
            response = page.render(
                "error.html",
                status=403,
                title="Form expired",
                message=(
                    "This form did not carry this session's security token (it may be from an "
                    "older page or another site). Go back, reload the page and try again."
                ),
            )
        except BodyTooLarge as exc:
            response = page.render("error.html", status=413, title="Too large", message=exc.detail)
        except domain.Unauthenticated:
            if registered.public:
                raise
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target = f"{PREFIX}/sign-in?{urlencode({'next': back})}"
            response = RedirectResponse(target, status_code=303)
            if request.cookies.get(SESSION_COOKIE):
                clear_session_cookie(request, response)
        except domain.DomainError as exc:
            status, title = status_of(exc)
            response = page.render(
                "error.html",
                status=status,
                title=title,
                message=exc.message,
                errors=FormErrors.of(exc),
            )
            if isinstance(exc, domain.ResourceExhausted):
                response.headers["retry-after"] = str(max(1, math.ceil(exc.retry_after_seconds)))
        return secure_headers(response)

    return endpoint


async def _run(registered: _Registered, page: ConsolePage) -> Response:
    request = page.request
    if not registered.public:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        page.session = await sessions.session_of(store=page.store, session_id=session_id)
        principal_id = page.session.principal.principal_id
        request.scope["state"]["principal_id"] = principal_id
        request.app.state.rate_limits.check(principal_id)
    if request.method == "POST":
        page.form = await read_form(request)
        if not registered.public:
            sent = page.form.get("csrf")
            if not sent or not hmac.compare_digest(sent, page.csrf_token):
                raise CsrfRejected
    return await registered.handler(page)


def new_form_nonce() -> str:
    """A random value for a form that has no session yet (the sign-in form)."""
    return random.token_urlsafe(24)


def client_address(request: Request) -> str:
    """Who is asking, for the sign-in attempts' rate limit: the client's address."""
    return request.client.host if request.client is not None else "unknown"
