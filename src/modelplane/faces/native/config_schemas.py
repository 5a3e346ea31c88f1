"""Wire models of dynamic parameters (`/v1/configs`) and their renderers.

The request refuses unknown fields and checks the type; every domain rule (the key
grammar, the value size) is checked by the domain.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from modelplane.domain.config_formats import FORMATS, ConfigFormat
from modelplane.domain.configs import (
    BATCH_MAX,
    CONFIG_TYPE,
    LABEL_PATTERN,
    LABELS_MAX,
    Candidate,
    Change,
    ChangeKind,
    Config,
    ConfigWrite,
    GrayChanges,
    GrayView,
    Listener,
    ListenMode,
    Namespace,
    NamespaceChanges,
    WriteOp,
)
from modelplane.faces.native.llm_schemas import WireModel

_FORMAT = (
    "The format the value must parse in: `text` (anything), `json`, `yaml` (one document, "
    "safe types only) or `properties` (Java `.properties`). Absent: a new parameter is "
    "`text`, an existing one keeps its format"
)


class ConfigValueIn(WireModel):
    """Body of `PUT /v1/configs/{cluster}/{configType}/{name}/{key}`."""

    value: str = Field(description="Any text up to 64 KiB without NUL characters (often JSON)")
    format: str | None = Field(
        default=None, description=_FORMAT, json_schema_extra={"enum": list(FORMATS)}
    )


class ConfigWriteIn(WireModel):
    """One item of a batch: set a parameter, or delete it."""

    key: str = Field(description="The parameter's key; once per batch")
    op: str = Field(
        default=WriteOp.SET.value,
        description="`set` (the default) or `delete`",
        json_schema_extra={"enum": [o.value for o in WriteOp]},
    )
    value: str | None = Field(
        default=None, description="For a `set`: the value, up to 64 KiB; absent for a `delete`"
    )
    format: str | None = Field(
        default=None,
        description=f"For a `set`: {_FORMAT[0].lower()}{_FORMAT[1:]}; absent for a `delete`",
        json_schema_extra={"enum": list(FORMATS)},
    )

    def write(self) -> ConfigWrite:
        """The item as the service takes it."""
        return ConfigWrite(key=self.key, op=self.op, value=self.value, format=self.format)


class ConfigBatchIn(WireModel):
    """Body of `POST /v1/configs/{cluster}/{configType}/{name}:batch`."""

    items: list[ConfigWriteIn] = Field(
        description=f"1..{BATCH_MAX} sets and deletes, each key once; applied together"
    )


class RevertIn(WireModel):
    """Body of `POST /v1/configs/{cluster}/{configType}/{name}:revert`."""

    revision: int = Field(description="The earlier revision whose parameters to hold again")


class CandidateIn(WireModel):
    """Body of `PUT /v1/configs/{cluster}/{configType}/{name}:candidate`."""

    items: list[ConfigWriteIn] = Field(
        description=f"1..{BATCH_MAX} sets and deletes, each key once, as in `:batch`"
    )
    labels: list[str] = Field(
        description=f"1..{LABELS_MAX} client labels served the candidate, each once",
        json_schema_extra={"items": {"type": "string", "pattern": LABEL_PATTERN}},
    )
    ifVersion: int | None = Field(
        default=None,
        description="0: only create (409 when one is open); N: only replace version N "
        "(412 when another is open, 404 when none is); absent: create or replace",
    )

    def writes(self) -> list[ConfigWrite]:
        """The items as the service takes them."""
        return [item.write() for item in self.items]


class CandidateRefOut(BaseModel):
    """The candidate a client with a targeted label is served."""

    candidateId: str
    version: int = Field(
        description="Grows with every write of the namespace's candidate; a watch passes "
        "it back as `sinceCandidate`"
    )


class CandidateItemOut(BaseModel):
    """One change of a candidate."""

    key: str
    op: WriteOp
    value: str | None = Field(description="For a `set`; null for a `delete`")
    format: ConfigFormat | None = Field(
        description="For a `set`: the format it is checked in (the one declared, else the "
        "parameter's own when the candidate was written); null for a `delete`"
    )


class CandidateOut(BaseModel):
    """A namespace's open gray release."""

    candidateId: str
    version: int = Field(description="Grows with every write of the namespace's candidate")
    labels: list[str] = Field(description="The client labels served the candidate")
    items: list[CandidateItemOut] = Field(description="Its sets and deletes, in order")
    baseRevision: int = Field(description="The namespace's revision when it was last written")
    createdBy: str
    createdAt: int = Field(description="Epoch milliseconds")
    updatedAt: int = Field(description="Epoch milliseconds")


class ListenerOut(BaseModel):
    """One open watch of a namespace."""

    listenerId: str
    replicaId: str = Field(description="The replica that holds the watch")
    clientLabel: str | None = Field(description="The label the client gave; null: none")
    revision: int = Field(description="The revision the watcher holds")
    candidateVersion: int = Field(description="The candidate version it holds; 0: none")
    principalId: str
    mode: ListenMode = Field(description="`long-poll` or `events` (server-sent events)")
    since: int = Field(description="When the watch began, epoch milliseconds")


class ListenersOut(BaseModel):
    """Response of `GET …:listeners`."""

    listeners: list[ListenerOut] = Field(description="Oldest first, at most 500")
    total: int = Field(description="How many watch the namespace now")


class ConfigOut(BaseModel):
    """One parameter."""

    key: str = Field(description="`^[A-Za-z0-9._/-]{1,100}$`")
    value: str
    createdAt: int = Field(description="Epoch milliseconds")
    updatedAt: int = Field(description="Epoch milliseconds")
    revision: int = Field(description="The namespace revision of the parameter's last change")
    format: ConfigFormat = Field(description="The format its values are checked in")
    candidate: CandidateRefOut | None = Field(
        default=None,
        description="On a read with a client label: the candidate the value comes from",
    )


class NamespaceOut(BaseModel):
    """Every parameter of a namespace, in key order, at one revision."""

    revision: int = Field(description="Bumped by every change; 0 before the first")
    configs: list[ConfigOut]
    candidate: CandidateRefOut | None = Field(
        default=None,
        description="The candidate applied to `configs`: only on a read with a client label "
        "the namespace's candidate targets",
    )


class NamespaceSummaryOut(BaseModel):
    """A namespace that was written to, without its parameters."""

    cluster: str
    configType: str = Field(description="Always `service`")
    name: str
    ownerId: str
    revision: int
    createdAt: int = Field(description="Epoch milliseconds")
    updatedAt: int = Field(description="Epoch milliseconds")


class NamespaceListOut(BaseModel):
    """Response of `GET /v1/configs`."""

    namespaces: list[NamespaceSummaryOut]


class ChangeOut(BaseModel):
    """One history entry."""

    revision: int
    key: str
    kind: ChangeKind
    value: str | None = Field(description="The value written; null for a delete")
    format: ConfigFormat | None = Field(description="The format written; null for a delete")
    actorId: str = Field(description="The principal that made the change")
    at: int = Field(description="Epoch milliseconds")


class HistoryOut(BaseModel):
    """Changes, newest first."""

    changes: list[ChangeOut]


class ChangesOut(BaseModel):
    """What one write changed: the new revision, the parameters set and the keys deleted."""

    revision: int = Field(
        description="The namespace's revision now: the new one, or the one it had when "
        "nothing needed to change"
    )
    configs: list[ConfigOut] = Field(description="The parameters set, in key order")
    deleted: list[str] = Field(description="The keys deleted, sorted")


class WatchOut(BaseModel):
    """The answer of a watch: what changed, or no change at the timeout."""

    changed: bool = Field(description="Whether the revision passed `sinceRevision`")
    revision: int = Field(
        description="The new revision; `sinceRevision` itself when nothing changed"
    )
    configs: list[ConfigOut] | None = Field(
        default=None,
        description="The parameters created or changed after `sinceRevision`, in key order "
        "(from 0: every parameter); only when `changed`",
    )
    deleted: list[str] | None = Field(
        default=None,
        description="The keys deleted after `sinceRevision` and not set again, sorted (none "
        "from 0); only when `changed`",
    )
    full: bool | None = Field(
        default=None,
        description="With a client label, when `changed`: true when `configs` is every "
        "parameter as the client sees the namespace now (the candidate it held changed), "
        "to replace what it holds",
    )
    candidate: CandidateRefOut | None = Field(
        default=None,
        description="With a client label, when `changed`: the candidate served (null: none)",
    )


def render_config(config: Config) -> dict[str, Any]:
    """The wire form of a parameter."""
    return {
        "key": config.key,
        "value": config.value,
        "createdAt": config.created_at,
        "updatedAt": config.updated_at,
        "revision": config.revision,
        "format": config.format.value,
    }


def render_candidate_ref(candidate: Candidate | None) -> dict[str, Any] | None:
    """The wire form of the candidate a client is served (None: none)."""
    if candidate is None:
        return None
    return {"candidateId": candidate.candidate_id, "version": candidate.version}


def render_view(view: GrayView) -> dict[str, Any]:
    """The wire form of a namespace as one client sees it."""
    state = view.state
    body = {"revision": state.revision, "configs": [render_config(c) for c in state.configs]}
    if view.candidate is not None:
        body["candidate"] = render_candidate_ref(view.candidate)
    return body


def render_config_view(config: Config, candidate: Candidate | None) -> dict[str, Any]:
    """The wire form of a parameter as one client sees it."""
    body = render_config(config)
    if candidate is not None:
        body["candidate"] = render_candidate_ref(candidate)
    return body


def render_gray_changes(changes: GrayChanges) -> dict[str, Any]:
    """The wire form of what a watcher with a client label is sent."""
    return {
        **render_changes(changes.changes),
        "full": changes.full,
        "candidate": render_candidate_ref(changes.candidate),
    }


def render_candidate(candidate: Candidate) -> dict[str, Any]:
    """The wire form of a candidate."""
    return {
        "candidateId": candidate.candidate_id,
        "version": candidate.version,
        "labels": list(candidate.labels),
        "items": [
            {
                "key": item.key,
                "op": item.op.value,
                "value": item.value,
                "format": item.format.value if item.format is not None else None,
            }
            for item in candidate.items
        ],
        "baseRevision": candidate.base_revision,
        "createdBy": candidate.created_by,
        "createdAt": candidate.created_at,
        "updatedAt": candidate.updated_at,
    }


def render_listener(listener: Listener) -> dict[str, Any]:
    """The wire form of an open watch."""
    return {
        "listenerId": listener.listener_id,
        "replicaId": listener.replica_id,
        "clientLabel": listener.client_label,
        "revision": listener.revision,
        "candidateVersion": listener.candidate_version,
        "principalId": listener.principal_id,
        "mode": listener.mode.value,
        "since": listener.since,
    }


def render_changes(changes: NamespaceChanges) -> dict[str, Any]:
    """The wire form of what changed in a namespace after a revision."""
    return {
        "revision": changes.revision,
        "configs": [render_config(c) for c in changes.configs],
        "deleted": changes.deleted,
    }


def render_namespace(namespace: Namespace) -> dict[str, Any]:
    """The wire form of a namespace summary."""
    return {
        "cluster": namespace.key.cluster_id,
        "configType": CONFIG_TYPE,
        "name": namespace.key.name,
        "ownerId": namespace.owner_id,
        "revision": namespace.revision,
        "createdAt": namespace.created_at,
        "updatedAt": namespace.updated_at,
    }


def render_change(change: Change) -> dict[str, Any]:
    """The wire form of a history entry."""
    return {
        "revision": change.revision,
        "key": change.key,
        "kind": change.kind.value,
        "value": change.value,
        "format": change.format.value if change.format is not None else None,
        "actorId": change.actor_id,
        "at": change.at,
    }
