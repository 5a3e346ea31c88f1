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

from modelplane.client import Client, ConfigCandidate, Llm, ModelGroup, PromptTemplate
from modelplane.stack.export_principals import export_principals
from modelplane.stack.plan_candidates import open_candidate
from modelplane.stack.plan_prompts import SYSTEM
from modelplane.stack.spec import API_VERSION, StackError

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


def _llms(client: Client, names: _Names) -> list[dict[str, Any]]:
    entries = []
    for llm in sorted(client.llms.list(), key=lambda x: (x.display_name, x.llm_id)):
        wire = llm.model_dump(mode="json", by_alias=True)
        entry = _present({k: wire.get(k) for k in _LLM_FIELDS})
        outline = client.llms.credentials(llm.llm_id) if llm.has_credentials else None
        if outline is not None:
            entry["credentials"] = _credentials(outline, llm, names)
        entries.append(entry)
    return entries


def _group(client: Client, group: ModelGroup, names: _Names) -> dict[str, Any]:
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
        "name": group.name,
        "description": group.description,
        "refScope": group.ref_scope,
        "defaultModel": group.default_model,
    }
    return {**_present(head), "providers": providers}


def _groups(client: Client, names: _Names) -> list[dict[str, Any]]:
    groups = sorted(client.model_groups.iter(), key=lambda g: (g.name, g.model_template_id))
    seen: set[str] = set()
    for group in groups:
        if group.name in seen:
            raise StackError(
                f"two model groups are named {group.name!r}; a stack finds groups by name, "
                "so rename one before exporting"
            )
        seen.add(group.name)
    return [_group(client, g, names) for g in groups]


def _template(template: PromptTemplate) -> dict[str, Any]:
    """A template's current version as a stack declares it, with the labels on it."""
    entry: dict[str, Any] = {"name": template.name}
    if template.messages is None:
        entry["content"] = template.content
    else:
        entry["messages"] = [{"role": m.role, "content": m.content} for m in template.messages]
    if template.config is not None:
        entry["config"] = template.config
    labels = sorted(set(template.labels) - {"latest"})
    if labels:
        entry["labels"] = labels
    return entry


def _workspaces(client: Client) -> list[dict[str, Any]]:
    entries = []
    for workspace in sorted(client.workspaces.list(), key=lambda w: w.workspace_id):
        found = [t for t in client.prompts.iter(workspace.workspace_id) if t.type != SYSTEM]
        templates = [_template(t) for t in found]
        templates.sort(key=lambda t: t["name"])
        entries.append(
            {
                "workspaceId": workspace.workspace_id,
                "name": workspace.name,
                "promptTemplates": templates,
            }
        )
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


def _configs(client: Client) -> list[dict[str, Any]]:
    entries = []
    for namespace in client.configs.namespaces():
        configs = client.configs.get_namespace(namespace.cluster, namespace.name).configs
        gray = open_candidate(client, namespace.cluster, namespace.name)
        if configs or gray is not None:
            entry: dict[str, Any] = {
                "cluster": namespace.cluster,
                "service": namespace.name,
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
    document = {
        "apiVersion": API_VERSION,
        "llms": _llms(client, names),
        "modelGroups": _groups(client, names),
        "workspaces": _workspaces(client),
        "configs": _configs(client),
    }
    principals = export_principals(client, notes)
    if principals is not None:
        document["principals"] = principals
    return Exported(document, names.taken, notes)
