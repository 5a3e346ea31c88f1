"""Parameters: the namespaces of dynamic parameters the principal sees, paged; a namespace's
parameters with add, edit and delete; publishing several changes as one revision; its
history with a revert to any revision; its values changing live (an event stream of the
console's own that runs the namespace's watch with the session); who is listening; and its
gray release (a candidate served to some client labels: create, promote, drop)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from modelplane.domain.config_formats import FORMATS
from modelplane.domain.configs import (
    BATCH_MAX,
    CONFIG_TYPE,
    ConfigWrite,
    ListenMode,
    NamespaceChanges,
    WriteOp,
)
from modelplane.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ViolationCollector,
)
from modelplane.domain.paging import PageRequest
from modelplane.faces.console.web import PREFIX, ConsolePage, Form, Pager, Screen
from modelplane.faces.native.watching import change_events, event_stream
from modelplane.services import configs as service

screen = Screen()
HOME = f"{PREFIX}/parameters"
NS = HOME + "/{cluster}/{name}"
ROWS_DEFAULT = 5
ROWS_MAX = 50  # rows of a publish or candidate form (a batch may hold more through the API)
HISTORY_DEFAULT = 100
FORMAT_CHOICES = [("", "Keep (text when new)")] + [(f, f) for f in FORMATS]
NEW_FORMAT_CHOICES = [(f, f) for f in FORMATS]
BLANK_ROW = {"key": "", "op": "set", "value": "", "format": ""}
OP_CHOICES = [(WriteOp.SET.value, "set"), (WriteOp.DELETE.value, "delete")]
LIVE_SECONDS = service.WATCH_SECONDS_MAX  # then the browser reconnects (and the session is checked)
_REFUSED = (InvalidArgument, AlreadyExists, FailedPrecondition, NotFound)


def _names(page: ConsolePage) -> dict[str, str]:
    params = page.request.path_params
    return {"cluster_id": params["cluster"], "config_type": CONFIG_TYPE, "name": params["name"]}


def _base(names: dict[str, str]) -> str:
    return f"{HOME}/{names['cluster_id']}/{names['name']}"


def _owner(page: ConsolePage) -> str | None:
    """The namespace's owner a form names (admins writing into another's namespace)."""
    return page.form.optional("ownerId")


def _with_owner(url: str, owner: str | None) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'owner': owner})}" if owner else url


def _form_owner(page: ConsolePage, owner_id: str) -> str:
    """What a form of the namespace sends as its owner: the owner when it is another's."""
    return "" if owner_id == page.principal.principal_id else owner_id


def _rows(form: Form, count: int, errors: ViolationCollector) -> list[ConfigWrite]:
    """The filled rows of a publish form (`key.N`, `op.N`, `value.N`, `format.N`) as the
    batch's items, numbered in order; a filled row without a key is named."""
    items: list[ConfigWrite] = []
    for row in _filled(_row_fields(form, count)):
        index = len(items)
        if not row["key"]:
            errors.add(f"items.{index}.key", "give the key of this row")
        if row["op"] == WriteOp.DELETE.value:
            items.append(ConfigWrite(key=row["key"], op=row["op"]))
        else:
            fmt = row["format"] or None
            items.append(ConfigWrite(key=row["key"], op=row["op"], value=row["value"], format=fmt))
    if not items:
        errors.add("items", "fill in at least one row (a key and its value)")
    return items


def _filled(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if r["key"] or r["value"] or r["format"]]


def _row_count(page: ConsolePage) -> int:
    given = page.form.get("rows") or page.query.get("rows", "")
    if given.isdigit() and 1 <= int(given) <= ROWS_MAX:
        return int(given)
    return ROWS_DEFAULT


def _row_fields(form: Form, count: int) -> list[dict[str, str]]:
    """The rows as sent, to show a refused form again."""
    return [
        {
            "key": form.get(f"key.{n}"),
            "op": form.get(f"op.{n}", WriteOp.SET.value),
            "value": (form.all(f"value.{n}") or [""])[0],
            "format": form.get(f"format.{n}"),
        }
        for n in range(count)
    ]


def _row_errors(exc: Exception, count: int) -> dict[int, list[str]]:
    """The rules each row broke (`items.N.value` is row N's, as the rows are numbered
    when none is left out; the publish form keeps its filled rows first)."""
    found: dict[int, list[str]] = {}
    for violation in getattr(exc, "violations", []):
        parts = violation.field.split(".")
        if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit():
            index = int(parts[1])
            if index < count:
                where = parts[2] if len(parts) > 2 else "row"
                found.setdefault(index, []).append(f"{where}: {violation.rule}")
    return found


# --- namespaces ---------------------------------------------------------------------------


@screen.get(HOME)
async def list_namespaces(page: ConsolePage) -> Response:
    """The namespaces the principal may read, in key order, a page at a time."""
    query = page.list_query("q")
    found = await service.list_namespace_page(
        store=page.store, actor=page.principal, search=query.filters["q"] or None, page=query.page
    )
    return page.render(
        "parameters/list.html",
        namespaces=found.items,
        pager=Pager.of(found, query),
        filters=query.filters,
    )


NEW_FORM = "parameters/new.html"


@screen.get(f"{HOME}/new")
async def new_namespace(page: ConsolePage) -> Response:
    """The form of a new namespace: where it is, and its first parameter."""
    return page.render(NEW_FORM, fields={"format": "text"}, errors=None, formats=NEW_FORMAT_CHOICES)


@screen.post(f"{HOME}/new")
async def create_namespace(page: ConsolePage) -> Response:
    """Create the namespace with its first parameter (the writer owns it)."""
    form = page.form
    fields = form.values()
    names = {
        "cluster_id": form.get("cluster"),
        "config_type": CONFIG_TYPE,
        "name": form.get("name"),
    }
    try:
        await service.create_config(
            store=page.store,
            actor=page.principal,
            **names,
            key=form.get("key"),
            value=(form.all("value") or [""])[0],
            format=form.optional("format"),
            owner_id=_owner(page),
        )
    except _REFUSED as exc:
        return page.form_failed(NEW_FORM, exc, fields=fields, formats=NEW_FORMAT_CHOICES)
    return page.redirect(
        _base(names), flash=f"Namespace {names['cluster_id']}/{names['name']} created."
    )


@screen.get(NS)
async def show_namespace(page: ConsolePage) -> Response:
    """A namespace: its parameters (live), its candidate, and its actions."""
    names = _names(page)
    query = page.list_query()
    found = await service.namespace_overview(
        store=page.store, actor=page.principal, **names, page=query.page
    )
    owner = _form_owner(page, found.namespace.owner_id)
    return page.render(
        "parameters/namespace.html",
        ns=found.namespace,
        configs=found.configs.items,
        candidate=found.candidate,
        candidate_base=found.candidate_base,
        pager=Pager.of(found.configs, query),
        base=_base(names),
        owner=owner,
        owner_query=urlencode({"owner": owner}) if owner else "",
        live_url=f"{_base(names)}/events?{urlencode({'since': found.namespace.revision})}",
    )


# --- one parameter ------------------------------------------------------------------------

ADD_FORM = "parameters/add.html"
EDIT_FORM = "parameters/edit.html"


def _form_values(page: ConsolePage, names: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"base": _base(names), "names": names, "formats": FORMAT_CHOICES, **extra}


@screen.get(NS + "/add")
async def add_form(page: ConsolePage) -> Response:
    """The form of a new parameter of the namespace."""
    names = _names(page)
    fields = {"ownerId": page.query.get("owner", ""), "format": "text"}
    values = _form_values(page, names, formats=NEW_FORMAT_CHOICES)
    return page.render(ADD_FORM, fields=fields, errors=None, **values)


@screen.post(NS + "/add")
async def add_parameter(page: ConsolePage) -> Response:
    """Create the parameter; a refused form comes back naming the field and rule."""
    names = _names(page)
    key = page.form.get("key")
    try:
        await service.create_config(
            store=page.store,
            actor=page.principal,
            **names,
            key=key,
            value=(page.form.all("value") or [""])[0],
            format=page.form.optional("format"),
            owner_id=_owner(page),
        )
    except _REFUSED as exc:
        values = _form_values(page, names, formats=NEW_FORMAT_CHOICES)
        return page.form_failed(ADD_FORM, exc, fields=page.form.values(), **values)
    return page.redirect(_base(names), flash=f"Parameter {key} added.")


@screen.get(NS + "/edit")
async def edit_form(page: ConsolePage) -> Response:
    """The form to change one parameter (`?key=`), filled with its value now."""
    names = _names(page)
    key = page.query.get("key", "")
    config = await service.get_config(store=page.store, actor=page.principal, **names, key=key)
    fields = {
        "key": config.key,
        "value": config.value,
        "format": "",
        "ownerId": page.query.get("owner", ""),
    }
    return page.render(
        EDIT_FORM, fields=fields, config=config, errors=None, **_form_values(page, names)
    )


@screen.post(NS + "/edit")
async def update_parameter(page: ConsolePage) -> Response:
    """Change the parameter's value (and format, when chosen)."""
    names = _names(page)
    key = page.form.get("key")
    try:
        await service.update_config(
            store=page.store,
            actor=page.principal,
            **names,
            key=key,
            value=(page.form.all("value") or [""])[0],
            format=page.form.optional("format"),
            owner_id=_owner(page),
        )
    except _REFUSED as exc:
        values = _form_values(page, names)
        return page.form_failed(EDIT_FORM, exc, fields=page.form.values(), config=None, **values)
    return page.redirect(_base(names), flash=f"Parameter {key} saved.")


@screen.get(NS + "/delete")
async def confirm_delete(page: ConsolePage) -> Response:
    """Ask before deleting one parameter (`?key=`)."""
    names = _names(page)
    key = page.query.get("key", "")
    config = await service.get_config(store=page.store, actor=page.principal, **names, key=key)
    return page.render(
        "parameters/delete.html",
        config=config,
        base=_base(names),
        names=names,
        owner=page.query.get("owner", ""),
    )


@screen.post(NS + "/delete")
async def delete_parameter(page: ConsolePage) -> Response:
    """Delete the parameter (its history stays)."""
    names = _names(page)
    key = page.form.get("key")
    await service.delete_config(
        store=page.store, actor=page.principal, **names, key=key, owner_id=_owner(page)
    )
    return page.redirect(_base(names), flash=f"Parameter {key} deleted.")


# --- several at once ----------------------------------------------------------------------

PUBLISH_FORM = "parameters/publish.html"


@screen.get(NS + "/publish")
async def publish_form(page: ConsolePage) -> Response:
    """A form of several rows (set or delete), published as one revision."""
    names = _names(page)
    count = _row_count(page)
    rows = [dict(BLANK_ROW) for _ in range(count)]
    return page.render(
        PUBLISH_FORM,
        rows=rows,
        row_errors={},
        errors=None,
        owner=page.query.get("owner", ""),
        batch_max=BATCH_MAX,
        ops=OP_CHOICES,
        **_form_values(page, names),
    )


@screen.post(NS + "/publish")
async def publish(page: ConsolePage) -> Response:
    """Set and delete the rows' parameters as one revision (every row checked first)."""
    names = _names(page)
    count = _row_count(page)
    errors = ViolationCollector()
    items = _rows(page.form, count, errors)
    try:
        errors.raise_if_any()
        changes = await service.write_batch(
            store=page.store, actor=page.principal, **names, items=items, owner_id=_owner(page)
        )
    except _REFUSED as exc:
        return page.form_failed(
            PUBLISH_FORM,
            exc,
            rows=_compact(_row_fields(page.form, count), count),
            row_errors=_row_errors(exc, count),
            owner=page.form.get("ownerId"),
            batch_max=BATCH_MAX,
            ops=OP_CHOICES,
            **_form_values(page, names),
        )
    done = len(changes.configs) + len(changes.deleted)
    return page.redirect(
        _base(names), flash=f"Published {done} change(s) as revision {changes.revision}."
    )


def _compact(rows: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """The filled rows first (numbered as the batch's items), then blank ones."""
    filled = _filled(rows)
    return filled + [dict(BLANK_ROW) for _ in range(count - len(filled))]


# --- history and revert ------------------------------------------------------------------


@screen.get(NS + "/history")
async def show_history(page: ConsolePage) -> Response:
    """The namespace's newest changes, by revision, each with a revert."""
    names = _names(page)
    given = page.query.get("limit", "")
    limit = int(given) if given.isdigit() and len(given) <= 5 else HISTORY_DEFAULT
    changes = await service.history(store=page.store, actor=page.principal, **names, limit=limit)
    revisions: list[tuple[int, list[object]]] = []
    for change in changes:
        if not revisions or revisions[-1][0] != change.revision:
            revisions.append((change.revision, []))
        revisions[-1][1].append(change)
    more = len(changes) == limit and limit < service.HISTORY_MAX
    return page.render(
        "parameters/history.html",
        revisions=revisions,
        names=names,
        base=_base(names),
        owner=page.query.get("owner", ""),
        more_url=_with_owner(
            f"{_base(names)}/history?limit={min(service.HISTORY_MAX, limit * 2)}",
            page.query.get("owner"),
        )
        if more
        else None,
    )


@screen.post(NS + "/revert")
async def revert(page: ConsolePage) -> Response:
    """Make the namespace hold what it held at a revision, as one new revision."""
    names = _names(page)
    given = page.form.get("revision")
    errors = ViolationCollector()
    if not given.isdigit() or len(given) > 19:
        errors.add("revision", "must be a whole number")
    errors.raise_if_any()
    changes = await service.revert_namespace(
        store=page.store,
        actor=page.principal,
        **names,
        revision=int(given),
        owner_id=_owner(page),
    )
    if changes.revision == changes.since:
        return page.redirect(_base(names), flash=f"The namespace already holds revision {given}.")
    return page.redirect(
        _base(names), flash=f"Reverted to revision {given} as revision {changes.revision}."
    )


# --- who is listening ---------------------------------------------------------------------


@screen.get(NS + "/listeners")
async def listeners(page: ConsolePage) -> Response:
    """The clients watching the namespace now, on every replica."""
    names = _names(page)
    found = await service.list_listeners(store=page.store, actor=page.principal, **names)
    return page.render(
        "parameters/listeners.html",
        listeners=found.items,
        total=found.total,
        names=names,
        base=_base(names),
    )


# --- gray release -------------------------------------------------------------------------

GRAY_FORM = "parameters/gray.html"


def _labels(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


@screen.get(NS + "/gray")
async def gray_form(page: ConsolePage) -> Response:
    """The form of a candidate: the client labels served it and its rows (a replace of the
    open one starts from its rows)."""
    names = _names(page)
    found = await service.namespace_overview(
        store=page.store, actor=page.principal, **names, page=PageRequest(1, 1)
    )
    held = found.candidate
    rows = [
        {"key": i.key, "op": i.op.value, "value": i.value or "", "format": i.format or ""}
        for i in (held.items if held else [])
    ][:ROWS_MAX]
    count = min(ROWS_MAX, max(_row_count(page), len(rows) + 2))
    rows += [dict(BLANK_ROW) for _ in range(count - len(rows))]
    return page.render(
        GRAY_FORM,
        rows=rows,
        row_errors={},
        errors=None,
        owner=_form_owner(page, found.namespace.owner_id),
        candidate=held,
        labels=", ".join(held.labels) if held else "",
        version=str(held.version) if held else "0",
        ops=OP_CHOICES,
        **_form_values(page, names),
    )


@screen.post(NS + "/gray")
async def put_candidate(page: ConsolePage) -> Response:
    """Open the namespace's candidate, or replace the open one (of the version shown)."""
    names = _names(page)
    count = _row_count(page)
    errors = ViolationCollector()
    items = _rows(page.form, count, errors)
    version_text = page.form.get("ifVersion")
    labels = _labels(page.form.get("labels"))
    try:
        if not version_text.isdigit() or len(version_text) > 19:
            errors.add("ifVersion", "must be a whole number")
        errors.raise_if_any()
        candidate, created = await service.put_candidate(
            store=page.store,
            actor=page.principal,
            **names,
            items=items,
            labels=labels,
            if_version=int(version_text),
            owner_id=_owner(page),
        )
    except _REFUSED as exc:
        return page.form_failed(
            GRAY_FORM,
            exc,
            rows=_compact(_row_fields(page.form, count), count),
            row_errors=_row_errors(exc, count),
            owner=page.form.get("ownerId"),
            candidate=None,
            labels=page.form.get("labels"),
            version=version_text,
            ops=OP_CHOICES,
            **_form_values(page, names),
        )
    what = "opened" if created else "replaced"
    return page.redirect(
        _base(names) + "#gray", flash=f"Candidate {what} (version {candidate.version})."
    )


def _version(page: ConsolePage) -> int:
    given = page.form.get("version")
    if not given.isdigit() or len(given) > 19:
        raise InvalidArgument.of("version", "must be a whole number")
    return int(given)


@screen.post(NS + "/gray/promote")
async def promote(page: ConsolePage) -> Response:
    """Apply the candidate shown for everyone, as one revision."""
    names = _names(page)
    changes = await service.promote_candidate(
        store=page.store,
        actor=page.principal,
        **names,
        version=_version(page),
        owner_id=_owner(page),
    )
    return page.redirect(
        _base(names), flash=f"Candidate promoted: revision {changes.revision} for everyone."
    )


@screen.post(NS + "/gray/drop")
async def drop(page: ConsolePage) -> Response:
    """Close the candidate shown without changing anything for anyone."""
    names = _names(page)
    await service.drop_candidate(
        store=page.store,
        actor=page.principal,
        **names,
        version=_version(page),
        owner_id=_owner(page),
    )
    return page.redirect(_base(names), flash="Candidate dropped.")


# --- live values --------------------------------------------------------------------------


def _changes_data(changes: NamespaceChanges) -> bytes:
    """An event's data: the revision, the parameters set (key, value, format, revision)
    and the keys deleted, as the page's script applies them."""
    body = {
        "revision": changes.revision,
        "configs": [
            {"key": c.key, "value": c.value, "format": c.format.value, "revision": c.revision}
            for c in changes.configs
        ],
        "deleted": changes.deleted,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class _Live:
    """The namespace's changes after the revision the page holds (the watch service)."""

    def __init__(self, page: ConsolePage, names: dict[str, str], since: int) -> None:
        self.page = page
        self.names = names
        self.since = since
        self.listener: service.ListenerHandle | None = None

    async def first(self) -> NamespaceChanges:
        """What changed since the page was rendered."""
        return await service.namespace_changes(
            store=self.page.store,
            actor=self.page.principal,
            **self.names,
            since_revision=self.since,
        )

    async def wait(self, seconds: float) -> NamespaceChanges | None:
        """What changed after the revision last sent, once something did."""
        return await service.watch(
            store=self.page.store,
            actor=self.page.principal,
            **self.names,
            since_revision=self.since,
            timeout_seconds=seconds,
        )

    def news(self, found: NamespaceChanges) -> tuple[bytes, int] | None:
        """An event when `found` is at another revision than the page holds."""
        if found.revision == self.since:
            return None
        self.since = found.revision
        if self.listener is not None:
            self.listener.advance(self.since, 0)
        return _changes_data(found), self.since

    def listen(self) -> service.ListenerHandle:
        """This page, in the list of who is listening while its stream is open."""
        self.listener = service.listen(
            store=self.page.store,
            actor=self.page.principal,
            **self.names,
            client_label=None,
            revision=self.since,
            candidate_version=0,
            mode=ListenMode.EVENTS,
        )
        return self.listener


def _since(page: ConsolePage) -> int:
    """The revision the page holds: `Last-Event-ID` (a reconnect), else `?since=`."""
    given = page.request.headers.get("last-event-id") or page.query.get("since", "0")
    if not given.isdigit() or len(given) > 19:
        raise InvalidArgument.of("since", "must be a revision (a whole number)")
    return int(given)


@screen.get(NS + "/events")
async def live_events(page: ConsolePage) -> Response:
    """Server-sent `change` events of the namespace for the page's script (EventSource,
    same origin, the session's cookie); the stream ends after a while and reconnects."""
    names = _names(page)
    live = _Live(page, names, _since(page))

    def events(first: NamespaceChanges) -> AsyncIterator[bytes]:
        return change_events(live, first, LIVE_SECONDS)

    return await event_stream(
        page.request, page.principal.principal_id, live.first, events, listen=live.listen
    )
