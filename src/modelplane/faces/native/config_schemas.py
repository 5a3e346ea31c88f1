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
    Change,
    ChangeKind,
    Config,
    ConfigWrite,
    Namespace,
    NamespaceChanges,
    NamespaceState,
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


class ConfigOut(BaseModel):
    """One parameter."""

    key: str = Field(description="`^[A-Za-z0-9._/-]{1,100}$`")
    value: str
    createdAt: int = Field(description="Epoch milliseconds")
    updatedAt: int = Field(description="Epoch milliseconds")
    revision: int = Field(description="The namespace revision of the parameter's last change")
    format: ConfigFormat = Field(description="The format its values are checked in")


class NamespaceOut(BaseModel):
    """Every parameter of a namespace, in key order, at one revision."""

    revision: int = Field(description="Bumped by every change; 0 before the first")
    configs: list[ConfigOut]


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


def render_state(state: NamespaceState) -> dict[str, Any]:
    """The wire form of a namespace at one revision."""
    return {"revision": state.revision, "configs": [render_config(c) for c in state.configs]}


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
