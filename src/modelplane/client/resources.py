"""The sync resource groups of `Client`: `llms`, `model_groups`, `prompts`, `configs`."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from modelplane.client import calls
from modelplane.client.models import (
    Config,
    ConfigChange,
    ConfigNamespace,
    CreatedLlm,
    Llm,
    ModelGroup,
    ModelGroupPage,
    PromptTemplate,
    PromptTemplatePage,
    Rendered,
)

T = TypeVar("T")


class Send(Protocol):
    """Sends a call and returns its parsed answer (raises `ModelplaneError`)."""

    def __call__(self, call: calls.Call[T]) -> T: ...


class Llms:
    """LLM connections (`/v1/llms`)."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def list(
        self,
        *,
        owner_id: str | None = None,
        provider_type: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Llm]:
        """The LLMs the caller may read, filtered by owner, provider type and labels."""
        return self._send(calls.list_llms(owner_id, provider_type, labels))

    def get(self, llm_id: str) -> Llm:
        """One LLM."""
        return self._send(calls.get_llm(llm_id))

    def create(
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
        return self._send(calls.create_llm(body))

    def update(
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
        return self._send(calls.update_llm(llm_id, body))

    def delete(self, llm_id: str) -> None:
        """Delete an LLM and its stored credentials."""
        self._send(calls.delete_llm(llm_id))


class ModelGroups:
    """Model groups of the catalog (`/v1/model-groups`)."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def list(
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
        return self._send(calls.list_model_groups(params))

    def iter(
        self,
        *,
        page_size: int = 100,
        ids: Sequence[str] | None = None,
        name: str | None = None,
        ref_scope: str | None = None,
        has_model: bool | None = None,
    ) -> Iterator[ModelGroup]:
        """Every matching group, reading page after page (`pageNumber` 1, 2, …)."""
        filters = calls.model_group_filters(ids, name, ref_scope, has_model)
        number, seen = 1, 0
        while True:
            params = {**filters, "pageNumber": number, "pageSize": page_size}
            page = self._send(calls.list_model_groups(params))
            yield from page.model_groups
            seen += len(page.model_groups)
            if not calls.more_groups(page, seen):
                return
            number += 1

    def get(self, group_id: str) -> ModelGroup:
        """One model group."""
        return self._send(calls.get_model_group(group_id))

    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        ref_scope: str | None = None,
        agent_platform: str | None = None,
        agent_provider: str | None = None,
        biz_type: int | None = None,
    ) -> ModelGroup:
        """Create a model group owned by the caller."""
        body = calls.wire_body(
            name=name,
            description=description,
            ref_scope=ref_scope,
            agent_platform=agent_platform,
            agent_provider=agent_provider,
            biz_type=biz_type,
        )
        return self._send(calls.create_model_group(body))

    def update(
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
        return self._send(calls.update_model_group(group_id, body))

    def delete(self, group_id: str) -> None:
        """Delete a group with its provider templates, LLM templates and bindings."""
        self._send(calls.delete_model_group(group_id))


class Prompts:
    """Prompt templates of a workspace (`/v1/workspaces/{ws}/prompt-templates`)."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def list(
        self,
        workspace_id: str,
        *,
        name: str | None = None,
        type: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> PromptTemplatePage:
        """One page of the workspace's templates (`type="System"`: the built-in ones)."""
        return self._send(
            calls.list_prompt_templates(workspace_id, name, type, max_results, next_token)
        )

    def iter(
        self,
        workspace_id: str,
        *,
        name: str | None = None,
        type: str | None = None,
        max_results: int | None = None,
    ) -> Iterator[PromptTemplate]:
        """Every matching template, following `nextToken` from page to page."""
        token: str | None = None
        while True:
            page = self._send(
                calls.list_prompt_templates(workspace_id, name, type, max_results, token)
            )
            yield from page.prompt_templates
            token = page.next_token
            if not token:
                return

    def get(
        self, workspace_id: str, template_id: str, *, version: int | None = None
    ) -> PromptTemplate:
        """A template, current or at `version`."""
        return self._send(calls.get_prompt_template(workspace_id, template_id, version))

    def create(self, workspace_id: str, name: str, content: str) -> PromptTemplate:
        """Create a template (version 1); its `${name}` placeholders become `variables`."""
        return self._send(calls.create_prompt_template(workspace_id, name, content))

    def update(
        self,
        workspace_id: str,
        template_id: str,
        *,
        name: str | None = None,
        content: str | None = None,
    ) -> PromptTemplate:
        """Write a new version with the fields given; the old one stays readable."""
        return self._send(calls.update_prompt_template(workspace_id, template_id, name, content))

    def delete(self, workspace_id: str, template_id: str) -> None:
        """Delete a template with all its versions."""
        self._send(calls.delete_prompt_template(workspace_id, template_id))

    def versions(self, workspace_id: str, template_id: str) -> builtins.list[PromptTemplate]:
        """Every version of a template, oldest first."""
        return self._send(calls.list_versions(workspace_id, template_id))

    def render(
        self,
        workspace_id: str,
        template_id: str,
        variables: Mapping[str, str] | None = None,
        *,
        allow_partial: bool = False,
        version: int | None = None,
    ) -> Rendered:
        """Fill the variables; a missing one is `InvalidArgument` unless `allow_partial`."""
        return self._send(
            calls.render_prompt_template(
                workspace_id, template_id, variables, allow_partial, version
            )
        )


class Configs:
    """Dynamic parameters of a service (`/v1/configs/{cluster}/service/{name}`)."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def get_namespace(self, cluster: str, service: str) -> ConfigNamespace:
        """Every parameter of the service at its current revision."""
        return self._send(calls.get_namespace(cluster, service))

    def get(self, cluster: str, service: str, key: str) -> Config:
        """One parameter."""
        return self._send(calls.get_config(cluster, service, key))

    def put(self, cluster: str, service: str, key: str, value: str) -> Config:
        """Create or update a parameter."""
        return self._send(calls.put_config(cluster, service, key, value))

    def delete(self, cluster: str, service: str, key: str) -> None:
        """Delete a parameter."""
        self._send(calls.delete_config(cluster, service, key))

    def history(
        self, cluster: str, service: str, key: str | None = None, *, limit: int | None = None
    ) -> list[ConfigChange]:
        """Changes of one key, or of the whole service when `key` is None; newest first."""
        return self._send(calls.config_history(cluster, service, key, limit))

    def watch(
        self,
        cluster: str,
        service: str,
        *,
        since_revision: int = 0,
        timeout_seconds: float = 30.0,
    ) -> Iterator[ConfigNamespace]:
        """Yield the service's state each time its revision passes the last one seen.

        Loops on the long-poll `:watch` route, each poll held up to `timeout_seconds`.
        From `since_revision=0` the current state comes first (once anything was
        written). It runs until the caller stops iterating; an error ends it (call again
        with the last revision seen to resume).
        """
        revision = since_revision
        while True:
            state = self._send(calls.watch_once(cluster, service, revision, timeout_seconds))
            if state is not None:
                revision = state.revision
                yield state
