"""Planning the `modelGroups` of a stack: groups by `name`, providers by `providerName`,
models by `llmCode`, and each group's default model.

A model whose name, description or config changed is updated in place (it keeps its id
and whether it is the default); its `llmCode` is what finds it, so it never changes. The
default model is set after the models exist.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from modelplane.client import Client, LlmTemplate, ModelGroup, ProviderTemplate
from modelplane.stack.changes import (
    SECRET,
    Action,
    Change,
    FieldDiff,
    Ids,
    Plan,
    Run,
    created,
    differences,
    show,
)
from modelplane.stack.owners import Principals
from modelplane.stack.secrets import Environment
from modelplane.stack.spec import ModelGroupSpec, ModelSpec, ProviderSpec, StackError

ProviderKeys = dict[tuple[int, int], str]
IdOf = Callable[[Ids], str]


def resolve_provider_keys(specs: list[ModelGroupSpec], env: Environment) -> ProviderKeys:
    """Each provider's API key read from the environment, by (group index, provider index)."""
    keys: ProviderKeys = {}
    for i, group in enumerate(specs):
        for j, provider in enumerate(group.providers):
            if provider.api_key is not None:
                place = f"modelGroups[{i}].providers[{j}].apiKey"
                keys[(i, j)] = env.read(provider.api_key, place)
    return keys


def _fields(spec: ModelGroupSpec | ProviderSpec | ModelSpec, names: set[str]) -> dict[str, Any]:
    return spec.model_dump(by_alias=True, exclude_none=True, include=names)


_GROUP = {"description", "ref_scope"}
_FIXED = {"agent_platform", "agent_provider", "biz_type"}  # set when a group is created
_PROVIDER = {"name", "description", "enable_wuying_proxy", "base_url", "api"}
_MODEL = {"name", "description", "config"}


def _provider_now(provider: ProviderTemplate) -> dict[str, Any]:
    now = provider.model_dump(mode="json", by_alias=True)
    now.update(baseUrl=provider.config.base_url, api=provider.config.api)
    return now


def _provider_body(fields: dict[str, Any], api_key: str | None) -> dict[str, Any]:
    body = dict(fields)
    config: dict[str, Any] = {k: body.pop(k) for k in ("baseUrl", "api") if k in body}
    if api_key is not None:
        config["apiKey"] = api_key
    if config:
        body["config"] = config
    return body


def _model_item(spec: ModelSpec) -> dict[str, Any]:
    return {"llmCode": spec.llm_code, **_fields(spec, _MODEL)}


def _constant(value: str) -> IdOf:
    return lambda _ids: value


def without_pointer(config: dict[str, Any]) -> dict[str, Any]:
    """A group's config without the default model's pointer (`defaultModel` holds it)."""
    copied = copy.deepcopy(config)
    defaults = copied.get("defaults")
    if isinstance(defaults, dict):
        model = defaults.get("model")
        if isinstance(model, dict):
            model.pop("primary", None)
            if not model:
                defaults.pop("model")
        if not defaults:
            copied.pop("defaults")
    return copied


class _Planner:
    """Adds the changes of the declared groups, one group after the other."""

    def __init__(
        self, client: Client, plan: Plan, keys: ProviderKeys, principals: Principals, *, prune: bool
    ) -> None:
        self.client, self.plan, self.keys, self.prune = client, plan, keys, prune
        self.principals = principals
        self.group_key = ""

    def group(self, i: int, spec: ModelGroupSpec, current: ModelGroup | None) -> None:
        """The group, then its providers and models, then its default model, its config
        and its runtimes."""
        name, wanted = spec.name, _fields(spec, _GROUP | _FIXED)
        key = spec.model_template_id or name
        self.group_key = key  # what the ids of its new providers are kept under
        place = f"modelGroups[{i}]"
        providers: list[ProviderTemplate] = []
        models: list[LlmTemplate] = []
        if current is None:
            owner = self.principals.owner_of(f"{place}.owner", spec.owner, None)
            shown = {"modelTemplateId": spec.model_template_id, **wanted, "owner": spec.owner}

            def create(client: Client, ids: Ids) -> None:
                made = client.model_groups.create(
                    name,
                    description=wanted.get("description"),
                    ref_scope=wanted.get("refScope"),
                    agent_platform=wanted.get("agentPlatform"),
                    agent_provider=wanted.get("agentProvider"),
                    biz_type=wanted.get("bizType"),
                    model_template_id=spec.model_template_id,
                    owner_id=owner(ids),
                )
                ids.groups[key] = made.model_template_id

            fields = created({k: v for k, v in shown.items() if v is not None})
            self.plan.add(Change(Action.CREATE, "model-group", name, create, fields))
            group_id: IdOf = lambda ids: ids.groups[key]  # noqa: E731
        else:
            existing = current.model_template_id
            group_id = _constant(existing)
            self.principals.check_owner(
                f"{place}.owner", f"model group {existing}", current.owner_id, spec.owner
            )
            now = current.model_dump(mode="json", by_alias=True)
            for field in differences(now, _fields(spec, _FIXED)):
                raise StackError(
                    f"{place}.{field.name}: cannot change {show(field.old)} to "
                    f"{show(field.new)}; it is set when a group is created"
                )
            wanted = {"name": name, **_fields(spec, _GROUP)}  # found by id: it may be renamed
            diffs = differences(now, wanted)
            if diffs:
                body = {d.name: d.new for d in diffs}

                def update(client: Client, _ids: Ids) -> None:
                    client.model_groups.update(
                        existing,
                        name=body.get("name"),
                        description=body.get("description"),
                        ref_scope=body.get("refScope"),
                    )

                self.plan.add(Change(Action.UPDATE, "model-group", name, update, diffs))
            providers = list(self.client.provider_templates.iter(model_template_id=existing))
            models = list(self.client.llm_templates.iter(model_template_id=existing))
        made = self._providers(i, spec, group_id, providers, models)
        self._default(spec, current, group_id, made)
        if spec.runtimes is not None:
            self._runtimes(spec, current, group_id)

    def _providers(
        self,
        i: int,
        spec: ModelGroupSpec,
        group_id: IdOf,
        providers: list[ProviderTemplate],
        models: list[LlmTemplate],
    ) -> set[str]:
        """Provider and model changes; returns the `provider/code` of the models created."""
        by_name = {p.provider_name: p for p in providers}
        models_of: dict[str, list[LlmTemplate]] = defaultdict(list)
        for model in models:
            models_of[model.provider_template_id].append(model)
        made: set[str] = set()
        for j, provider_spec in enumerate(spec.providers):
            current = by_name.pop(provider_spec.provider_name, None)
            place = f"modelGroups[{i}].providers[{j}]"
            provider_id = self._provider(
                spec.name, place, provider_spec, self.keys.get((i, j)), group_id, current
            )
            existing = models_of[current.provider_template_id] if current else []
            made |= self._models(spec.name, provider_spec, provider_id, existing)
        if self.prune:
            for provider in by_name.values():
                self._delete_provider(spec.name, provider)
        return made

    def _provider(
        self,
        group: str,
        place: str,
        spec: ProviderSpec,
        api_key: str | None,
        group_id: IdOf,
        current: ProviderTemplate | None,
    ) -> IdOf:
        label = f"{group}/{spec.provider_name}"
        wanted = _fields(spec, _PROVIDER)
        if current is None:
            body = _provider_body({k: v for k, v in wanted.items() if k != "name"}, api_key)
            fields = created(wanted) + ((FieldDiff("apiKey", None, SECRET),) if api_key else ())
            key = (self.group_key, spec.provider_name)

            def create(client: Client, ids: Ids) -> None:
                made = client.provider_templates.create(
                    group_id(ids), spec.name, spec.provider_name, spec.provider_type, **_kw(body)
                )
                ids.providers[key] = made.provider_template_id

            self.plan.add(Change(Action.CREATE, "provider", label, create, fields))
            return lambda ids: ids.providers[key]
        if current.provider_type != spec.provider_type:
            raise StackError(
                f"{place}.providerType: cannot change {current.provider_type} to "
                f"{spec.provider_type}; remove the provider or give it a new providerName"
            )
        provider_id = current.provider_template_id
        diffs = differences(_provider_now(current), wanted)
        if api_key is not None and not self.client.provider_templates.verify_api_key(
            provider_id, api_key
        ):
            diffs += (FieldDiff("apiKey", SECRET, SECRET),)
        if diffs:
            changed = {d.name: d.new for d in diffs if d.name != "apiKey"}
            key_changed = any(d.name == "apiKey" for d in diffs)
            body = _provider_body(changed, api_key if key_changed else None)

            def update(client: Client, _ids: Ids) -> None:
                client.provider_templates.update(provider_id, **_kw(body))

            self.plan.add(Change(Action.UPDATE, "provider", label, update, diffs))
        return _constant(provider_id)

    def _models(
        self, group: str, spec: ProviderSpec, provider_id: IdOf, existing: list[LlmTemplate]
    ) -> set[str]:
        by_code = {m.llm_code: m for m in existing}
        made: set[str] = set()
        for model in spec.models:
            label = f"{group}/{spec.provider_name}/{model.llm_code}"
            wanted = _fields(model, _MODEL)
            current = by_code.pop(model.llm_code, None)
            item = _model_item(model)
            if current is None:
                self.plan.add(
                    Change(
                        Action.CREATE, "model", label, _batch(provider_id, item), created(wanted)
                    )
                )
                made.add(f"{spec.provider_name}/{model.llm_code}")
                continue
            diffs = differences(current.model_dump(mode="json", by_alias=True), wanted)
            if diffs:
                run = _update_model(current.llm_template_id, {d.name: d.new for d in diffs})
                self.plan.add(Change(Action.UPDATE, "model", label, run, diffs))
        if self.prune:
            for stale in by_code.values():
                self._delete_model(f"{group}/{spec.provider_name}/{stale.llm_code}", stale)
        return made

    def _default(
        self, spec: ModelGroupSpec, current: ModelGroup | None, group_id: IdOf, made: set[str]
    ) -> None:
        """The default model and the config, once the models exist (a config holds the
        pointer too: it is sent with the pointer the group is to have)."""
        wanted = spec.default_model
        now = current.default_model if current else None
        diffs: tuple[FieldDiff, ...] = ()
        if wanted is not None and (now != wanted or wanted in made):
            diffs += (FieldDiff("defaultModel", now, wanted),)
        config_now = without_pointer(current.config) if current else {}
        if spec.config is not None and spec.config != config_now:
            diffs += (FieldDiff("config", config_now if current else None, spec.config),)
        if not diffs:
            return
        config = spec.config if any(d.name == "config" for d in diffs) else None
        pointer = wanted if wanted is not None else now

        def point(client: Client, ids: Ids) -> None:
            client.model_groups.update(
                group_id(ids),
                config=config,
                default_model=pointer if (config is not None or wanted is not None) else None,
            )

        self.plan.add(Change(Action.UPDATE, "model-group", spec.name, point, diffs))

    def _runtimes(self, spec: ModelGroupSpec, current: ModelGroup | None, group_id: IdOf) -> None:
        """Bind the declared runtimes that are not bound to the group (moving them from
        another); with prune, unbind the others."""
        bound: set[tuple[str, str]] = set()
        if current is not None:
            found = self.client.model_groups.iter_runtimes(current.model_template_id)
            bound = {(r.runtime_type, r.runtime_id) for r in found}
        declared = [(r.runtime_type, r.runtime_id) for r in spec.runtimes or []]
        for kind, runtime_id in declared:
            if (kind, runtime_id) not in bound:
                label = f"{spec.name}/{kind}/{runtime_id}"
                fields = created({"runtimeType": kind, "runtimeId": runtime_id})
                run = _bind(group_id, kind, runtime_id, unbind=False)
                self.plan.add(Change(Action.CREATE, "runtime-binding", label, run, fields))
        if self.prune:
            for kind, runtime_id in sorted(bound - set(declared)):
                label = f"{spec.name}/{kind}/{runtime_id}"
                run = _bind(group_id, kind, runtime_id, unbind=True)
                self.plan.add(Change(Action.DELETE, "runtime-binding", label, run))

    def _delete_provider(self, group: str, provider: ProviderTemplate) -> None:
        def run(client: Client, _ids: Ids) -> None:
            client.provider_templates.delete(provider.provider_template_id)

        label = f"{group}/{provider.provider_name}"
        self.plan.add(Change(Action.DELETE, "provider", label, run))

    def _delete_model(self, label: str, model: LlmTemplate) -> None:
        def run(client: Client, _ids: Ids) -> None:
            client.llm_templates.delete(model.llm_template_id)

        self.plan.add(Change(Action.DELETE, "model", label, run))


def _kw(body: dict[str, Any]) -> dict[str, Any]:
    """Wire names to the SDK's keyword names."""
    names = {"enableWuyingProxy": "enable_wuying_proxy"}
    return {names.get(k, k): v for k, v in body.items()}


def _batch(provider_id: IdOf, item: dict[str, Any]) -> Callable[[Client, Ids], None]:
    def run(client: Client, ids: Ids) -> None:
        result = client.llm_templates.batch_create(provider_id(ids), [item])
        if result.skipped_items:
            skipped = result.skipped_items[0]
            raise StackError(f"model {skipped.llm_code} was not created: {skipped.reason}")

    return run


def _bind(group_id: IdOf, kind: str, runtime_id: str, *, unbind: bool) -> Run:
    def run(client: Client, ids: Ids) -> None:
        call = client.model_groups.unbind_runtimes if unbind else client.model_groups.bind_runtimes
        (result,) = call(group_id(ids), [runtime_id], runtime_type=kind).results
        if not result.success:
            raise StackError(f"runtime {kind}/{runtime_id}: {result.message}")

    return run


def _update_model(model_id: str, body: dict[str, Any]) -> Run:
    """Change a model in place: only the fields of `body` (`config` replaced whole)."""

    def run(client: Client, _ids: Ids) -> None:
        client.llm_templates.update(
            model_id,
            name=body.get("name"),
            description=body.get("description"),
            config=body.get("config"),
        )

    return run


def _unique(
    groups: list[ModelGroup], spec: ModelGroupSpec, owner_id: str | None, place: str
) -> ModelGroup | None:
    if spec.model_template_id is not None:
        return next((g for g in groups if g.model_template_id == spec.model_template_id), None)
    matches = [g for g in groups if g.name == spec.name]
    if spec.owner is not None:  # another principal's group of this name is not this one
        matches = [g for g in matches if g.owner_id == owner_id]
    if len(matches) > 1:
        ids = ", ".join(g.model_template_id for g in matches)
        raise StackError(
            f"{place}: {len(matches)} model groups are named {spec.name!r} ({ids}); give "
            "modelTemplateId to say which"
        )
    return matches[0] if matches else None


def plan_catalog(
    client: Client, specs: list[ModelGroupSpec], keys: ProviderKeys, plan: Plan, *, prune: bool
) -> None:
    """Add the changes that make the model groups match `specs`."""
    groups = list(client.model_groups.iter())
    principals = Principals(client, needed=any(spec.owner for spec in specs))
    planner = _Planner(client, plan, keys, principals, prune=prune)
    claimed: set[str] = set()
    for i, spec in enumerate(specs):
        place = f"modelGroups[{i}]"
        owner_id = None if spec.owner is None else principals.id_now(f"{place}.owner", spec.owner)
        current = _unique(groups, spec, owner_id, place)
        if current is not None:
            if current.model_template_id in claimed:
                raise StackError(
                    f"{place}: model group {current.model_template_id} is already declared by "
                    "another entry"
                )
            claimed.add(current.model_template_id)
        planner.group(i, spec, current)
    if prune:
        for group in groups:
            if group.model_template_id not in claimed:
                gid = group.model_template_id

                def run(client: Client, _ids: Ids, gid: str = gid) -> None:
                    client.model_groups.delete(gid)

                plan.add(Change(Action.DELETE, "model-group", f"{group.name} ({gid})", run))
