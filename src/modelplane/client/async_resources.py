"""The resource groups of `AsyncClient` (`client.llms`, `client.model_groups`, …): one class
each, whose methods make a `calls.Call` and send it."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from modelplane.client import async_all_pages, calls
from modelplane.client.caching import (
    AsyncCachedNamespace,
    AsyncCachedPrompt,
    OnNamespace,
    OnPrompt,
)
from modelplane.client.models import (
    AccessKey,
    ApiKey,
    AuditEvent,
    AuditEventPage,
    BatchResult,
    BoundRuntime,
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
    LabelMove,
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
    UsageGroup,
    UsageRecord,
    UsageRecordPage,
    UsageReport,
    Workspace,
    WorkspaceMember,
)

T = TypeVar("T")


class AsyncSend(Protocol):
    """Sends a call and returns its parsed answer (raises `ModelplaneError`)."""

    async def __call__(self, call: calls.Call[T]) -> T: ...


class AsyncLlms:
    """LLM connections (`/v1/llms`)."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(
        self,
        *,
        owner_id: str | None = None,
        provider_type: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Llm]:
        """The LLMs the caller may read, filtered by owner, provider type and labels."""
        return await self._send(calls.list_llms(owner_id, provider_type, labels))

    async def get(self, llm_id: str) -> Llm:
        """One LLM."""
        return await self._send(calls.get_llm(llm_id))

    async def create(
        self,
        display_name: str,
        model_identifier: str,
        *,
        provider_type: str | None = None,
        endpoint_url: str | None = None,
        api_path: str | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        credentials: Mapping[str, Any] | None = None,
        max_context_length: int | None = None,
        owner_id: str | None = None,
        llm_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CreatedLlm:
        """Create an LLM; `AlreadyExists` when the owner has the same connection.

        `credentials` is the wire object, e.g. `{"kind": "CREDENTIAL_KIND_API_KEY",
        "apiKey": {"inlineSecret": "sk-…"}}`; `extra` holds any other body field in
        camelCase (`capabilities`, `defaultSamplingParams`, …).
        """
        body = calls.wire_body(
            extra,
            display_name=display_name,
            model_identifier=model_identifier,
            provider_type=provider_type,
            endpoint_url=endpoint_url,
            api_path=api_path,
            description=description,
            labels=labels,
            credentials=credentials,
            max_context_length=max_context_length,
            owner_id=owner_id,
            llm_id=llm_id,
        )
        return await self._send(calls.create_llm(body))

    async def update(
        self,
        llm_id: str,
        *,
        display_name: str | None = None,
        model_identifier: str | None = None,
        endpoint_url: str | None = None,
        api_path: str | None = None,
        description: str | None = None,
        replace_labels: Mapping[str, str] | None = None,
        merge_labels: Mapping[str, str] | None = None,
        credentials: Mapping[str, Any] | None = None,
        max_context_length: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Llm:
        """Change the fields given (not None); the provider type cannot change."""
        body = calls.wire_body(
            extra,
            display_name=display_name,
            model_identifier=model_identifier,
            endpoint_url=endpoint_url,
            api_path=api_path,
            description=description,
            replace_labels=replace_labels,
            merge_labels=merge_labels,
            credentials=credentials,
            max_context_length=max_context_length,
        )
        return await self._send(calls.update_llm(llm_id, body))

    async def delete(self, llm_id: str) -> None:
        """Delete an LLM and its stored credentials."""
        await self._send(calls.delete_llm(llm_id))

    async def credentials(self, llm_id: str) -> dict[str, Any] | None:
        """The LLM's credentials without the inline secret (`hasInlineSecret` instead)."""
        return await self._send(calls.get_credentials_outline(llm_id))

    async def verify_credentials(self, llm_id: str, credentials: Mapping[str, Any]) -> bool:
        """Whether `credentials` (the wire object) equal the stored ones; needs update rights."""
        return await self._send(calls.verify_credentials(llm_id, credentials))


class AsyncModelGroups:
    """Model groups of the catalog (`/v1/model-groups`)."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(
        self,
        *,
        ids: Sequence[str] | None = None,
        name: str | None = None,
        ref_scope: str | None = None,
        has_model: bool | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
    ) -> ModelGroupPage:
        """One page of the groups the caller may read, oldest first."""
        params = calls.model_group_filters(ids, name, ref_scope, has_model)
        params.update(calls.given(pageNumber=page_number, pageSize=page_size))
        return await self._send(calls.list_model_groups(params))

    def iter(
        self,
        *,
        page_size: int = 100,
        ids: Sequence[str] | None = None,
        name: str | None = None,
        ref_scope: str | None = None,
        has_model: bool | None = None,
    ) -> AsyncIterator[ModelGroup]:
        """Every matching group, reading page after page (`pageNumber` 1, 2, …)."""
        filters = calls.model_group_filters(ids, name, ref_scope, has_model)

        async def page(number: int) -> ModelGroupPage:
            params = {**filters, "pageNumber": number, "pageSize": page_size}
            return await self._send(calls.list_model_groups(params))

        return async_all_pages.by_number(page)

    async def get(self, group_id: str) -> ModelGroup:
        """One model group."""
        return await self._send(calls.get_model_group(group_id))

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        ref_scope: str | None = None,
        agent_platform: str | None = None,
        agent_provider: str | None = None,
        biz_type: int | None = None,
        model_template_id: str | None = None,
        owner_id: str | None = None,
    ) -> ModelGroup:
        """Create a model group owned by the caller (or by `owner_id`: admins); its id is
        `model_template_id` when given (`AlreadyExists` when taken), else generated."""
        body = calls.wire_body(
            name=name,
            description=description,
            ref_scope=ref_scope,
            agent_platform=agent_platform,
            agent_provider=agent_provider,
            biz_type=biz_type,
            model_template_id=model_template_id,
            owner_id=owner_id,
        )
        return await self._send(calls.create_model_group(body))

    async def update(
        self,
        group_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        ref_scope: str | None = None,
        config: Mapping[str, Any] | None = None,
        default_model: str | None = None,
    ) -> ModelGroup:
        """Change the fields given; `default_model` is `providerName/llmCode`, `""` clears."""
        body = calls.wire_body(
            name=name,
            description=description,
            ref_scope=ref_scope,
            config=config,
            default_model=default_model,
        )
        return await self._send(calls.update_model_group(group_id, body))

    async def delete(self, group_id: str) -> None:
        """Delete a group with its provider templates, LLM templates and bindings."""
        await self._send(calls.delete_model_group(group_id))

    async def bind_runtimes(
        self, group_id: str, runtime_ids: Sequence[str], *, runtime_type: str | None = None
    ) -> RuntimeBindings:
        """Bind runtimes (`Default` type when None) to a group, moving them from another
        group; one result each (a runtime held by a group the caller may not change stays)."""
        body = calls.wire_body(runtime_ids=list(runtime_ids), runtime_type=runtime_type)
        return await self._send(calls.bind_runtimes(group_id, body))

    async def runtimes(
        self, group_id: str, *, page_number: int | None = None, page_size: int | None = None
    ) -> BoundRuntimePage:
        """One page of the runtimes bound to a group, by type and then id."""
        params = calls.given(pageNumber=page_number, pageSize=page_size)
        return await self._send(calls.list_bound_runtimes(group_id, params))

    def iter_runtimes(self, group_id: str, *, page_size: int = 100) -> AsyncIterator[BoundRuntime]:
        """Every runtime bound to a group, reading page after page."""

        async def page(number: int) -> BoundRuntimePage:
            params = {"pageNumber": number, "pageSize": page_size}
            return await self._send(calls.list_bound_runtimes(group_id, params))

        return async_all_pages.by_number(page)

    async def unbind_runtimes(
        self, group_id: str, runtime_ids: Sequence[str], *, runtime_type: str | None = None
    ) -> RuntimeBindings:
        """Unbind runtimes from a group; one result each (`NOT_FOUND`: not bound to it)."""
        body = calls.wire_body(runtime_ids=list(runtime_ids), runtime_type=runtime_type)
        return await self._send(calls.unbind_runtimes(group_id, body))

    async def runtime_config(
        self, runtime_type: str, runtime_id: str, *, gateway: bool = False
    ) -> RuntimeModelConfig:
        """The group bound to a runtime, its providers and models, and the default model;
        with `gateway`, also the gateway's URLs and the binding's API key."""
        return await self._send(calls.runtime_model_config(runtime_type, runtime_id, gateway))


class AsyncPrompts:
    """Prompt templates of a workspace (`/v1/workspaces/{ws}/prompt-templates`).

    A `template_id` may be a template's id or its name (names are unique in a workspace).
    """

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(
        self,
        workspace_id: str,
        *,
        name: str | None = None,
        type: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> PromptTemplatePage:
        """One page of the workspace's templates (`type="System"`: the built-in ones)."""
        return await self._send(
            calls.list_prompt_templates(workspace_id, name, type, max_results, next_token)
        )

    def iter(
        self,
        workspace_id: str,
        *,
        name: str | None = None,
        type: str | None = None,
        max_results: int | None = None,
    ) -> AsyncIterator[PromptTemplate]:
        """Every matching template, following `nextToken` from page to page."""

        async def page(token: str | None) -> PromptTemplatePage:
            return await self._send(
                calls.list_prompt_templates(workspace_id, name, type, max_results, token)
            )

        return async_all_pages.by_token(page)

    async def get(
        self,
        workspace_id: str,
        template_id: str,
        *,
        version: int | None = None,
        label: str | None = None,
    ) -> PromptTemplate:
        """A template: current, at `version`, or at the version `label` points at."""
        call = calls.get_prompt_template(workspace_id, template_id, version, label)
        return await self._send(call)

    async def create(
        self,
        workspace_id: str,
        name: str,
        content: str | None = None,
        *,
        messages: Sequence[Mapping[str, str]] | None = None,
        config: Mapping[str, Any] | None = None,
        owner_id: str | None = None,
        template_id: str | None = None,
    ) -> PromptTemplate:
        """Create a template (version 1): a text (`content`) or a chat template (`messages`,
        each `{"role": …, "content": …}`), with an optional `config`; its `${name}`
        placeholders become `variables`.

        `owner_id` names the workspace's owner: an admin writing into another principal's
        workspace must (`FailedPrecondition` otherwise). `template_id` chooses its id (32
        of 0-9a-f; `AlreadyExists` when taken), else one is generated.
        """
        call = calls.create_prompt_template(
            workspace_id, name, content, owner_id, messages, config, template_id
        )
        return await self._send(call)

    async def update(
        self,
        workspace_id: str,
        template_id: str,
        *,
        name: str | None = None,
        content: str | None = None,
        messages: Sequence[Mapping[str, str]] | None = None,
        config: Mapping[str, Any] | None = None,
        owner_id: str | None = None,
    ) -> PromptTemplate:
        """Write a new version with the fields given (`content` makes it a text template,
        `messages` a chat one, `config={}` clears the config); the old one stays readable.

        `owner_id` as for `create`.
        """
        call = calls.update_prompt_template(
            workspace_id, template_id, name, content, owner_id, messages, config
        )
        return await self._send(call)

    async def delete(
        self,
        workspace_id: str,
        template_id: str,
        *,
        owner_id: str | None = None,
    ) -> None:
        """Delete a template with all its versions (`owner_id` as for `create`)."""
        await self._send(calls.delete_prompt_template(workspace_id, template_id, owner_id))

    async def versions(self, workspace_id: str, template_id: str) -> builtins.list[PromptTemplate]:
        """Every version of a template, oldest first."""
        return await self._send(calls.list_versions(workspace_id, template_id))

    async def render(
        self,
        workspace_id: str,
        template_id: str,
        variables: Mapping[str, str] | None = None,
        *,
        allow_partial: bool = False,
        version: int | None = None,
        label: str | None = None,
    ) -> Rendered:
        """Fill the variables of the current version, of `version`, or of the one `label`
        points at; a missing one is `InvalidArgument` unless `allow_partial`."""
        return await self._send(
            calls.render_prompt_template(
                workspace_id, template_id, variables, allow_partial, version, label
            )
        )

    async def diff(
        self, workspace_id: str, template_id: str, old: str | int, new: str | int = "latest"
    ) -> TemplateDiff:
        """The unified diff of the template's text from `old` to `new`, each a version
        number or a label (`latest`: the current version)."""
        return await self._send(calls.diff_prompt_template(workspace_id, template_id, old, new))

    async def watch(
        self,
        workspace_id: str,
        template_id: str,
        *,
        label: str | None = None,
        held_version: int = 0,
        timeout_seconds: float = 30.0,
    ) -> AsyncIterator[PromptTemplate]:
        """Yield the template at `label` (the current version when None) each time that is
        another version: first at once unless it is `held_version`, then as the label
        moves (long-polls of `timeout_seconds`). Runs until the caller stops iterating;
        an error ends it."""
        held = held_version
        while True:
            call = calls.watch_prompt_template(
                workspace_id, template_id, held, label, timeout_seconds
            )
            found = await self._send(call)
            if found is not None:
                held = found.version
                yield found

    async def cached(
        self,
        workspace_id: str,
        template_id: str,
        *,
        label: str | None = None,
        path: str | None = None,
        on_change: OnPrompt | None = None,
        timeout_seconds: float = 30.0,
    ) -> AsyncCachedPrompt:
        """The template at `label` (or current) held in memory and kept fresh by a watch
        in the background (a label move arrives as soon as it commits); with `path`, kept
        in that file too, and started from it while the server cannot be reached. Its
        `render` fills it without calling the server. Close it (`with`) when done."""
        return await AsyncCachedPrompt.start(
            self,
            workspace_id,
            template_id,
            label=label,
            path=path,
            on_change=on_change,
            timeout_seconds=timeout_seconds,
        )

    async def labels(self, workspace_id: str, template_id: str) -> builtins.list[PromptLabel]:
        """Every label of a template and the version it points at (`latest` among them)."""
        return await self._send(calls.list_labels(workspace_id, template_id))

    async def set_label(
        self,
        workspace_id: str,
        template_id: str,
        label: str,
        *,
        version: int,
        owner_id: str | None = None,
    ) -> MovedLabel:
        """Point `label` at `version`: a promotion, or a rollback. `production` needs the
        workspace's owner, an editor, or an admin (`owner_id` as for `create`)."""
        call = calls.set_label(workspace_id, template_id, label, version, owner_id)
        return await self._send(call)

    async def remove_label(
        self, workspace_id: str, template_id: str, label: str, *, owner_id: str | None = None
    ) -> MovedLabel:
        """Unset `label` (`NotFound` when it is not set); who may: as for `set_label`."""
        return await self._send(calls.remove_label(workspace_id, template_id, label, owner_id))

    async def label_history(
        self,
        workspace_id: str,
        template_id: str,
        *,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> LabelHistoryPage:
        """One page of the template's label moves, newest first."""
        call = calls.label_history(workspace_id, template_id, max_results, next_token)
        return await self._send(call)

    def iter_label_history(
        self, workspace_id: str, template_id: str, *, max_results: int | None = None
    ) -> AsyncIterator[LabelMove]:
        """Every move of the template's labels, newest first, following `nextToken`."""

        async def page(token: str | None) -> LabelHistoryPage:
            call = calls.label_history(workspace_id, template_id, max_results, token)
            return await self._send(call)

        return async_all_pages.by_token(page)


class AsyncConfigs:
    """Dynamic parameters of a service (`/v1/configs/{cluster}/service/{name}`)."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def namespaces(self) -> builtins.list[NamespaceSummary]:
        """The namespaces the caller may read that were ever written to."""
        return await self._send(calls.list_namespaces())

    async def get_namespace(
        self, cluster: str, service: str, *, client_label: str | None = None
    ) -> ConfigNamespace:
        """Every parameter of the service at its current revision; with `client_label`, as
        a client with that label sees them (the gray release applied when it targets the
        label: `candidate` says which)."""
        return await self._send(calls.get_namespace(cluster, service, client_label))

    async def get(
        self, cluster: str, service: str, key: str, *, client_label: str | None = None
    ) -> Config:
        """One parameter (with `client_label`: as a client with that label sees it)."""
        return await self._send(calls.get_config(cluster, service, key, client_label))

    async def set_candidate(
        self,
        cluster: str,
        service: str,
        values: Mapping[str, str] | None = None,
        *,
        labels: Sequence[str],
        delete: Sequence[str] = (),
        formats: Mapping[str, str] | None = None,
        if_version: int | None = None,
        owner_id: str | None = None,
    ) -> ConfigCandidate:
        """Open the service's gray release (or replace the open one): `values` set and
        the keys of `delete` deleted only for clients with one of `labels`, checked as a
        `batch` is. `if_version` 0 only creates (`AlreadyExists` when one is open), N only
        replaces version N (`FailedPrecondition` otherwise)."""
        call = calls.put_candidate(
            cluster,
            service,
            dict(values or {}),
            list(delete),
            dict(formats or {}),
            list(labels),
            if_version,
            owner_id,
        )
        return await self._send(call)

    async def candidate(self, cluster: str, service: str) -> ConfigCandidate:
        """The service's open gray release (`NotFound` when there is none)."""
        return await self._send(calls.get_candidate(cluster, service))

    async def promote_candidate(
        self,
        cluster: str,
        service: str,
        *,
        version: int | None = None,
        owner_id: str | None = None,
    ) -> ConfigNamespaceChanges:
        """Apply the gray release for everyone as one new revision and close it
        (`version`: only if it is still that one); what changed."""
        return await self._send(calls.promote_candidate(cluster, service, version, owner_id))

    async def drop_candidate(
        self,
        cluster: str,
        service: str,
        *,
        version: int | None = None,
        owner_id: str | None = None,
    ) -> ConfigCandidate:
        """Close the gray release without changing anything for anyone; the one dropped."""
        return await self._send(calls.drop_candidate(cluster, service, version, owner_id))

    async def listeners(self, cluster: str, service: str) -> builtins.list[ConfigListener]:
        """Who watches the service now, on every replica (its owner and admins only)."""
        return await self._send(calls.config_listeners(cluster, service))

    async def put(
        self,
        cluster: str,
        service: str,
        key: str,
        value: str,
        *,
        owner_id: str | None = None,
        format: str | None = None,
    ) -> Config:
        """Create or update a parameter.

        `format` (`text`, `json`, `yaml` or `properties`) is the one the value must parse
        in, kept with the parameter; None: a new parameter is `text`, an existing one
        keeps its own. `owner_id` names the namespace's owner: an admin writing into
        another principal's namespace must (`FailedPrecondition` otherwise); a namespace
        nobody wrote to yet is created owned by it. A member writing into another's
        namespace gets `AlreadyExists` (the name is taken).
        """
        return await self._send(calls.put_config(cluster, service, key, value, owner_id, format))

    async def batch(
        self,
        cluster: str,
        service: str,
        values: Mapping[str, str] | None = None,
        *,
        delete: Sequence[str] = (),
        formats: Mapping[str, str] | None = None,
        owner_id: str | None = None,
    ) -> ConfigNamespaceChanges:
        """Set `values` and delete the keys of `delete` as one revision: all or nothing.

        `formats` gives the format of some of the keys set (as for `put`). Watchers see
        the whole batch at once. A bad item raises `InvalidArgument` naming it by its
        place: `items.N`, the keys of `values` in order, then those of `delete`. Returns
        the revision made, the parameters set and the keys deleted.
        """
        call = calls.config_batch(
            cluster, service, dict(values or {}), list(delete), dict(formats or {}), owner_id
        )
        return await self._send(call)

    async def revert(
        self, cluster: str, service: str, revision: int, *, owner_id: str | None = None
    ) -> ConfigNamespaceChanges:
        """Make the service hold again what it held at `revision`, as one new revision (none
        when it already does); what changed. A revision it never reached: `NotFound`."""
        return await self._send(calls.revert_namespace(cluster, service, revision, owner_id))

    async def delete(
        self,
        cluster: str,
        service: str,
        key: str,
        *,
        owner_id: str | None = None,
    ) -> None:
        """Delete a parameter (`owner_id` as for `put`)."""
        await self._send(calls.delete_config(cluster, service, key, owner_id))

    async def history(
        self, cluster: str, service: str, key: str | None = None, *, limit: int | None = None
    ) -> list[ConfigChange]:
        """Changes of one key, or of the whole service when `key` is None; newest first."""
        return await self._send(calls.config_history(cluster, service, key, limit))

    async def watch(
        self,
        cluster: str,
        service: str,
        *,
        since_revision: int = 0,
        timeout_seconds: float = 30.0,
        client_label: str | None = None,
    ) -> AsyncIterator[ConfigNamespace]:
        """Yield the service's state each time its revision passes the last one seen (with
        `client_label`: as that client sees it, also each time the gray release served to
        it changes, is promoted or dropped).

        Reads the service once, then loops on the long-poll `:watch` route, each poll held
        up to `timeout_seconds`, and applies what changed (the server sends only that).
        When the service is already past `since_revision` its current state comes first
        (from `since_revision=0`: once anything was written). It runs until the caller
        stops iterating; an error ends it (call again with the last revision seen to
        resume).
        """
        state = await self._send(calls.get_namespace(cluster, service, client_label))
        if state.revision > since_revision or state.candidate is not None:
            yield state
        while True:
            call = calls.watch_once(
                cluster,
                service,
                state.revision,
                timeout_seconds,
                client_label,
                state.candidate_version,
            )
            changes = await self._send(call)
            if changes is not None:
                moved = state.candidate_version != (
                    changes.candidate.version if changes.candidate else 0
                )
                state = state.applied(changes)
                if state.revision > since_revision or moved:
                    yield state

    async def cached(
        self,
        cluster: str,
        service: str,
        *,
        path: str | None = None,
        on_change: OnNamespace | None = None,
        timeout_seconds: float = 30.0,
    ) -> AsyncCachedNamespace:
        """The service's parameters held in memory and kept fresh by a watch in the
        background; with `path`, kept in that file too, and started from it while the
        server cannot be reached. Close it (`with`) when done."""
        return await AsyncCachedNamespace.start(
            self,
            cluster,
            service,
            path=path,
            on_change=on_change,
            timeout_seconds=timeout_seconds,
        )


class AsyncPrincipals:
    """Principals and their API keys and access keys (`/v1/principals`; admins only, but a
    member lists, revokes and issues itself gateway-only API keys, as `"me"`)."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(self) -> builtins.list[Principal]:
        """Every principal, oldest first."""
        return await self._send(calls.list_principals())

    async def get(self, principal_id: str) -> Principal:
        """One principal."""
        return await self._send(calls.get_principal(principal_id))

    async def create(self, name: str, *, role: str = "member") -> Principal:
        """Create a principal (`admin` or `member`); names are unique."""
        return await self._send(calls.create_principal(name, role))

    async def delete(self, principal_id: str, *, transfer_to: str | None = None) -> None:
        """Delete a principal and its keys; `transfer_to` gets everything it owns.

        Without `transfer_to`, a principal that still owns resources is not deleted
        (`FailedPrecondition`, naming what it owns).
        """
        await self._send(calls.delete_principal(principal_id, transfer_to))

    async def issue_api_key(
        self,
        principal_id: str,
        *,
        label: str | None = None,
        gateway_only: bool = False,
        models: Sequence[str] | None = None,
        expires_at: int | None = None,
    ) -> IssuedApiKey:
        """Issue an API key; its token is in the answer and never shown again.

        Its scope: `gateway_only` (it calls only the gateway), `models` (the model names
        and groups it may call there; None: every model), `expires_at` (epoch ms; None:
        never). An admin issues keys for anyone; a member only for itself, gateway-only.
        """
        return await self._send(
            calls.issue_api_key(principal_id, label, gateway_only, models, expires_at)
        )

    async def list_api_keys(self, principal_id: str) -> builtins.list[ApiKey]:
        """The principal's API keys, revoked ones included (a member may list its own)."""
        return await self._send(calls.list_api_keys(principal_id))

    async def revoke_api_key(self, principal_id: str, api_key_id: str) -> ApiKey:
        """Revoke an API key; it stops working at once (a member may revoke its own)."""
        return await self._send(calls.revoke_api_key(principal_id, api_key_id))

    async def issue_access_key(
        self,
        principal_id: str,
        *,
        label: str | None = None,
    ) -> IssuedAccessKey:
        """Issue an access-key pair; its secret is in the answer and never shown again."""
        return await self._send(calls.issue_access_key(principal_id, label))

    async def list_access_keys(self, principal_id: str) -> builtins.list[AccessKey]:
        """The principal's access keys, revoked ones included."""
        return await self._send(calls.list_access_keys(principal_id))

    async def revoke_access_key(self, principal_id: str, access_key_id: str) -> AccessKey:
        """Revoke an access key; it stops working at once."""
        return await self._send(calls.revoke_access_key(principal_id, access_key_id))


class AsyncWorkspaces:
    """Workspaces, the scope of prompt templates (`/v1/workspaces`)."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(self) -> builtins.list[Workspace]:
        """The workspaces the caller owns or is a member of (admins: all)."""
        return await self._send(calls.list_workspaces())

    async def get(self, workspace_id: str) -> Workspace:
        """One workspace."""
        return await self._send(calls.get_workspace(workspace_id))

    async def create(
        self, name: str, *, workspace_id: str | None = None, owner_id: str | None = None
    ) -> Workspace:
        """Create a workspace owned by the caller (or `owner_id`: admins); `workspace_id` is
        generated when None, and a taken one is `AlreadyExists`."""
        return await self._send(calls.create_workspace(name, workspace_id, owner_id))

    async def rename(self, workspace_id: str, name: str) -> Workspace:
        """Give a workspace a new name."""
        return await self._send(calls.rename_workspace(workspace_id, name))

    async def delete(self, workspace_id: str) -> None:
        """Delete a workspace with its prompt templates."""
        await self._send(calls.delete_workspace(workspace_id))

    async def members(self, workspace_id: str) -> builtins.list[WorkspaceMember]:
        """The workspace's members with their roles, in the order they were added."""
        return await self._send(calls.list_members(workspace_id))

    async def add_member(
        self, workspace_id: str, principal_id: str, *, role: str = "reader"
    ) -> WorkspaceMember:
        """Make a principal a member: `reader` (reads, lists, renders the templates),
        `author` (also creates and updates them, moves their labels but `production`) or
        `editor` (also deletes them, moves `production`); for a member, set its role."""
        return await self._send(calls.add_member(workspace_id, principal_id, role))

    async def remove_member(self, workspace_id: str, principal_id: str) -> None:
        """Take a principal out of the workspace."""
        await self._send(calls.remove_member(workspace_id, principal_id))


class AsyncProviderTemplates:
    """Provider templates of model groups (`/v1/provider-templates`)."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(
        self,
        *,
        model_template_id: str | None = None,
        provider_name: str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
    ) -> ProviderTemplatePage:
        """One page of the provider templates the caller may read."""
        params = calls.given(
            modelTemplateId=model_template_id,
            providerName=provider_name,
            pageNumber=page_number,
            pageSize=page_size,
        )
        return await self._send(calls.list_provider_templates(params))

    def iter(
        self, *, model_template_id: str | None = None, page_size: int = 100
    ) -> AsyncIterator[ProviderTemplate]:
        """Every matching provider template, page after page."""

        async def page(number: int) -> ProviderTemplatePage:
            return await self.list(
                model_template_id=model_template_id, page_number=number, page_size=page_size
            )

        return async_all_pages.by_number(page)

    async def get(self, provider_template_id: str) -> ProviderTemplate:
        """One provider template (its API key masked)."""
        return await self._send(calls.get_provider_template(provider_template_id))

    async def create(
        self,
        model_template_id: str,
        name: str,
        provider_name: str,
        provider_type: str,
        *,
        config: Mapping[str, Any] | None = None,
        description: str | None = None,
        enable_wuying_proxy: bool | None = None,
    ) -> ProviderTemplate:
        """Add a provider to a group; `config` is `{"baseUrl", "api", "apiKey"}`."""
        body = calls.wire_body(
            model_template_id=model_template_id,
            name=name,
            provider_name=provider_name,
            provider_type=provider_type,
            config=config,
            description=description,
            enable_wuying_proxy=enable_wuying_proxy,
        )
        return await self._send(calls.create_provider_template(body))

    async def update(
        self,
        provider_template_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        enable_wuying_proxy: bool | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> ProviderTemplate:
        """Change what is given; in `config` a key that is absent stays, `""` clears it."""
        body = calls.wire_body(
            name=name,
            description=description,
            enable_wuying_proxy=enable_wuying_proxy,
            config=config,
        )
        return await self._send(calls.update_provider_template(provider_template_id, body))

    async def delete(self, provider_template_id: str) -> None:
        """Delete a provider template and its LLM templates."""
        await self._send(calls.delete_provider_template(provider_template_id))

    async def verify_api_key(self, provider_template_id: str, api_key: str) -> bool:
        """Whether `api_key` is the stored key (needs update rights on the group)."""
        return await self._send(calls.verify_provider_api_key(provider_template_id, api_key))


class AsyncLlmTemplates:
    """LLM templates: the models a provider template offers (`/v1/llm-templates`)."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(
        self,
        *,
        model_template_id: str | None = None,
        provider_template_id: str | None = None,
        llm_code: str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
    ) -> LlmTemplatePage:
        """One page of the LLM templates the caller may read."""
        params = calls.given(
            modelTemplateId=model_template_id,
            providerTemplateId=provider_template_id,
            llmCode=llm_code,
            pageNumber=page_number,
            pageSize=page_size,
        )
        return await self._send(calls.list_llm_templates(params))

    def iter(
        self,
        *,
        model_template_id: str | None = None,
        provider_template_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[LlmTemplate]:
        """Every matching LLM template, page after page."""

        async def page(number: int) -> LlmTemplatePage:
            return await self.list(
                model_template_id=model_template_id,
                provider_template_id=provider_template_id,
                page_number=number,
                page_size=page_size,
            )

        return async_all_pages.by_number(page)

    async def get(self, llm_template_id: str) -> LlmTemplate:
        """One LLM template."""
        return await self._send(calls.get_llm_template(llm_template_id))

    async def batch_create(
        self,
        provider_template_id: str,
        items: Sequence[Mapping[str, Any]],
        *,
        model_template_id: str | None = None,
    ) -> BatchResult:
        """Create models (`{"llmCode", "name", "description", "config", "isDefaultModel"}`).

        Codes that exist, and repeats in the batch, are skipped with a reason.
        """
        body = calls.wire_body(
            provider_template_id=provider_template_id,
            model_template_id=model_template_id,
            items=[dict(item) for item in items],
        )
        return await self._send(calls.batch_create_llm_templates(body))

    async def update(
        self,
        llm_template_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> LlmTemplate:
        """Change what is given in place (the id, code and default flag stay); `config`
        replaces the whole object, `{}` clears it."""
        body = calls.wire_body(name=name, description=description, config=config)
        return await self._send(calls.update_llm_template(llm_template_id, body))

    async def delete(self, llm_template_id: str) -> None:
        """Delete an LLM template (a group's default pointer to it goes too)."""
        await self._send(calls.delete_llm_template(llm_template_id))


class AsyncAudit:
    """The audit log (`/v1/audit-events`, admins only), newest first."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(
        self,
        *,
        principal_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        action: str | None = None,
        face: str | None = None,
        since: int | None = None,
        until: int | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> AuditEventPage:
        """One page of events; `since <= at < until` in epoch milliseconds; `action` and
        `face` as recorded (`create`, `console`)."""
        return await self._send(
            calls.list_audit_events(
                principal_id=principal_id,
                resource_type=resource_type,
                resource_id=resource_id,
                action=action,
                face=face,
                since=since,
                until=until,
                page_size=page_size,
                page_token=page_token,
            )
        )

    def iter(
        self,
        *,
        principal_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        action: str | None = None,
        face: str | None = None,
        since: int | None = None,
        until: int | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[AuditEvent]:
        """Every matching event, newest first, following `nextPageToken`."""

        async def page(token: str | None) -> AuditEventPage:
            return await self.list(
                principal_id=principal_id,
                resource_type=resource_type,
                resource_id=resource_id,
                action=action,
                face=face,
                since=since,
                until=until,
                page_size=page_size,
                page_token=token,
            )

        return async_all_pages.by_token(page)


class AsyncUsage:
    """Usage of the gateway (`/v1/usage`): reports summed per group from the daily sums,
    and the records of single calls. Members see their own; admins everyone's."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def report(
        self,
        *,
        group_by: Sequence[str] = (),
        from_day: str | None = None,
        to_day: str | None = None,
        principal_id: str | None = None,
        api_key_id: str | None = None,
        model: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> UsageReport:
        """One page of groups; `group_by` names any of day, principal, key, model, member
        (none: one total); days are `YYYY-MM-DD` (UTC, inclusive; the last 30 by default)."""
        return await self._send(
            calls.usage_report(
                group_by=group_by,
                from_day=from_day,
                to_day=to_day,
                principal_id=principal_id,
                api_key_id=api_key_id,
                model=model,
                status=status,
                page_size=page_size,
                page_token=page_token,
            )
        )

    def iter_report(
        self,
        *,
        group_by: Sequence[str] = (),
        from_day: str | None = None,
        to_day: str | None = None,
        principal_id: str | None = None,
        api_key_id: str | None = None,
        model: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[UsageGroup]:
        """Every group of a report, in order, following `nextPageToken`."""

        async def page(token: str | None) -> UsageReport:
            return await self.report(
                group_by=group_by,
                from_day=from_day,
                to_day=to_day,
                principal_id=principal_id,
                api_key_id=api_key_id,
                model=model,
                status=status,
                page_size=page_size,
                page_token=token,
            )

        return async_all_pages.by_token(page)

    async def records(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        principal_id: str | None = None,
        api_key_id: str | None = None,
        model: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> UsageRecordPage:
        """One page of records, newest first; `since <= at < until` in epoch milliseconds
        (the last day by default, at most 7 days)."""
        return await self._send(
            calls.usage_records(
                since=since,
                until=until,
                principal_id=principal_id,
                api_key_id=api_key_id,
                model=model,
                status=status,
                page_size=page_size,
                page_token=page_token,
            )
        )

    def iter_records(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        principal_id: str | None = None,
        api_key_id: str | None = None,
        model: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[UsageRecord]:
        """Every matching record, newest first, following `nextPageToken`."""

        async def page(token: str | None) -> UsageRecordPage:
            return await self.records(
                since=since,
                until=until,
                principal_id=principal_id,
                api_key_id=api_key_id,
                model=model,
                status=status,
                page_size=page_size,
                page_token=token,
            )

        return async_all_pages.by_token(page)
