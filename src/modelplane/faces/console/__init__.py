"""The web console: server-rendered pages at `/console` (Jinja2), a face like the others.

It imports the domain, services, security and `store.uow` only. Every page runs as the
signed-in session's principal through the same service functions as the API, so a
member sees and changes exactly what the API lets it, and every change is audited (face
`console`). `install(app)` mounts it (app.py, with the control plane); `GET /` leads here.

How to add a screen (say Catalog, at `/console/catalog`)
=======================================================

1. **A route module** `faces/console/catalog.py` with `screen = Screen()` at module
   level. Nothing else to register: `install` imports every module of this package that
   has a `screen`, and the navigation link whose path the module routes stops showing
   the "coming" page (`coming.py`). The links and paths are `web.NAV`; keep your
   screen's pages under its path (`/console/catalog/...`) so its link is marked current.

       from starlette.responses import Response
       from modelplane.faces.console.web import PREFIX, ConsolePage, Screen
       from modelplane.services import catalog as service

       screen = Screen()

       @screen.get(f"{PREFIX}/catalog")
       async def groups(page: ConsolePage) -> Response:
           found = await service.list_groups(store=page.store, actor=page.principal, ...)
           return page.render("catalog/groups.html", groups=found)

   A handler parses, calls ONE service function and renders, like every face. Pass
   `store=page.store`, `actor=page.principal` (and `secrets=page.state.secrets`,
   `page.state` for the gateway). Never import `modelplane.store.*` but `store.uow`.

2. **Rendering**: `page.render("catalog/groups.html", status=200, **values)`. Templates
   live in `faces/console/templates/<screen>/`, extend `base.html` and fill
   `{% block title %}` and `{% block content %}` (one `<h1>` per page). Autoescaping is
   on; never use `|safe` on data. No inline `<script>`, no `style=` attributes, no
   `on*=` handlers: the Content-Security-Policy (`web.CSP`) refuses them and the browser
   tests fail on the console error. Styles go in `static/console.css` (use its classes:
   `.card`, `.grid`, `.table`, `.actions`, `.button`, `.button.danger`, `.muted`,
   `.badge`, `.field`, `.stack`); behaviour in `static/console.js`, keyed on
   `data-*` attributes (see its sections: live SSE updates `data-live-url`, theme).

3. **The session principal**: `page.principal` (a `domain.principals.Principal`);
   `page.is_admin` for what only admins see (hide, but rely on the services' checks).
   A handler runs only for a signed-in browser; others are sent to sign in and come
   back. `@screen.get(path, public=True)` is for pages without a session (sign-in only).

4. **Forms and CSRF**: every state-changing action is a `<form method="post">` (no
   JS needed) that starts with `{{ csrf_field(page) }}` (import it:
   `{% from "macros.html" import csrf_field, field, pager %}`). `@screen.post(path)`
   rejects a POST without this session's token with 403 before your handler runs.
   `page.form` is the parsed form (`get`, `optional`, `all`, `has`; text already
   checked). Post/Redirect/Get: on success `return page.redirect(url, flash="Saved.")`
   (303; the message shows once on the next page, `kind="error"` for a red one). On a
   refusal the form is shown again with what the domain said, naming the field and rule:

       try:
           llm = await service.create_llm(...)
       except (InvalidArgument, AlreadyExists) as exc:
           return page.form_failed("catalog/form.html", exc, fields=page.form.values())
       return page.redirect(f"{PREFIX}/catalog", flash="Created.")

   In the template, `{{ field("displayName", "Name", fields, errors) }}` renders a
   labelled input with its rules (`errors.on("displayName")`), and
   `{{ form_errors(errors, claimed) }}` the rest above the form. Field names are the
   native API's (lowerCamelCase), so the domain's `InvalidArgument` details land on
   the right input. Other domain errors of a handler render the error page through the
   one table `web.ERROR_TABLE` (404, 403, 409, 412, 429, 503); do not catch them to
   turn them into something else. A delete asks first: a GET page with a confirm form
   (see `connections.py`: `/{id}/delete`).

5. **Paged lists**: `q = page.list_query("search", "providerType")` reads `page`,
   `size` and your filters from the URL; page in SQL in your service (`PageRequest`
   `q.page`, returning `domain.paging.Page`), then
   `pager = Pager.of(found, q)` and `{{ pager(pager) }}` under the table: sizes,
   previous/next, the filters kept in the links. The filter form is a GET form with
   the same names. A list must answer in under 50 ms with 10,000 items
   (`bench/console_lists.py`).

6. **Live updates, diffs, charts**: the pages work without JS; `static/console.js`
   adds what needs it. Charts are server-rendered inline `<svg>` with classes (no
   `style=`). An SSE watch is `EventSource` on the existing watch routes: they take
   the API's key, so a console page gets its events from a console route that calls
   the same service with the session (add it to your module).

7. **Tests.** Browser: `tests/e2e/test_console_<screen>.py`, with the fixtures of
   `tests/support/console_browser.py` (registered for every test): `console_site` (one
   real `modelplane serve` per store for the session: `.url`, `.api` an httpx client
   as the admin, `.sign_in(page, key=None)`, `.new_member(name)`, `.upstream` our
   scripted LLM upstream, `.screenshot(page, "catalog")`) and `console_page` (a fresh
   Chromium page; the test FAILS on any console error, uncaught error or request to
   another origin). One flow: sign in, create, edit, see the change, delete; then
   `console_site.screenshot(page, "<screen>")` (light and dark into `docs/console/`,
   shown in `docs/console.md`: add your screen's section there). Add the module to
   `SHARED_SERVER_GROUPS` (tests/support/xdist_groups.py) as `CONSOLE` (a unit test
   names a module left out). Keep flows few and long: a page per test, no sleeps
   (`expect(...)` waits). Security and permissions: `tests/integration/
   test_console_<screen>.py` on both stores with the `app`/`client` fixtures and
   `tests/support/console_client.py` (`signed_in(app, token)`, `post_form`,
   `csrf_of`): a member cannot see or change another's resource, a change is in the
   audit log with face `console`, a refused form answers 400 naming the field.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from modelplane.faces.console import coming
from modelplane.faces.console.signing import STATIC_ROUTE
from modelplane.faces.console.web import NAV, PREFIX, ConsolePage, Screen
from modelplane.security.rate_limits import RateLimit, RateLimiter

# Sign-in attempts per client address and replica: a burst of 10, then one every 2 s.
SIGN_IN_LIMIT = RateLimit(per_second=0.5, burst=10)
_NOT_SCREENS = frozenset({"web", "coming"})


def screens() -> list[Screen]:
    """The `screen` of every module of this package, sign-in first."""
    found: list[Screen] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name != "signing"):
        if info.name in _NOT_SCREENS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        screen = getattr(module, "screen", None)
        if isinstance(screen, Screen):
            found.append(screen)
    return found


async def _to_console(request: Request) -> Response:
    return RedirectResponse(PREFIX, status_code=302)


_not_found = Screen()


@_not_found.get(PREFIX + "/{rest:path}")
async def _missing(page: ConsolePage) -> Response:
    return page.render(
        "error.html", status=404, title="Not found", message=f"No console page at {page.path}."
    )


def routes() -> list[BaseRoute]:
    """Every console route: the screens, "coming" pages for unrouted links, static
    files, `GET /`, and a 404 page for the rest of /console."""
    found: list[BaseRoute] = [STATIC_ROUTE]
    claimed: set[str] = set()
    for screen in screens():
        found.extend(screen.routes())
        claimed.update(r.path for r in screen.registered if "GET" in r.methods)
    for label, path in NAV:
        if path not in claimed:
            found.extend(coming.screen_for(label, path).routes())
    found.append(Route("/", endpoint=_to_console, methods=["GET", "HEAD"], include_in_schema=False))
    found.extend(_not_found.routes())
    return found


def install(app: FastAPI) -> None:
    """Mount the console on `app` (its routes, and the sign-in attempts' limit)."""
    app.state.console_sign_ins = RateLimiter(SIGN_IN_LIMIT)
    app.router.routes.extend(routes())
