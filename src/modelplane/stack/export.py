"""Writing a running instance as a stack document, secrets as `env://NAME` references.

Inline secrets cannot be read back (they are write-only), so each becomes a reference to
a variable named after its resource, e.g. `MODELPLANE_LLM_GPT_4O_API_KEY`; `secretRef`
references are kept as they are. `variables` lists what must be set to apply the result;
`notes` what was left out and why (API keys a stack cannot find again, for example).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from modelplane.client import (
    Client,
    ConfigCandidate,
    Llm,
    ModelGroup,
    PermissionDenied,
    PromptTemplate,
)
from modelplane.stack.export_principals import export_principals
from modelplane.stack.plan_candidates import open_candidate
from modelplane.stack.plan_catalog import without_pointer
from modelplane.stack.plan_prompts import SYSTEM
from modelplane.stack.spec import API_VERSION, LATEST, RUNTIME_TYPE_DEFAULT

_LLM_FIELDS = (
    "llmId",
    "displayName",
    "modelIdentifier",
    "providerType",
    "endpointUrl",
    "apiPath",
    "description",
    "labels",
    "supportedModalities",
    "version",
    "monitoringEndpoint",
    "capabilities",
    "defaultSamplingParams",
    "maxContextLength",
    "clientConfig",
    "dashscopeApiDialect",
)


@dataclass
class Exported:
    """A stack document, the environment variables its secrets refer to, and notes on what
    it leaves out."""

    document: dict[str, Any]
    variables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Names:
    """Unique variable names derived from resource names."""

    def __init__(self) -> None:
        self.taken: list[str] = []

    def new(self, *parts: str) -> str:
        slug = "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts)
        name = f"MODELPLANE_{slug}_API_KEY"
        candidate, n = name, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{name}_{n}"
        self.taken.append(candidate)
        return candidate


def _present(data: dict[str, Any]) -> dict[str, Any]:
    """Without None values and empty mappings."""
    return {k: v for k, v in data.items() if v is not None and v != {}}


def _credentials(outline: dict[str, Any], llm: Llm, names: _Names) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": outline["kind"]}
    key = outline.get("apiKey")
    if key:
        api_key: dict[str, Any] = {}
        if key.get("hasInlineSecret"):
            api_key["secret"] = "env://" + names.new("LLM", llm.display_name)
        elif key.get("secretRef"):
            api_key["secretRef"] = key["secretRef"]["uri"]
        api_key.update(_present({"headerName": key.get("headerName"), "prefix": key.get("prefix")}))
        out["apiKey"] = api_key
    return {**out, **_present({"gcpAdc": outline.get("gcpAdc"), "labels": outline.get("labels")})}


class _Owners:
    """Principals' names by id (empty when the token may not list principals: then owners
    are left out, and the principal applying owns what it creates)."""

    def __init__(self, client: Client) -> None:
        try:
            self.names = {p.principal_id: p.name for p in client.principals.list()}
        except PermissionDenied:
            self.names = {}

    def of(self, owner_id: str) -> dict[str, str]:
        """`{"owner": name}`, or nothing when it cannot be named."""
        name = self.names.get(owner_id)
        return {} if name is None else {"owner": name}


def _llms(client: Client, names: _Names, owners: _Owners) -> list[dict[str, Any]]:
    entries = []
    for llm in sorted(client.llms.list(), key=lambda x: (x.display_name, x.llm_id)):
        wire = llm.model_dump(mode="json", by_alias=True)
        entry = _present({k: wire.get(k) for k in _LLM_FIELDS})
        entry.update(owners.of(llm.owner_id))
        outline = client.llms.credentials(llm.llm_id) if llm.has_credentials else None
        if outline is not None:
            entry["credentials"] = _credentials(outline, llm, names)
        entries.append(entry)
    return entries


def _group(client: Client, group: ModelGroup, names: _Names, owners: _Owners) -> dict[str, Any]:
    gid = group.model_template_id
    models = list(client.llm_templates.iter(model_template_id=gid))
    providers = []
    for provider in client.provider_templates.iter(model_template_id=gid):
        entry = _present(
            {
                "providerName": provider.provider_name,
                "name": provider.name,
                "providerType": provider.provider_type,
                "description": provider.description,
                "enableWuyingProxy": provider.enable_wuying_proxy or None,
                "baseUrl": provider.config.base_url,
                "api": provider.config.api,
            }
        )
        if provider.has_api_key:
            entry["apiKey"] = "env://" + names.new("PROVIDER", group.name, provider.provider_name)
        entry["models"] = [
            _present(
                {
                    "llmCode": m.llm_code,
                    "name": m.name,
                    "description": m.description,
                    "config": m.config,
                }
            )
            for m in models
            if m.provider_template_id == provider.provider_template_id
        ]
        providers.append(entry)
    head = {
        "modelTemplateId": gid,
        "name": group.name,
        **owners.of(group.owner_id),
        "description": group.description,
        "refScope": group.ref_scope,
        "agentPlatform": group.agent_platform,
        "agentProvider": group.agent_provider,
        "bizType": group.biz_type,
        "config": without_pointer(group.config),
        "defaultModel": group.default_model,
    }
    entry = {**_present(head), "providers": providers}
    runtimes = [
        {"runtimeId": r.runtime_id}
        | ({} if r.runtime_type == RUNTIME_TYPE_DEFAULT else {"runtimeType": r.runtime_type})
        for r in client.model_groups.iter_runtimes(gid)
    ]
    if runtimes:
        entry["runtimes"] = runtimes
    return entry


def _groups(client: Client, names: _Names, owners: _Owners) -> list[dict[str, Any]]:
    groups = sorted(client.model_groups.iter(), key=lambda g: (g.name, g.model_template_id))
    return [_group(client, g, names, owners) for g in groups]


def _version(template: PromptTemplate) -> dict[str, Any]:
    """A version's body as a stack declares it, with the labels on it."""
    entry: dict[str, Any] = {}
    if template.messages is None:
        entry["content"] = template.content
    else:
        entry["messages"] = [{"role": m.role, "content": m.content} for m in template.messages]
    if template.config is not None:
        entry["config"] = template.config
    labels = sorted(set(template.labels) - {LATEST})
    if labels:
        entry["labels"] = labels
    return entry


def _template(client: Client, template: PromptTemplate) -> dict[str, Any]:
    """A template: its id, its current version and its earlier ones (`history`)."""
    entry: dict[str, Any] = {"promptTemplateId": template.prompt_template_id, "name": template.name}
    entry.update(_version(template))
    if template.version > 1:
        versions = client.prompts.versions(template.workspace_id, template.prompt_template_id)
        history = []
        for version in versions[:-1]:
            earlier = _version(version)
            if version.name != template.name:
                earlier = {"name": version.name, **earlier}
            history.append(earlier)
        entry["history"] = history
    return entry


def _workspaces(client: Client, owners: _Owners) -> list[dict[str, Any]]:
    entries = []
    for workspace in sorted(client.workspaces.list(), key=lambda w: w.workspace_id):
        ws = workspace.workspace_id
        found = [t for t in client.prompts.iter(ws) if t.type != SYSTEM]
        templates = [_template(client, t) for t in found]
        templates.sort(key=lambda t: (t["name"], t["promptTemplateId"]))
        entry: dict[str, Any] = {
            "workspaceId": ws,
            "name": workspace.name,
            **owners.of(workspace.owner_id),
        }
        if owners.names:
            members = [
                {"principal": owners.names[m.principal_id], "role": m.role}
                for m in client.workspaces.members(ws)
                if m.principal_id in owners.names
            ]
            if members:
                entry["members"] = sorted(members, key=lambda m: m["principal"])
        entries.append({**entry, "promptTemplates": templates})
    return entries


def _candidate(
    candidate: ConfigCandidate, formats: dict[str, str], present: set[str]
) -> dict[str, Any] | None:
    """An open gray release as a stack declares it; a set key's format only where it is
    not the one applying the entry gives it (the parameter's own, else `text`). A delete of
    a key the service no longer has is left out (it changes nothing, and applying it to
    another instance would be refused); None when nothing is left to declare."""
    sets = sorted((item for item in candidate.items if item.op == "set"), key=lambda i: i.key)
    entry: dict[str, Any] = {"labels": sorted(candidate.labels)}
    if sets:
        entry["values"] = {item.key: item.value for item in sets}
    own = {i.key: i.format for i in sets if i.format != formats.get(i.key, "text")}
    if own:
        entry["formats"] = own
    deleted = sorted(i.key for i in candidate.items if i.op == "delete" and i.key in present)
    if deleted:
        entry["delete"] = deleted
    return entry if sets or deleted else None


def _configs(client: Client, owners: _Owners) -> list[dict[str, Any]]:
    entries = []
    for namespace in client.configs.namespaces():
        configs = client.configs.get_namespace(namespace.cluster, namespace.name).configs
        gray = open_candidate(client, namespace.cluster, namespace.name)
        if configs or gray is not None:
            entry: dict[str, Any] = {
                "cluster": namespace.cluster,
                "service": namespace.name,
                **owners.of(namespace.owner_id),
                "values": {c.key: c.value for c in configs},
            }
            formats = {c.key: c.format for c in configs if c.format != "text"}
            if formats:
                entry["formats"] = formats
            declared = None if gray is None else _candidate(gray, formats, {c.key for c in configs})
            if declared is not None:
                entry["candidate"] = declared
            if configs or declared is not None:
                entries.append(entry)
    return entries


def export_stack(client: Client) -> Exported:
    """Everything the client's principal can read, as a stack document."""
    names = _Names()
    notes: list[str] = []
    owners = _Owners(client)
    document = {
        "apiVersion": API_VERSION,
        "llms": _llms(client, names, owners),
        "modelGroups": _groups(client, names, owners),
        "workspaces": _workspaces(client, owners),
        "configs": _configs(client, owners),
    }
    principals = export_principals(client, notes)
    if principals is not None:
        document["principals"] = principals
    return Exported(document, names.taken, notes)
