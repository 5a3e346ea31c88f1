"""Routes of /v1/configs/{cluster}/service/{name}: dynamic parameters, batches of them,
reverting a namespace, their history, and watching a namespace (long-poll JSON or a
server-sent event stream).

Each handler parses, calls one service, renders. Domain errors name the fields as this
face's path and body do (`cluster`, `key`, `value`, …).

A key may hold `/`, raw or as `%2F`: `{key:path}` takes the rest of the path. Routing sees
the decoded path, so the `:watch`, `:history`, `:batch`, `:revert`, `:candidate`,
`:promote`, `:listeners` and `/history` routes check the raw path:
`…/a%2Fhistory` is the key `a/history`, not the history of `a`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Protocol, TypeVar
from urllib.parse import unquote

from fastapi import Header, Path, Query, Request
from starlette.responses import Response

from modelplane.domain.configs import (
    BATCH_MAX,
    CLUSTER_PATTERN,
    CONFIG_TYPE,
    KEY_PATTERN,
    LABEL_PATTERN,
    NAME_PATTERN,
    GrayChanges,
    ListenMode,
    NamespaceChanges,
    check_since_candidate,
)
from modelplane.domain.errors import InvalidArgument
from modelplane.faces.event_stream import wants_events
from modelplane.faces.jsonresponse import JsonResponse, json_bytes
from modelplane.faces.native.config_schemas import (
    CandidateIn,
    CandidateOut,
    ChangesOut,
    ConfigBatchIn,
    ConfigOut,
    ConfigValueIn,
    HistoryOut,
    ListenersOut,
    NamespaceListOut,
    NamespaceOut,
    RevertIn,
    WatchOut,
    render_candidate,
    render_change,
    render_changes,
    render_config,
    render_config_view,
    render_gray_changes,
    render_listener,
    render_namespace,
    render_view,
)
from modelplane.faces.native.deps import Context, context
from modelplane.faces.native.owner_query import NamedOwner
from modelplane.faces.native.responses import DeletedOut, ErrorOut
from modelplane.faces.native.routing import router as native_router
from modelplane.faces.native.watching import (
    WATCH_SECONDS_DEFAULT,
    Moves,
    change_events,
    event_stream,
    long_poll,
)
from modelplane.services import configs as service
from modelplane.services.configs import ListenerHandle

router = native_router("/v1/configs", ["configs"])
T = TypeVar("T")

_REVISION = re.compile(r"^[0-9]{1,18}(\.[0-9]{1,18})?$")
LABEL_HEADER = "X-Modelplane-Client-Label"
_NS = "/{cluster}/{configType}/{name}"
_KEY = _NS + "/{key:path}"

# The patterns are documented for clients (and fuzzers); the domain checks them, so that
# errors read the same on every face.
Cluster = Annotated[
    str,
    Path(
        description="The cluster (region), e.g. `cn-hangzhou`",
        json_schema_extra={"pattern": CLUSTER_PATTERN},
    ),
]
ConfigType = Annotated[
    str,
    Path(
        alias="configType",
        description="Always `service`",
        json_schema_extra={"enum": [CONFIG_TYPE]},
    ),
]
Name = Annotated[
    str,
    Path(description="The service name", json_schema_extra={"pattern": NAME_PATTERN}),
]
Key = Annotated[
    str,
    Path(
        description="The parameter's key; a `/` in it may be sent raw or as `%2F`. A new key "
        "has no empty, `.` or `..` part between `/`: clients normalise such paths",
        json_schema_extra={"pattern": KEY_PATTERN},
    ),
]
Limit = Annotated[
    int, Query(description=f"How many changes, 1..{service.HISTORY_MAX}; 100 when absent")
]
LabelQuery = Annotated[
    str | None,
    Query(
        alias="clientLabel",
        description="The client's label (or the `X-Modelplane-Client-Label` header): a "
        "client whose label the namespace's candidate targets is served the candidate",
        json_schema_extra={"pattern": LABEL_PATTERN},
    ),
]
LabelHeader = Annotated[
    str | None,
    Header(alias=LABEL_HEADER, description="The client's label, as `clientLabel`"),
]
CandidateVersion = Annotated[
    int | None,
    Query(description="Only when the open candidate is at this version (412 otherwise)"),
]


def _label(query: str | None, header: str | None) -> str | None:
    """The client label from the query or the header (they must agree when both come)."""
    if query is not None and header is not None and query != header:
        raise InvalidArgument.of(
            "clientLabel", f"the query and the {LABEL_HEADER} header must agree"
        )
    return query if query is not None else header


def _raw_tail_is(request: Request, tail: str) -> bool:
    """Whether the raw path ends with `tail` as written (not with part of it encoded)."""
    raw: bytes | None = request.scope.get("raw_path")
    if not raw:
        return True
    head, _, last = raw.rpartition(b"/")
    written = tail.lstrip("/")
    if tail.startswith("/"):
        return bool(head) and unquote(last.decode("latin-1")) == written
    return last.endswith(written.encode())


def _since(since_revision: int, since_candidate: int, last_event_id: str | None) -> tuple[int, int]:
    """The revision and candidate version to watch from: `Last-Event-ID` (`R` or `R.C`)
    when given, else `sinceRevision` and `sinceCandidate`."""
    if last_event_id is None:
        return since_revision, since_candidate
    if not _REVISION.fullmatch(last_event_id.strip()):
        raise InvalidArgument.of(
            "Last-Event-ID",
            "must be a revision, or a revision and a candidate version: `12` or `12.3`",
        )
    revision, _, candidate = last_event_id.strip().partition(".")
    return int(revision), int(candidate or 0)


@router.get("", response_model=NamespaceListOut)
async def list_namespaces(request: Request) -> Response:
    """The namespaces the caller may read (admins: all) that were ever written, in order."""
    ctx = context(request)
    found = await service.list_namespaces(store=ctx.store, actor=ctx.principal)
    return JsonResponse({"namespaces": [render_namespace(n) for n in found]})


@router.get(
    _NS + ":watch",
    response_model=WatchOut,
    responses={
        200: {
            "description": "JSON: what changed, or `changed: false` at the timeout. With "
            "`Accept: text/event-stream`: a stream of `change` events.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        429: {
            "model": ErrorOut,
            "description": "Too many open watches: of the caller "
            "(`MODELPLANE_MAX_WATCHES_PER_PRINCIPAL`) or on this server "
            "(`MODELPLANE_MAX_WATCHES`); `Retry-After` says when to try again",
        },
    },
    description="Wait until the namespace's revision passes `sinceRevision`, and get what "
    "changed after it.\n\n"
    "**What changed.** `configs` holds the parameters created or changed after "
    "`sinceRevision`, in key order, and `deleted` the keys deleted after it (and not set "
    "again): applied to the parameters at `sinceRevision`, sets first, they give the "
    "parameters at `revision`. From `sinceRevision` 0 `configs` is every parameter; the "
    "whole namespace is always `GET …/service/{name}`.\n\n"
    "**Long-poll (JSON).** Answers at once when the revision is already past "
    "`sinceRevision`, else as soon as a change commits (on any replica), with "
    '`{"changed": true, "revision", "configs", "deleted"}`; at `timeoutSeconds` (default '
    '30) it answers `{"changed": false, "revision": sinceRevision}`. A `sinceRevision` '
    "beyond the namespace's revision (it was made again, or read on another instance) is "
    'answered at once with `{"changed": false, "revision": <the real one>}`: read the '
    "namespace again. Call again with the revision you got.\n\n"
    "**Server-sent events** (`Accept: text/event-stream`). An event `change` with "
    "`id: <revision>` and `data: {revision, configs, deleted}` for what changed after "
    "`sinceRevision` when the namespace is past it, then one for each new revision, each "
    "with what changed after the previous event (changes that commit together may arrive "
    "as one event carrying the newest revision). A comment line every ~15 s keeps the "
    "connection alive. `Last-Event-ID` (sent by `EventSource` when it reconnects) takes "
    "the place of `sinceRevision`. The stream ends at `timeoutSeconds` when given; after "
    "an error it sends an `error` event with the error body and ends.\n\n"
    "Each open watch counts against the caps of open watches (429 `RESOURCE_EXHAUSTED` "
    "beyond them). Both end early when the server shuts down (the long-poll then answers "
    "`changed: false`).",
)
async def watch_configs(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    request: Request,
    since_revision: Annotated[
        int, Query(alias="sinceRevision", description="The revision the caller has; 0: none")
    ] = 0,
    timeout_seconds: Annotated[
        float | None,
        Query(
            alias="timeoutSeconds",
            description=f"0..{service.WATCH_SECONDS_MAX:g}; long-poll: "
            f"{WATCH_SECONDS_DEFAULT:g} when absent; event stream: no end when absent",
        ),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="Overrides `sinceRevision` when given"),
    ] = None,
    since_candidate: Annotated[
        int,
        Query(
            alias="sinceCandidate",
            description="With a client label: the candidate version the caller holds (0: none)",
        ),
    ] = 0,
    label_query: LabelQuery = None,
    label_header: LabelHeader = None,
) -> Response:
    """Watch a namespace (long-poll or server-sent events)."""
    if not _raw_tail_is(request, ":watch"):  # `%3Awatch`: part of the name
        return await get_configs(cluster, config_type, name + ":watch", request)
    ctx = context(request)
    names = {"cluster_id": cluster, "config_type": config_type, "name": name}
    since, since_candidate = _since(since_revision, since_candidate, last_event_id)
    label = _label(label_query, label_header)
    if label is None and since_candidate:
        check_since_candidate(since_candidate, None)
    events = wants_events(request.headers.get("accept"))
    if label is None:
        plain = _Plain(ctx, names, since)
        if events:
            return await _stream(request, ctx, plain, since, timeout_seconds)
        changes = await _poll(request, ctx, plain, since, timeout_seconds)
        if changes is None or changes.revision < since:  # behind the client: the real one
            revision = since if changes is None else changes.revision
            return JsonResponse({"changed": False, "revision": revision})
        return JsonResponse({"changed": True, **render_changes(changes)})
    gray = _Gray(ctx, names, label, since, since_candidate)
    if events:
        return await _stream(request, ctx, gray, since, timeout_seconds)
    check_since_candidate(since_candidate, label)
    seen = await _poll(request, ctx, gray, since, timeout_seconds)
    if seen is None:
        return JsonResponse({"changed": False, "revision": since})
    return JsonResponse({"changed": True, **render_gray_changes(seen)})


class _Watch(Moves[T], Protocol[T]):
    """A namespace's watch, plain or gray."""

    def listen(self, mode: ListenMode) -> ListenerHandle:
        """The watch, in the list of who is listening until it is closed."""

    async def first(self) -> T:
        """What changed up to now."""


async def _stream(
    request: Request, ctx: Context, watch: _Watch[T], since: int, timeout_seconds: float | None
) -> Response:
    """A watch as server-sent events."""
    service.check_watch(since, timeout_seconds or 0.0)
    return await event_stream(
        request,
        ctx.principal.principal_id,
        watch.first,
        lambda first: change_events(watch, first, timeout_seconds),
        listen=lambda: watch.listen(ListenMode.EVENTS),
    )


async def _poll(
    request: Request, ctx: Context, watch: _Watch[T], since: int, timeout_seconds: float | None
) -> T | None:
    """A long-poll's wait: what changed, or None at its timeout."""
    timeout = WATCH_SECONDS_DEFAULT if timeout_seconds is None else timeout_seconds
    service.check_watch(since, timeout)
    return await long_poll(
        request,
        ctx.principal.principal_id,
        lambda: watch.wait(timeout),
        listen=lambda: watch.listen(ListenMode.LONG_POLL),
    )


class _Plain:
    """A namespace's changes after the revision the client holds."""

    def __init__(self, ctx: Context, names: dict[str, str], since: int) -> None:
        self.ctx = ctx
        self.names = names
        self.since = since
        self.listener: ListenerHandle | None = None

    def listen(self, mode: ListenMode) -> ListenerHandle:
        """The watch, in the list of who is listening until it is closed."""
        self.listener = _listen(self.ctx, self.names, None, self.since, 0, mode)
        return self.listener

    async def first(self) -> NamespaceChanges:
        """What changed up to now (from the revision the client holds)."""
        first = await service.namespace_changes(
            store=self.ctx.store, actor=self.ctx.principal, **self.names, since_revision=self.since
        )
        self.since = first.since
        return first

    async def wait(self, seconds: float) -> NamespaceChanges | None:
        """What changed after the revision last sent, once something did."""
        return await service.watch(
            store=self.ctx.store,
            actor=self.ctx.principal,
            **self.names,
            since_revision=self.since,
            timeout_seconds=seconds,
        )

    def news(self, found: NamespaceChanges) -> tuple[bytes, int] | None:
        """A `change` event (`id`: the revision) when `found` is at another revision than
        what was sent: a newer one, or the real one when the client was ahead."""
        if found.revision == self.since:
            return None
        self.since = found.revision
        if self.listener is not None:
            self.listener.advance(self.since, 0)
        return json_bytes(render_changes(found)), self.since


class _Gray:
    """A namespace as a client with a label sees it: each event's id is
    `revision.candidateVersion`."""

    def __init__(
        self, ctx: Context, names: dict[str, str], label: str, since: int, since_candidate: int
    ) -> None:
        self.ctx = ctx
        self.names = names
        self.label = label
        self.since = since
        self.since_candidate = since_candidate
        self.listener: ListenerHandle | None = None

    def listen(self, mode: ListenMode) -> ListenerHandle:
        """The watch, in the list of who is listening until it is closed."""
        self.listener = _listen(
            self.ctx, self.names, self.label, self.since, self.since_candidate, mode
        )
        return self.listener

    async def first(self) -> GrayChanges:
        """What the label sees changed up to now."""
        return await service.first_gray_changes(
            store=self.ctx.store,
            actor=self.ctx.principal,
            **self.names,
            client_label=self.label,
            since_revision=self.since,
            since_candidate=self.since_candidate,
        )

    async def wait(self, seconds: float) -> GrayChanges | None:
        """What the label sees changed after what was last sent, once something did."""
        return await service.watch_gray(
            store=self.ctx.store,
            actor=self.ctx.principal,
            **self.names,
            client_label=self.label,
            since_revision=self.since,
            since_candidate=self.since_candidate,
            timeout_seconds=seconds,
        )

    def news(self, found: GrayChanges) -> tuple[bytes, str] | None:
        """A `change` event when the revision or the candidate moved past what was sent."""
        if not service.gray_moved(found, self.since, self.since_candidate):
            return None
        self.since = max(self.since, found.changes.revision)
        self.since_candidate = found.candidate_version
        if self.listener is not None:
            self.listener.advance(self.since, self.since_candidate)
        data = json_bytes(render_gray_changes(found))
        return data, f"{self.since}.{self.since_candidate}"


def _listen(
    ctx: Context,
    names: dict[str, str],
    label: str | None,
    revision: int,
    candidate_version: int,
    mode: ListenMode,
) -> ListenerHandle:
    """The watch, in the list of who is listening until it is closed."""
    return service.listen(
        store=ctx.store,
        actor=ctx.principal,
        **names,
        client_label=label,
        revision=revision,
        candidate_version=candidate_version,
        mode=mode,
    )


@router.get(
    _NS + ":history",
    response_model=HistoryOut,
    description="The newest changes of every key of the namespace, newest first.",
)
async def namespace_history(
    cluster: Cluster, config_type: ConfigType, name: Name, request: Request, limit: Limit = 100
) -> Response:
    """A namespace's history."""
    if not _raw_tail_is(request, ":history"):  # `%3Ahistory`: part of the name
        return await get_configs(cluster, config_type, name + ":history", request)
    return await _history(request, cluster, config_type, name, None, limit)


@router.post(
    _NS + ":batch",
    response_model=ChangesOut,
    description="Set and delete several parameters of the namespace at once, as one "
    f"revision: 1..{BATCH_MAX} items, each `{{key, op, value, format}}` (`op` `set`, the "
    "default, or `delete`), each key once. Every item is checked first: any bad item is "
    "400 naming it (`items.3.value`: a value that does not parse in its format, with line "
    "and column), a `delete` of a key that does not exist included, and nothing is written. "
    "Then all of them commit together: the revision goes up by one, watchers wake once and "
    "read the whole batch, never a part of it, and the history holds one entry per item at "
    "that revision. The first writer of a namespace owns it, as with `PUT` (`ownerId` "
    "likewise); a batch of deletes only needs the namespace to exist (404).",
)
async def write_batch(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    body: ConfigBatchIn,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Set and delete several parameters as one revision."""
    if not _raw_tail_is(request, ":batch"):  # `%3Abatch`: part of the name (refused)
        name += ":batch"
    ctx = context(request)
    changes = await service.write_batch(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        items=[item.write() for item in body.items],
        owner_id=owner_id,
    )
    return JsonResponse(render_changes(changes))


@router.post(
    _NS + ":revert",
    response_model=ChangesOut,
    description="Make the namespace hold again exactly what it held at an earlier "
    "`revision` (0: before the first write, no parameters), as one new revision: the "
    "parameters added since are deleted, the changed ones get their value and format back, "
    "the deleted ones are created again. Every change is kept in the history, so every "
    "revision up to the current one can be reverted to; a revision beyond it is 404. When "
    "the namespace already holds that state nothing is written, and the answer carries the "
    "current revision and no changes. Audited like every write (each parameter's event "
    "says `revertedTo`); `ownerId` as for `PUT`.",
)
async def revert_namespace(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    body: RevertIn,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Revert a namespace to an earlier revision."""
    if not _raw_tail_is(request, ":revert"):  # `%3Arevert`: part of the name (refused)
        name += ":revert"
    ctx = context(request)
    changes = await service.revert_namespace(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        revision=body.revision,
        owner_id=owner_id,
    )
    return JsonResponse(render_changes(changes))


@router.put(
    _NS + ":candidate",
    response_model=CandidateOut,
    responses={
        200: {"description": "Replaced"},
        201: {"model": CandidateOut, "description": "Created"},
    },
    description="Open the namespace's gray release, or replace the open one: a candidate "
    "change (`items`, as in `:batch`, each checked against the namespace now: any bad item "
    "is 400 naming it and nothing is written) served only to clients whose label is in "
    "`labels` (`clientLabel` or the `X-Modelplane-Client-Label` header on reads and "
    "watches), until it is promoted (`:promote`) or dropped (`DELETE …:candidate`). A "
    "namespace has at most one candidate; `ifVersion` 0 only creates it (409 when one is "
    "open), N only replaces version N (412 otherwise). Every write gives the candidate a "
    "new `version`, and wakes the watchers with a label. Audited (`config_candidate`); "
    "`ownerId` as for `PUT` of a parameter.",
)
async def put_candidate(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    body: CandidateIn,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Create or replace a namespace's candidate."""
    if not _raw_tail_is(request, ":candidate"):  # `%3Acandidate`: part of the name (refused)
        name += ":candidate"
    ctx = context(request)
    candidate, created = await service.put_candidate(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        items=body.writes(),
        labels=body.labels,
        if_version=body.ifVersion,
        owner_id=owner_id,
    )
    return JsonResponse(render_candidate(candidate), status_code=201 if created else 200)


@router.get(
    _NS + ":candidate",
    response_model=CandidateOut,
    description="The namespace's open gray release (404 when there is none).",
)
async def get_candidate(
    cluster: Cluster, config_type: ConfigType, name: Name, request: Request
) -> Response:
    """A namespace's candidate."""
    if not _raw_tail_is(request, ":candidate"):  # `%3Acandidate`: part of the name
        return await get_configs(cluster, config_type, name + ":candidate", request)
    ctx = context(request)
    candidate = await service.get_candidate(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
    )
    return JsonResponse(render_candidate(candidate))


@router.delete(
    _NS + ":candidate",
    response_model=CandidateOut,
    description="Drop the namespace's gray release: nothing changes for anyone, and the "
    "clients it was served to see the namespace itself again (their watches wake). "
    "`version`: only when the candidate is at it (412 otherwise); 404 when none is open. "
    "Audited; answers the candidate dropped.",
)
async def drop_candidate(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    request: Request,
    version: CandidateVersion = None,
    owner_id: NamedOwner = None,
) -> Response:
    """Drop a namespace's candidate."""
    if not _raw_tail_is(request, ":candidate"):  # `%3Acandidate`: part of the name (refused)
        name += ":candidate"
    ctx = context(request)
    candidate = await service.drop_candidate(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        version=version,
        owner_id=owner_id,
    )
    return JsonResponse(render_candidate(candidate))


@router.post(
    _NS + ":promote",
    response_model=ChangesOut,
    description="Promote the namespace's gray release: its changes are applied for everyone "
    "as one new revision (as a `:batch`: watchers wake once and see it whole; a delete of "
    "a key deleted since is skipped), and the candidate is closed. `version`: only when "
    "the candidate is at it (412 otherwise); 404 when none is open. Audited: the "
    "candidate's `promote` and each parameter's change (with `candidateId`).",
)
async def promote_candidate(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    request: Request,
    version: CandidateVersion = None,
    owner_id: NamedOwner = None,
) -> Response:
    """Promote a namespace's candidate to everyone."""
    if not _raw_tail_is(request, ":promote"):  # `%3Apromote`: part of the name (refused)
        name += ":promote"
    ctx = context(request)
    changes = await service.promote_candidate(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        version=version,
        owner_id=owner_id,
    )
    return JsonResponse(render_changes(changes))


@router.get(
    _NS + ":listeners",
    response_model=ListenersOut,
    description="Who watches the namespace now, on every replica: each open long-poll and "
    "event stream with its client label, its replica, the revision (and candidate "
    "version) it holds, its principal and since when, oldest first (at most 500; `total` "
    "counts them all). Replicas write their watchers about once a second "
    "(`MODELPLANE_LISTENERS_FLUSH_SECONDS`), so a watch shows that much later; the "
    "watchers of a replica not heard from for `MODELPLANE_LISTENERS_STALE_SECONDS` are "
    "left out and deleted. For the namespace's owner and admins (404 for anyone else).",
)
async def list_listeners(
    cluster: Cluster, config_type: ConfigType, name: Name, request: Request
) -> Response:
    """Who watches a namespace."""
    if not _raw_tail_is(request, ":listeners"):  # `%3Alisteners`: part of the name
        return await get_configs(cluster, config_type, name + ":listeners", request)
    ctx = context(request)
    found = await service.list_listeners(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
    )
    return JsonResponse(
        {"listeners": [render_listener(w) for w in found.items], "total": found.total}
    )


@router.get(
    _NS,
    response_model=NamespaceOut,
    description="Every parameter of the namespace in key order, and its revision (0 and no "
    "parameters before the first write, and for a member in another owner's namespace).",
)
async def get_configs(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    request: Request,
    label_query: LabelQuery = None,
    label_header: LabelHeader = None,
) -> Response:
    """A namespace's parameters."""
    ctx = context(request)
    view = await service.namespace_view(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        client_label=_label(label_query, label_header),
    )
    return JsonResponse(render_view(view))


@router.get(
    _KEY + "/history",
    response_model=HistoryOut,
    description="The newest changes of one key, newest first (its history outlives a delete).",
)
async def key_history(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    key: Key,
    request: Request,
    limit: Limit = 100,
) -> Response:
    """A parameter's history."""
    if not _raw_tail_is(request, "/history"):  # `…%2Fhistory`: the key ends with it
        return await get_config(cluster, config_type, name, key + "/history", request)
    return await _history(request, cluster, config_type, name, key, limit)


async def _history(
    request: Request, cluster: str, config_type: str, name: str, key: str | None, limit: int
) -> Response:
    ctx = context(request)
    changes = await service.history(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        key=key,
        limit=limit,
    )
    return JsonResponse({"changes": [render_change(c) for c in changes]})


@router.get(_KEY, response_model=ConfigOut)
async def get_config(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    key: Key,
    request: Request,
    label_query: LabelQuery = None,
    label_header: LabelHeader = None,
) -> Response:
    """One parameter."""
    ctx = context(request)
    config, candidate = await service.config_view(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        key=key,
        client_label=_label(label_query, label_header),
    )
    return JsonResponse(render_config_view(config, candidate))


@router.put(
    _KEY,
    response_model=ConfigOut,
    responses={
        200: {"description": "Updated"},
        201: {"model": ConfigOut, "description": "Created"},
    },
    description="Set a parameter: created when missing (201), changed when present (200). "
    "With `format` the value must parse in it (400 naming `value`, with line and column) "
    "and the parameter keeps that format; without, a new parameter is `text` and an "
    "existing one keeps its own, which the value must parse in. The first writer of a "
    "namespace owns it (or the `ownerId` an admin names). A member "
    "writing into another owner's namespace gets 409 (the name is taken); an admin must "
    "name its owner with `ownerId` (412 otherwise).",
)
async def put_config(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    key: Key,
    body: ConfigValueIn,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Create or update a parameter."""
    ctx = context(request)
    config, created = await service.put_config(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        key=key,
        value=body.value,
        owner_id=owner_id,
        format=body.format,
    )
    return JsonResponse(render_config(config), status_code=201 if created else 200)


@router.delete(
    _KEY,
    response_model=DeletedOut,
    description="Delete a parameter (`id` is its key); its history stays. In another "
    "owner's namespace: 404 for a member, as in one never written; an admin must name its "
    "owner with `ownerId` (412 otherwise).",
)
async def delete_config(
    cluster: Cluster,
    config_type: ConfigType,
    name: Name,
    key: Key,
    request: Request,
    owner_id: NamedOwner = None,
) -> Response:
    """Delete a parameter."""
    ctx = context(request)
    await service.delete_config(
        store=ctx.store,
        actor=ctx.principal,
        cluster_id=cluster,
        config_type=config_type,
        name=name,
        key=key,
        owner_id=owner_id,
    )
    body: dict[str, Any] = {"deleted": True, "id": key}
    return JsonResponse(body)
