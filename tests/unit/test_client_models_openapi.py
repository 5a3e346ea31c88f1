"""The SDK's models read what `/openapi.json` says the native API answers.

For each model and the response schema it parses (READS): every field of the model, by
its wire name, is a property of the schema with a type the model accepts; a field the
model requires is one the schema requires; and every property the schema requires is a
field of the model. Nested models are checked against the schemas the properties refer
to (`Llm.capabilities` against `CapabilitiesOut`). The document is the app's own, built in
process as docs/build_api_reference.py builds it (no database, no server).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelplane.client import limit_models, models, stack_calls
from modelplane.client.models import ApiModel

ROOT = Path(__file__).resolve().parents[2]

Schema = dict[str, Any]

# Each SDK model and the response schema it parses.
READS: tuple[tuple[type[ApiModel], str], ...] = (
    (models.AccessKey, "AccessKeyOut"),
    (stack_calls.StackOutcome, "StackApplyOut"),
    (models.ApiKey, "ApiKeyOut"),
    (models.AuditEvent, "AuditEventOut"),
    (models.AuditEventPage, "AuditEventListOut"),
    (models.BatchResult, "BatchCreateOut"),
    (models.Capabilities, "CapabilitiesOut"),
    (models.Config, "ConfigOut"),
    (models.ConfigChange, "ChangeOut"),
    (models.ConfigNamespace, "NamespaceOut"),
    (models.ConfigNamespaceChanges, "WatchOut"),
    (models.ConfigNamespaceChanges, "ChangesOut"),
    (models.CandidateRef, "CandidateRefOut"),
    (models.ConfigCandidate, "CandidateOut"),
    (models.ConfigCandidateItem, "CandidateItemOut"),
    (models.ConfigListener, "ListenerOut"),
    (models.CreatedLlm, "CreateLlmOut"),
    (models.IssuedAccessKey, "IssuedAccessKeyOut"),
    (models.IssuedApiKey, "IssuedApiKeyOut"),
    (models.LabelHistoryPage, "LabelHistoryOut"),
    (models.LabelMove, "LabelMoveOut"),
    (limit_models.LimitsUse, "LimitsUseOut"),
    (limit_models.LimitsView, "LimitsOut"),
    (models.Llm, "LlmOut"),
    (models.LlmStatus, "StatusOut"),
    (models.LlmTemplate, "LlmTemplateOut"),
    (models.LlmTemplatePage, "ListLlmTemplatesOut"),
    (models.Message, "MessageOut"),
    (models.ModelGroup, "ModelGroupOut"),
    (models.ModelGroup, "ModelGroupSummaryOut"),
    (models.ModelGroupPage, "ListModelGroupsOut"),
    (models.MovedLabel, "LabelMovedOut"),
    (models.NamespaceSummary, "NamespaceSummaryOut"),
    (models.Principal, "PrincipalOut"),
    (models.PromptLabel, "LabelOut"),
    (models.PromptTemplate, "PromptTemplateOut"),
    (models.PromptTemplatePage, "PromptTemplateListOut"),
    (models.ProviderConfig, "ProviderConfigOut"),
    (models.ProviderTemplate, "ProviderTemplateOut"),
    (models.ProviderTemplatePage, "ListProviderTemplatesOut"),
    (models.Rendered, "RenderOut"),
    (models.BoundRuntime, "BoundRuntimeOut"),
    (models.BoundRuntimePage, "BoundRuntimesOut"),
    (models.RuntimeBinding, "BindingOut"),
    (models.RuntimeBindings, "BindingsOut"),
    (models.RuntimeGateway, "RuntimeGatewayOut"),
    (models.GatewayModel, "GatewayModelOut"),
    (models.RuntimeModel, "RuntimeModelOut"),
    (models.RuntimeModelConfig, "RuntimeModelConfigOut"),
    (models.RuntimeProvider, "RuntimeProviderOut"),
    (models.ScopedModel, "ScopedModelOut"),
    (models.SkippedItem, "SkippedOut"),
    (limit_models.SpendLimits, "LimitsSetOut"),
    (limit_models.SpendUse, "SpendUseOut"),
    (models.TemplateDiff, "DiffOut"),
    (models.DiffEnd, "DiffEndOut"),
    (models.UsageGroup, "UsageGroupOut"),
    (models.UsageRecord, "UsageRecordOut"),
    (models.UsageRecordPage, "UsageRecordPageOut"),
    (models.UsageReport, "UsageReportOut"),
    (limit_models.WindowUse, "WindowUseOut"),
    (models.Workspace, "WorkspaceOut"),
    (models.WorkspaceMember, "MemberOut"),
)
# Model fields a schema lacks on purpose: only list items (`ModelGroupSummaryOut`) count models.
# A write's answer (`ChangesOut`) never holds what only a watch with a client label sends.
NOT_IN_SCHEMA = {
    ("ModelGroup", "ModelGroupOut"): {"modelCount"},
    ("ConfigNamespaceChanges", "ChangesOut"): {"full", "candidate"},
}
# Schema properties the call reads itself (client/calls.py `watch_once` reads `changed`)…
READ_BY_CALL = {"WatchOut": {"changed"}}
# … and the ones it then finds filled: it parses a watch's answer only when `changed`.
FILLED_WHEN_READ = {"WatchOut": {"configs", "deleted"}}


def _openapi_document() -> Schema:
    """The app's `/openapi.json`, from docs/build_api_reference.py's `openapi_document`."""
    path = ROOT / "docs" / "build_api_reference.py"
    spec = importlib.util.spec_from_file_location("build_api_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    document: Schema = module.openapi_document()
    return document


@pytest.fixture(scope="module")
def document() -> Schema:
    return _openapi_document()


@pytest.fixture(scope="module")
def schemas(document: Schema) -> dict[str, Schema]:
    found: dict[str, Schema] = document["components"]["schemas"]
    return found


def _without_null(node: Schema) -> Schema:
    return {**node, "anyOf": [a for a in node["anyOf"] if a.get("type") != "null"]}


def _kind(node: Schema) -> str | None:
    """The JSON type of a resolved schema node; None when it allows anything."""
    if "type" in node:
        kind: str = node["type"]
        return kind
    if "enum" in node and all(isinstance(v, str) for v in node["enum"]):
        return "string"
    return None


def _fits(model_kind: str | None, schema_kind: str | None) -> bool:
    """Whether a value of `schema_kind` parses as `model_kind`."""
    if model_kind is None or model_kind == schema_kind:
        return True
    return (model_kind, schema_kind) == ("number", "integer")


class Comparison:
    """The problems of reading one side's schemas (the server's) with the other's (the SDK's)."""

    def __init__(self, model_defs: dict[str, Schema], server_defs: dict[str, Schema]) -> None:
        self.model_defs = model_defs
        self.server_defs = server_defs
        self.problems: list[str] = []
        self.seen: set[tuple[str, str]] = set()

    @staticmethod
    def _alternatives(node: Schema, defs: dict[str, Schema]) -> Iterator[tuple[str, Schema]]:
        """Each value kind `node` allows, resolved, with the name of its schema ("" if none)."""
        name = ""
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = defs[name]
        if "anyOf" in node:
            for alternative in node["anyOf"]:
                yield from Comparison._alternatives(alternative, defs)
        else:
            yield name, node

    def value(self, where: str, model: Schema, server: Schema) -> None:
        """Check that every value `server` allows parses with `model`."""
        takes = list(self._alternatives(model, self.model_defs))
        if any(_kind(m) is None for _, m in takes):
            return
        for server_name, allowed in self._alternatives(server, self.server_defs):
            kind = _kind(allowed)
            fitting = [(n, m) for n, m in takes if _fits(_kind(m), kind)]
            if not fitting:
                wanted = sorted(str(_kind(m)) for _, m in takes)
                sent = kind or "any value"
                self.problems.append(f"{where}: the API may send {sent}, the SDK takes {wanted}")
            elif kind == "array":
                _, model_array = fitting[0]
                self.value(f"{where}[]", model_array.get("items", {}), allowed.get("items", {}))
            elif kind == "object":
                model_name, model_object = fitting[0]
                self.object(where, model_name, model_object, server_name, allowed)

    def object(
        self, where: str, model_name: str, model: Schema, server_name: str, server: Schema
    ) -> None:
        """Check an object: a model against a schema's properties, or a map's values."""
        if "properties" in model and "properties" in server:
            self.fields(model_name, model, server_name, server)
        elif "properties" in model:
            self.problems.append(f"{where}: the API sends a map, the SDK reads {model_name}")
        else:
            values = model.get("additionalProperties", True)
            if values is True:
                return
            if "properties" in server:
                for name, prop in server["properties"].items():
                    self.value(f"{where}.{name}", values, prop)
                return
            server_values = server.get("additionalProperties", True)
            self.value(f"{where}{{}}", values, {} if server_values is True else server_values)

    def fields(self, model_name: str, model: Schema, server_name: str, server: Schema) -> None:
        """Check a model's fields against the properties of the schema it parses."""
        if (model_name, server_name) in self.seen:
            return
        self.seen.add((model_name, server_name))
        fields: dict[str, Schema] = model["properties"]
        props: dict[str, Schema] = server["properties"]
        filled = FILLED_WHEN_READ.get(server_name, set())
        model_required = set(model.get("required", ()))
        server_required = set(server.get("required", ())) | filled
        for name, field in fields.items():
            where = f"{model_name}.{name} (read from {server_name})"
            if name not in props:
                if name not in NOT_IN_SCHEMA.get((model_name, server_name), set()):
                    self.problems.append(f"{model_name}.{name} is not a field of {server_name}")
                continue
            if name in model_required and name not in server_required:
                self.problems.append(f"{where}: the SDK requires it, the API may leave it out")
            prop = _without_null(props[name]) if name in filled else props[name]
            self.value(where, field, prop)
        for name in sorted(server_required - fields.keys() - READ_BY_CALL.get(server_name, set())):
            self.problems.append(f"{server_name}.{name} is required but no field of {model_name}")


def _model_classes() -> set[type[ApiModel]]:
    found: set[type[ApiModel]] = set()
    todo = [ApiModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def _answered(document: Schema) -> set[str]:
    """The schemas the API answers with (2xx), and every schema they refer to."""
    names: set[str] = set()
    todo: list[Any] = [
        response
        for operations in document["paths"].values()
        for operation in operations.values()
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
    ]
    schemas = document["components"]["schemas"]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in names:
                    names.add(name)
                    todo.append(schemas[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return names


def test_every_sdk_model_is_mapped_to_a_schema_the_api_answers_with(document: Schema) -> None:
    assert {model for model, _ in READS} == _model_classes()
    unanswered = sorted({name for _, name in READS} - _answered(document))
    assert unanswered == []


@pytest.mark.parametrize(
    ("model", "schema_name"), READS, ids=[f"{m.__name__}-{s}" for m, s in READS]
)
def test_the_sdk_model_reads_its_response_schema(
    model: type[ApiModel], schema_name: str, schemas: dict[str, Schema]
) -> None:
    model_schema = model.model_json_schema(by_alias=True)
    comparison = Comparison(model_schema.get("$defs", {}), schemas)
    comparison.fields(model.__name__, model_schema, schema_name, schemas[schema_name])
    assert not comparison.problems, "\n".join(comparison.problems)
