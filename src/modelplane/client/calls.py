"""Each API operation as a `Call`: the request to send and how to read the answer.

Calls do no I/O; the sync and async resource groups both send them, so every path,
parameter name and body is written once, here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic.alias_generators import to_camel

from modelplane.client.models import (
    AccessKey,
    ApiKey,
    AuditEventPage,
    BatchResult,
    BoundRuntimePage,
    Config,
    ConfigCandidate,
    ConfigChange,
    ConfigListener,
    ConfigNamespace,
    ConfigNamespaceChanges,
    CreatedLlm,
    IssuedAccessKey,
    IssuedApiKey,
    LabelHistoryPage,
    Llm,
    LlmTemplate,
    LlmTemplatePage,
    ModelGroup,
    ModelGroupPage,
    MovedLabel,
    NamespaceSummary,
    Principal,
    PromptLabel,
    PromptTemplate,
    PromptTemplatePage,
    ProviderTemplate,
    ProviderTemplatePage,
    Rendered,
    RuntimeBindings,
    RuntimeModelConfig,
    TemplateDiff,
    UsageRecordPage,
    UsageReport,
    Workspace,
    WorkspaceMember,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the parser of its JSON answer.

    `wait_seconds` is how long the server may hold the request (long-polls); it is added
    to the client's read timeout.
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Mapping[str, Any] | None = None
    wait_seconds: float = 0.0


def seg(value: str) -> str:
    """One path segment, percent-encoded (a `/` inside becomes `%2F`); never empty."""
    if not value:
        raise ValueError("an id or name in the path must not be empty")
    return quote(value, safe="")


def given(**fields: Any) -> dict[str, Any]:
    """The fields that are not None (what the API should see)."""
    return {k: v for k, v in fields.items() if v is not None}


def _none(_: Any) -> None:
    return None


# --- /v1/llms -------------------------------------------------------------------------------


def list_llms(
    owner_id: str | None, provider_type: str | None, labels: Mapping[str, str] | None
) -> Call[list[Llm]]:
    """`GET /v1/llms`; labels become `label.k=v` filters."""
    params = given(ownerId=owner_id, providerType=provider_type)
    params.update({f"label.{k}": v for k, v in (labels or {}).items()})
    return Call(
        "GET", "/v1/llms", lambda d: [Llm.model_validate(x) for x in d["llms"]], params=params
    )


def get_llm(llm_id: str) -> Call[Llm]:
    """`GET /v1/llms/{id}`."""
    return Call("GET", f"/v1/llms/{seg(llm_id)}", Llm.model_validate)


def create_llm(body: Mapping[str, Any]) -> Call[CreatedLlm]:
    """`POST /v1/llms`."""
    return Call("POST", "/v1/llms", CreatedLlm.model_validate, json=body)


def update_llm(llm_id: str, body: Mapping[str, Any]) -> Call[Llm]:
    """`PUT /v1/llms/{id}`: only the fields in `body` change."""
    return Call("PUT", f"/v1/llms/{seg(llm_id)}", Llm.model_validate, json=body)


def delete_llm(llm_id: str) -> Call[None]:
    """`DELETE /v1/llms/{id}`."""
    return Call("DELETE", f"/v1/llms/{seg(llm_id)}", _none)


# --- /v1/model-groups -----------------------------------------------------------------------


def list_model_groups(params: Mapping[str, Any]) -> Call[ModelGroupPage]:
    """`GET /v1/model-groups` with filters and `pageNumber`/`pageSize`."""
    return Call("GET", "/v1/model-groups", ModelGroupPage.model_validate, params=params)


def model_group_filters(
    ids: Sequence[str] | None, name: str | None, ref_scope: str | None, has_model: bool | None
) -> dict[str, Any]:
    """The list filters as query parameters."""
    return given(
        ids=",".join(ids) if ids else None,
        name=name,
        refScope=ref_scope,
        hasModel=None if has_model is None else str(has_model).lower(),
    )


def get_model_group(group_id: str) -> Call[ModelGroup]:
    """`GET /v1/model-groups/{id}`."""
    return Call("GET", f"/v1/model-groups/{seg(group_id)}", ModelGroup.model_validate)


def create_model_group(body: Mapping[str, Any]) -> Call[ModelGroup]:
    """`POST /v1/model-groups`."""
    return Call("POST", "/v1/model-groups", ModelGroup.model_validate, json=body)


def update_model_group(group_id: str, body: Mapping[str, Any]) -> Call[ModelGroup]:
    """`PATCH /v1/model-groups/{id}`."""
    return Call("PATCH", f"/v1/model-groups/{seg(group_id)}", ModelGroup.model_validate, json=body)


def delete_model_group(group_id: str) -> Call[None]:
    """`DELETE /v1/model-groups/{id}` (with its providers, templates and bindings)."""
    return Call("DELETE", f"/v1/model-groups/{seg(group_id)}", _none)


def bind_runtimes(group_id: str, body: Mapping[str, Any]) -> Call[RuntimeBindings]:
    """`POST /v1/model-groups/{id}/runtimes` (`runtimeIds`, `runtimeType`)."""
    path = f"/v1/model-groups/{seg(group_id)}/runtimes"
    return Call("POST", path, RuntimeBindings.model_validate, json=body)


def list_bound_runtimes(group_id: str, params: Mapping[str, Any]) -> Call[BoundRuntimePage]:
    """`GET /v1/model-groups/{id}/runtimes` with `pageNumber`/`pageSize`."""
    path = f"/v1/model-groups/{seg(group_id)}/runtimes"
    return Call("GET", path, BoundRuntimePage.model_validate, params=params)


def unbind_runtimes(group_id: str, body: Mapping[str, Any]) -> Call[RuntimeBindings]:
    """`POST /v1/model-groups/{id}/runtimes:remove` (`runtimeIds`, `runtimeType`)."""
    path = f"/v1/model-groups/{seg(group_id)}/runtimes:remove"
    return Call("POST", path, RuntimeBindings.model_validate, json=body)


def runtime_model_config(
    runtime_type: str, runtime_id: str, gateway: bool
) -> Call[RuntimeModelConfig]:
    """`GET /v1/runtimes/{type}/{id}/model-config` (`gateway=true` when asked)."""
    path = f"/v1/runtimes/{seg(runtime_type)}/{seg(runtime_id)}/model-config"
    params = {"gateway": "true"} if gateway else None
    return Call("GET", path, RuntimeModelConfig.model_validate, params=params)


# --- /v1/workspaces/{ws}/prompt-templates ---------------------------------------------------


def _templates(workspace_id: str) -> str:
    return f"/v1/workspaces/{seg(workspace_id)}/prompt-templates"


def _template(workspace_id: str, template_id: str) -> str:
    return f"{_templates(workspace_id)}/{seg(template_id)}"


def list_prompt_templates(
    workspace_id: str,
    name: str | None,
    template_type: str | None,
    max_results: int | None,
    next_token: str | None,
) -> Call[PromptTemplatePage]:
    """`GET …/prompt-templates`, paged by `maxResults`/`nextToken`."""
    params = given(name=name, type=template_type, maxResults=max_results, nextToken=next_token)
    return Call("GET", _templates(workspace_id), PromptTemplatePage.model_validate, params=params)


def get_prompt_template(
    workspace_id: str, template_id: str, version: int | None, label: str | None
) -> Call[PromptTemplate]:
    """`GET …/prompt-templates/{id}`, current, at `version` or at `label`."""
    return Call(
        "GET",
        _template(workspace_id, template_id),
        PromptTemplate.model_validate,
        params=given(version=version, label=label),
    )


def _messages(messages: Sequence[Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    return None if messages is None else [dict(m) for m in messages]


def create_prompt_template(
    workspace_id: str,
    name: str,
    content: str | None,
    owner_id: str | None,
    messages: Sequence[Mapping[str, str]] | None = None,
    config: Mapping[str, Any] | None = None,
    template_id: str | None = None,
) -> Call[PromptTemplate]:
    """`POST …/prompt-templates`; `ownerId` names the workspace's owner."""
    body = given(
        name=name,
        content=content,
        messages=_messages(messages),
        config=dict(config) if config is not None else None,
        promptTemplateId=template_id,
    )
    return Call(
        "POST",
        _templates(workspace_id),
        PromptTemplate.model_validate,
        params=given(ownerId=owner_id),
        json=body,
    )


def update_prompt_template(
    workspace_id: str,
    template_id: str,
    name: str | None,
    content: str | None,
    owner_id: str | None,
    messages: Sequence[Mapping[str, str]] | None = None,
    config: Mapping[str, Any] | None = None,
) -> Call[PromptTemplate]:
    """`PATCH …/prompt-templates/{id}`: a new version with the fields given."""
    body = given(
        name=name,
        content=content,
        messages=_messages(messages),
        config=dict(config) if config is not None else None,
    )
    return Call(
        "PATCH",
        _template(workspace_id, template_id),
        PromptTemplate.model_validate,
        params=given(ownerId=owner_id),
        json=body,
    )


def delete_prompt_template(workspace_id: str, template_id: str, owner_id: str | None) -> Call[None]:
    """`DELETE …/prompt-templates/{id}` with all its versions."""
    return Call(
        "DELETE", _template(workspace_id, template_id), _none, params=given(ownerId=owner_id)
    )


def list_versions(workspace_id: str, template_id: str) -> Call[list[PromptTemplate]]:
    """`GET …/prompt-templates/{id}/versions`, oldest first."""
    return Call(
        "GET",
        f"{_template(workspace_id, template_id)}/versions",
        lambda d: [PromptTemplate.model_validate(x) for x in d["versions"]],
    )


def render_prompt_template(
    workspace_id: str,
    template_id: str,
    variables: Mapping[str, str] | None,
    allow_partial: bool,
    version: int | None,
    label: str | None,
) -> Call[Rendered]:
    """`POST …/prompt-templates/{id}:render`."""
    body = given(
        variables=dict(variables or {}), allowPartial=allow_partial, version=version, label=label
    )
    return Call(
        "POST", f"{_template(workspace_id, template_id)}:render", Rendered.model_validate, json=body
    )


def diff_prompt_template(
    workspace_id: str, template_id: str, old: str | int, new: str | int
) -> Call[TemplateDiff]:
    """`GET …/prompt-templates/{id}/diff?from=…&to=…` (a version or a label each)."""
    return Call(
        "GET",
        f"{_template(workspace_id, template_id)}/diff",
        TemplateDiff.model_validate,
        params={"from": str(old), "to": str(new)},
    )


def watch_prompt_template(
    workspace_id: str,
    template_id: str,
    held_version: int,
    label: str | None,
    timeout_seconds: float,
) -> Call[PromptTemplate | None]:
    """`GET …/prompt-templates/{id}/watch` (long-poll): the template once `label` (or the
    current version) points at another version than `held_version`; None in time."""

    def parse(data: Any) -> PromptTemplate | None:
        if not data.get("changed"):
            return None
        return PromptTemplate.model_validate(data["template"])

    return Call(
        "GET",
        f"{_template(workspace_id, template_id)}/watch",
        parse,
        params=given(version=held_version, label=label, timeoutSeconds=timeout_seconds),
        wait_seconds=timeout_seconds,
    )


def list_labels(workspace_id: str, template_id: str) -> Call[list[PromptLabel]]:
    """`GET …/prompt-templates/{id}/labels`, by name."""
    return Call(
        "GET",
        f"{_template(workspace_id, template_id)}/labels",
        lambda d: [PromptLabel.model_validate(x) for x in d["labels"]],
    )


def set_label(
    workspace_id: str, template_id: str, label: str, version: int, owner_id: str | None
) -> Call[MovedLabel]:
    """`PUT …/prompt-templates/{id}/labels/{label}`: point it at `version`."""
    return Call(
        "PUT",
        f"{_template(workspace_id, template_id)}/labels/{seg(label)}",
        MovedLabel.model_validate,
        params=given(ownerId=owner_id),
        json={"version": version},
    )


def remove_label(
    workspace_id: str, template_id: str, label: str, owner_id: str | None
) -> Call[MovedLabel]:
    """`DELETE …/prompt-templates/{id}/labels/{label}`."""
    return Call(
        "DELETE",
        f"{_template(workspace_id, template_id)}/labels/{seg(label)}",
        MovedLabel.model_validate,
        params=given(ownerId=owner_id),
    )


def label_history(
    workspace_id: str, template_id: str, max_results: int | None, next_token: str | None
) -> Call[LabelHistoryPage]:
    """`GET …/prompt-templates/{id}/label-history`, newest first."""
    return Call(
        "GET",
        f"{_template(workspace_id, template_id)}/label-history",
        LabelHistoryPage.model_validate,
        params=given(maxResults=max_results, nextToken=next_token),
    )


# --- /v1/configs/{cluster}/service/{name} ---------------------------------------------------


def _namespace(cluster: str, service: str) -> str:
    return f"/v1/configs/{seg(cluster)}/service/{seg(service)}"


def get_namespace(
    cluster: str, service: str, client_label: str | None = None
) -> Call[ConfigNamespace]:
    """`GET /v1/configs/{cluster}/service/{name}`: every parameter at one revision (as a
    client with `client_label` sees them: with the gray release it is served)."""
    return Call(
        "GET",
        _namespace(cluster, service),
        ConfigNamespace.model_validate,
        params=given(clientLabel=client_label),
    )


def get_config(
    cluster: str, service: str, key: str, client_label: str | None = None
) -> Call[Config]:
    """`GET …/{key}` (as a client with `client_label` sees it)."""
    return Call(
        "GET",
        f"{_namespace(cluster, service)}/{seg(key)}",
        Config.model_validate,
        params=given(clientLabel=client_label),
    )


def _candidate_items(
    values: Mapping[str, str], delete: Sequence[str], formats: Mapping[str, str]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        given(key=key, value=value, format=formats.get(key)) for key, value in values.items()
    ]
    return items + [{"key": key, "op": "delete"} for key in delete]


def put_candidate(
    cluster: str,
    service: str,
    values: Mapping[str, str],
    delete: Sequence[str],
    formats: Mapping[str, str],
    labels: Sequence[str],
    if_version: int | None,
    owner_id: str | None,
) -> Call[ConfigCandidate]:
    """`PUT …:candidate`: open the gray release, or replace the open one."""
    return Call(
        "PUT",
        f"{_namespace(cluster, service)}:candidate",
        ConfigCandidate.model_validate,
        params=given(ownerId=owner_id),
        json=given(
            items=_candidate_items(values, delete, formats),
            labels=list(labels),
            ifVersion=if_version,
        ),
    )


def get_candidate(cluster: str, service: str) -> Call[ConfigCandidate]:
    """`GET …:candidate`."""
    return Call("GET", f"{_namespace(cluster, service)}:candidate", ConfigCandidate.model_validate)


def drop_candidate(
    cluster: str, service: str, version: int | None, owner_id: str | None
) -> Call[ConfigCandidate]:
    """`DELETE …:candidate`: the gray release closed, nothing changed."""
    return Call(
        "DELETE",
        f"{_namespace(cluster, service)}:candidate",
        ConfigCandidate.model_validate,
        params=given(version=version, ownerId=owner_id),
    )


def promote_candidate(
    cluster: str, service: str, version: int | None, owner_id: str | None
) -> Call[ConfigNamespaceChanges]:
    """`POST …:promote`: the gray release applied for everyone as one revision."""
    return Call(
        "POST",
        f"{_namespace(cluster, service)}:promote",
        ConfigNamespaceChanges.model_validate,
        params=given(version=version, ownerId=owner_id),
    )


def config_listeners(cluster: str, service: str) -> Call[list[ConfigListener]]:
    """`GET …:listeners`: who watches the service now."""
    return Call(
        "GET",
        f"{_namespace(cluster, service)}:listeners",
        lambda d: [ConfigListener.model_validate(x) for x in d["listeners"]],
    )


def put_config(
    cluster: str,
    service: str,
    key: str,
    value: str,
    owner_id: str | None,
    format: str | None = None,
) -> Call[Config]:
    """`PUT …/{key}`: creates or updates; `ownerId` names the namespace's owner."""
    return Call(
        "PUT",
        f"{_namespace(cluster, service)}/{seg(key)}",
        Config.model_validate,
        params=given(ownerId=owner_id),
        json=given(value=value, format=format),
    )


def config_batch(
    cluster: str,
    service: str,
    values: Mapping[str, str],
    delete: Sequence[str],
    formats: Mapping[str, str],
    owner_id: str | None,
) -> Call[ConfigNamespaceChanges]:
    """`POST …:batch`: the `values` set (in their `formats`), then the keys of `delete`
    deleted, as one revision; an error names an item by its place in that order."""
    items: list[dict[str, Any]] = [
        given(key=key, value=value, format=formats.get(key)) for key, value in values.items()
    ]
    items += [{"key": key, "op": "delete"} for key in delete]
    return Call(
        "POST",
        f"{_namespace(cluster, service)}:batch",
        ConfigNamespaceChanges.model_validate,
        params=given(ownerId=owner_id),
        json={"items": items},
    )


def revert_namespace(
    cluster: str, service: str, revision: int, owner_id: str | None
) -> Call[ConfigNamespaceChanges]:
    """`POST …:revert`: the parameters of `revision` again, as one new revision."""
    return Call(
        "POST",
        f"{_namespace(cluster, service)}:revert",
        ConfigNamespaceChanges.model_validate,
        params=given(ownerId=owner_id),
        json={"revision": revision},
    )


def delete_config(cluster: str, service: str, key: str, owner_id: str | None) -> Call[None]:
    """`DELETE …/{key}`."""
    return Call(
        "DELETE",
        f"{_namespace(cluster, service)}/{seg(key)}",
        _none,
        params=given(ownerId=owner_id),
    )


def config_history(
    cluster: str, service: str, key: str | None, limit: int | None
) -> Call[list[ConfigChange]]:
    """`GET …/{key}/history`, or `…:history` for the whole namespace; newest first."""
    base = _namespace(cluster, service)
    path = f"{base}/{seg(key)}/history" if key is not None else f"{base}:history"
    return Call(
        "GET",
        path,
        lambda d: [ConfigChange.model_validate(x) for x in d["changes"]],
        params=given(limit=limit),
    )


def watch_once(
    cluster: str,
    service: str,
    since_revision: int,
    timeout_seconds: float,
    client_label: str | None = None,
    since_candidate: int = 0,
) -> Call[ConfigNamespaceChanges | None]:
    """`GET …:watch` (long-poll): what changed after `since_revision`, or None when nothing
    changed in time."""

    def parse(data: Any) -> ConfigNamespaceChanges | None:
        if not data.get("changed"):
            return None
        return ConfigNamespaceChanges.model_validate(data)

    return Call(
        "GET",
        f"{_namespace(cluster, service)}:watch",
        parse,
        params={
            "sinceRevision": since_revision,
            "timeoutSeconds": timeout_seconds,
            **given(clientLabel=client_label),
            **({"sinceCandidate": since_candidate} if client_label is not None else {}),
        },
        wait_seconds=timeout_seconds,
    )


# --- /v1/llms/{id}/credentials -------------------------------------------------------------


def get_credentials_outline(llm_id: str) -> Call[dict[str, Any] | None]:
    """`GET /v1/llms/{id}/credentials`: the credentials without the inline secret."""

    def parse(data: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = data["credentials"]
        return found

    return Call("GET", f"/v1/llms/{seg(llm_id)}/credentials", parse)


def verify_credentials(llm_id: str, credentials: Mapping[str, Any]) -> Call[bool]:
    """`POST /v1/llms/{id}/credentials:verify`."""
    return Call(
        "POST",
        f"/v1/llms/{seg(llm_id)}/credentials:verify",
        _matches,
        json={"credentials": dict(credentials)},
    )


def _matches(data: Any) -> bool:
    return bool(data["matches"])


# --- /v1/principals -------------------------------------------------------------------------


def _principal(principal_id: str) -> str:
    return f"/v1/principals/{seg(principal_id)}"


def list_principals() -> Call[list[Principal]]:
    """`GET /v1/principals`."""
    return Call(
        "GET", "/v1/principals", lambda d: [Principal.model_validate(x) for x in d["principals"]]
    )


def get_principal(principal_id: str) -> Call[Principal]:
    """`GET /v1/principals/{id}`."""
    return Call("GET", _principal(principal_id), Principal.model_validate)


def create_principal(name: str, role: str) -> Call[Principal]:
    """`POST /v1/principals`."""
    body = {"name": name, "role": role}
    return Call("POST", "/v1/principals", Principal.model_validate, json=body)


def delete_principal(principal_id: str, transfer_to: str | None = None) -> Call[None]:
    """`DELETE /v1/principals/{id}` (with its keys; `?transferTo=` gets what it owns)."""
    params = given(transferTo=transfer_to)
    return Call("DELETE", _principal(principal_id), _none, params=params)


def issue_api_key(
    principal_id: str,
    label: str | None,
    gateway_only: bool = False,
    models: Sequence[str] | None = None,
    expires_at: int | None = None,
) -> Call[IssuedApiKey]:
    """`POST /v1/principals/{id}/api-keys`."""
    body = given(
        label=label,
        gatewayOnly=gateway_only or None,
        models=None if models is None else list(models),
        expiresAt=expires_at,
    )
    path = f"{_principal(principal_id)}/api-keys"
    return Call("POST", path, IssuedApiKey.model_validate, json=body)


def list_api_keys(principal_id: str) -> Call[list[ApiKey]]:
    """`GET /v1/principals/{id}/api-keys`."""
    return Call(
        "GET",
        f"{_principal(principal_id)}/api-keys",
        lambda d: [ApiKey.model_validate(x) for x in d["apiKeys"]],
    )


def revoke_api_key(principal_id: str, api_key_id: str) -> Call[ApiKey]:
    """`DELETE /v1/principals/{id}/api-keys/{keyId}`."""
    path = f"{_principal(principal_id)}/api-keys/{seg(api_key_id)}"
    return Call("DELETE", path, ApiKey.model_validate)


def issue_access_key(principal_id: str, label: str | None) -> Call[IssuedAccessKey]:
    """`POST /v1/principals/{id}/access-keys`."""
    return Call(
        "POST",
        f"{_principal(principal_id)}/access-keys",
        IssuedAccessKey.model_validate,
        json=given(label=label),
    )


def list_access_keys(principal_id: str) -> Call[list[AccessKey]]:
    """`GET /v1/principals/{id}/access-keys`."""
    return Call(
        "GET",
        f"{_principal(principal_id)}/access-keys",
        lambda d: [AccessKey.model_validate(x) for x in d["accessKeys"]],
    )


def revoke_access_key(principal_id: str, access_key_id: str) -> Call[AccessKey]:
    """`DELETE /v1/principals/{id}/access-keys/{keyId}`."""
    path = f"{_principal(principal_id)}/access-keys/{seg(access_key_id)}"
    return Call("DELETE", path, AccessKey.model_validate)


# --- /v1/workspaces -------------------------------------------------------------------------


def _workspace(workspace_id: str) -> str:
    return f"/v1/workspaces/{seg(workspace_id)}"


def list_workspaces() -> Call[list[Workspace]]:
    """`GET /v1/workspaces`."""
    return Call(
        "GET", "/v1/workspaces", lambda d: [Workspace.model_validate(x) for x in d["workspaces"]]
    )


def get_workspace(workspace_id: str) -> Call[Workspace]:
    """`GET /v1/workspaces/{id}`."""
    return Call("GET", _workspace(workspace_id), Workspace.model_validate)


def create_workspace(name: str, workspace_id: str | None, owner_id: str | None) -> Call[Workspace]:
    """`POST /v1/workspaces`."""
    body = given(name=name, workspaceId=workspace_id, ownerId=owner_id)
    return Call("POST", "/v1/workspaces", Workspace.model_validate, json=body)


def rename_workspace(workspace_id: str, name: str) -> Call[Workspace]:
    """`PATCH /v1/workspaces/{id}`."""
    return Call("PATCH", _workspace(workspace_id), Workspace.model_validate, json={"name": name})


def delete_workspace(workspace_id: str) -> Call[None]:
    """`DELETE /v1/workspaces/{id}` (with its templates)."""
    return Call("DELETE", _workspace(workspace_id), _none)


def list_members(workspace_id: str) -> Call[list[WorkspaceMember]]:
    """`GET /v1/workspaces/{id}/members`: the members with their roles."""
    return Call(
        "GET",
        f"{_workspace(workspace_id)}/members",
        lambda d: [WorkspaceMember.model_validate(m) for m in d["members"]],
    )


def add_member(workspace_id: str, principal_id: str, role: str) -> Call[WorkspaceMember]:
    """`PUT /v1/workspaces/{id}/members/{principalId}` with the role to hold."""
    return Call(
        "PUT",
        f"{_workspace(workspace_id)}/members/{seg(principal_id)}",
        WorkspaceMember.model_validate,
        json={"role": role},
    )


def remove_member(workspace_id: str, principal_id: str) -> Call[None]:
    """`DELETE /v1/workspaces/{id}/members/{principalId}`."""
    return Call("DELETE", f"{_workspace(workspace_id)}/members/{seg(principal_id)}", _none)


# --- /v1/provider-templates and /v1/llm-templates -------------------------------------------


def _provider(provider_id: str) -> str:
    return f"/v1/provider-templates/{seg(provider_id)}"


def list_provider_templates(params: Mapping[str, Any]) -> Call[ProviderTemplatePage]:
    """`GET /v1/provider-templates` with filters and `pageNumber`/`pageSize`."""
    return Call("GET", "/v1/provider-templates", ProviderTemplatePage.model_validate, params=params)


def get_provider_template(provider_id: str) -> Call[ProviderTemplate]:
    """`GET /v1/provider-templates/{id}`."""
    return Call("GET", _provider(provider_id), ProviderTemplate.model_validate)


def create_provider_template(body: Mapping[str, Any]) -> Call[ProviderTemplate]:
    """`POST /v1/provider-templates`."""
    return Call("POST", "/v1/provider-templates", ProviderTemplate.model_validate, json=body)


def update_provider_template(provider_id: str, body: Mapping[str, Any]) -> Call[ProviderTemplate]:
    """`PATCH /v1/provider-templates/{id}`."""
    return Call("PATCH", _provider(provider_id), ProviderTemplate.model_validate, json=body)


def delete_provider_template(provider_id: str) -> Call[None]:
    """`DELETE /v1/provider-templates/{id}` (with its LLM templates)."""
    return Call("DELETE", _provider(provider_id), _none)


def verify_provider_api_key(provider_id: str, api_key: str) -> Call[bool]:
    """`POST /v1/provider-templates/{id}:verifyApiKey`."""
    return Call(
        "POST", f"{_provider(provider_id)}:verifyApiKey", _matches, json={"apiKey": api_key}
    )


def list_llm_templates(params: Mapping[str, Any]) -> Call[LlmTemplatePage]:
    """`GET /v1/llm-templates` with filters and `pageNumber`/`pageSize`."""
    return Call("GET", "/v1/llm-templates", LlmTemplatePage.model_validate, params=params)


def get_llm_template(llm_template_id: str) -> Call[LlmTemplate]:
    """`GET /v1/llm-templates/{id}`."""
    path = f"/v1/llm-templates/{seg(llm_template_id)}"
    return Call("GET", path, LlmTemplate.model_validate)


def batch_create_llm_templates(body: Mapping[str, Any]) -> Call[BatchResult]:
    """`POST /v1/llm-templates:batchCreate`."""
    return Call("POST", "/v1/llm-templates:batchCreate", BatchResult.model_validate, json=body)


def update_llm_template(llm_template_id: str, body: Mapping[str, Any]) -> Call[LlmTemplate]:
    """`PATCH /v1/llm-templates/{id}`."""
    path = f"/v1/llm-templates/{seg(llm_template_id)}"
    return Call("PATCH", path, LlmTemplate.model_validate, json=body)


def delete_llm_template(llm_template_id: str) -> Call[None]:
    """`DELETE /v1/llm-templates/{id}`."""
    return Call("DELETE", f"/v1/llm-templates/{seg(llm_template_id)}", _none)


# --- /v1/audit-events -----------------------------------------------------------------------


def list_audit_events(
    *,
    principal_id: str | None,
    resource_type: str | None,
    resource_id: str | None,
    since: int | None,
    until: int | None,
    page_size: int | None,
    page_token: str | None,
    action: str | None = None,
    face: str | None = None,
) -> Call[AuditEventPage]:
    """`GET /v1/audit-events`, newest first, paged by `pageSize`/`pageToken`."""
    params = given(
        principalId=principal_id,
        resourceType=resource_type,
        resourceId=resource_id,
        action=action,
        face=face,
        since=since,
        until=until,
        pageSize=page_size,
        pageToken=page_token,
    )
    return Call("GET", "/v1/audit-events", AuditEventPage.model_validate, params=params)


# --- /v1/usage ------------------------------------------------------------------------------


def usage_report(
    *,
    group_by: Sequence[str],
    from_day: str | None,
    to_day: str | None,
    principal_id: str | None,
    api_key_id: str | None,
    model: str | None,
    status: str | None,
    page_size: int | None,
    page_token: str | None,
) -> Call[UsageReport]:
    """`GET /v1/usage`: usage summed per group, paged by `pageSize`/`pageToken`."""
    params = given(
        groupBy=",".join(group_by) or None,
        to=to_day,
        principalId=principal_id,
        apiKeyId=api_key_id,
        model=model,
        status=status,
        pageSize=page_size,
        pageToken=page_token,
        **{"from": from_day},
    )
    return Call("GET", "/v1/usage", UsageReport.model_validate, params=params)


def usage_records(
    *,
    since: int | None,
    until: int | None,
    principal_id: str | None,
    api_key_id: str | None,
    model: str | None,
    status: str | None,
    page_size: int | None,
    page_token: str | None,
) -> Call[UsageRecordPage]:
    """`GET /v1/usage/records`, newest first, paged by `pageSize`/`pageToken`."""
    params = given(
        since=since,
        until=until,
        principalId=principal_id,
        apiKeyId=api_key_id,
        model=model,
        status=status,
        pageSize=page_size,
        pageToken=page_token,
    )
    return Call("GET", "/v1/usage/records", UsageRecordPage.model_validate, params=params)


# --- /v1/configs ----------------------------------------------------------------------------


def list_namespaces() -> Call[list[NamespaceSummary]]:
    """`GET /v1/configs`: the namespaces that were written to."""
    return Call(
        "GET",
        "/v1/configs",
        lambda d: [NamespaceSummary.model_validate(x) for x in d["namespaces"]],
    )


def wire_body(extra: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A request body: the fields given (not None) in camelCase, then `extra` as written."""
    body = {to_camel(k): v for k, v in fields.items() if v is not None}
    body.update(extra or {})
    return body
