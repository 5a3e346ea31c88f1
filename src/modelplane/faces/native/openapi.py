"""The published OpenAPI document: the native routes plus their security schemes and links."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer mp_…`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
}
_PUBLIC = {"/healthz", "/readyz"}

# OpenAPI links: what a created resource can be used for next, as
# (method, path, status) -> {link name: (method, path, {parameter: runtime expression})}.
_LLM = {"llm_id": "$response.body#/llm/llmId"}
_PRINCIPAL = {"principal_id": "$response.body#/principalId"}
_GROUP = {"model_template_id": "$response.body#/modelTemplateId"}
_PROVIDER = {"provider_template_id": "$response.body#/providerTemplateId"}
_LLM_TEMPLATE = {"llm_template_id": "$response.body#/llmTemplateIds/0"}
_WORKSPACE = {"workspace_id": "$response.body#/workspaceId"}
_PROMPT = {
    "workspace_id": "$response.body#/workspaceId",
    "prompt_template_id": "$response.body#/promptTemplateId",
}
_CONFIG = {
    "cluster": "$request.path.cluster",
    "configType": "$request.path.configType",
    "name": "$request.path.name",
    "key": "$request.path.key",
}
_CONFIG_KEY = "/v1/configs/{cluster}/{configType}/{name}/{key}"
_PROMPT_ID = "/v1/workspaces/{workspace_id}/prompt-templates/{prompt_template_id}"
_CONFIG_LINKS = {
    "GetConfig": ("get", _CONFIG_KEY, _CONFIG),
    "PutConfig": ("put", _CONFIG_KEY, _CONFIG),
    "DeleteConfig": ("delete", _CONFIG_KEY, _CONFIG),
    "GetConfigHistory": ("get", _CONFIG_KEY + "/history", _CONFIG),
}
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", "/v1/llms", "201"): {
        "GetLlm": ("get", "/v1/llms/{llm_id}", _LLM),
        "UpdateLlm": ("put", "/v1/llms/{llm_id}", _LLM),
        "DeleteLlm": ("delete", "/v1/llms/{llm_id}", _LLM),
        "GetCredentials": ("get", "/v1/llms/{llm_id}/credentials", _LLM),
        "VerifyCredentials": ("post", "/v1/llms/{llm_id}/credentials:verify", _LLM),
    },
    ("post", "/v1/principals", "201"): {
        "GetPrincipal": ("get", "/v1/principals/{principal_id}", _PRINCIPAL),
        "DeletePrincipal": ("delete", "/v1/principals/{principal_id}", _PRINCIPAL),
        "CreateApiKey": ("post", "/v1/principals/{principal_id}/api-keys", _PRINCIPAL),
        "ListApiKeys": ("get", "/v1/principals/{principal_id}/api-keys", _PRINCIPAL),
        "CreateAccessKey": ("post", "/v1/principals/{principal_id}/access-keys", _PRINCIPAL),
        "ListAccessKeys": ("get", "/v1/principals/{principal_id}/access-keys", _PRINCIPAL),
    },
    ("post", "/v1/principals/{principal_id}/api-keys", "201"): {
        "RevokeApiKey": (
            "delete",
            "/v1/principals/{principal_id}/api-keys/{api_key_id}",
            {
                "principal_id": "$response.body#/apiKey/principalId",
                "api_key_id": "$response.body#/apiKey/apiKeyId",
            },
        ),
    },
    ("post", "/v1/principals/{principal_id}/access-keys", "201"): {
        "RevokeAccessKey": (
            "delete",
            "/v1/principals/{principal_id}/access-keys/{access_key_id}",
            {
                "principal_id": "$response.body#/principalId",
                "access_key_id": "$response.body#/accessKeyId",
            },
        ),
    },
    ("post", "/v1/model-groups", "201"): {
        "GetModelGroup": ("get", "/v1/model-groups/{model_template_id}", _GROUP),
        "UpdateModelGroup": ("patch", "/v1/model-groups/{model_template_id}", _GROUP),
        "DeleteModelGroup": ("delete", "/v1/model-groups/{model_template_id}", _GROUP),
        "BindRuntimes": ("post", "/v1/model-groups/{model_template_id}/runtimes", _GROUP),
        "UnbindRuntimes": ("post", "/v1/model-groups/{model_template_id}/runtimes:remove", _GROUP),
    },
    ("post", "/v1/provider-templates", "201"): {
        "GetProviderTemplate": ("get", "/v1/provider-templates/{provider_template_id}", _PROVIDER),
        "UpdateProviderTemplate": (
            "patch",
            "/v1/provider-templates/{provider_template_id}",
            _PROVIDER,
        ),
        "DeleteProviderTemplate": (
            "delete",
            "/v1/provider-templates/{provider_template_id}",
            _PROVIDER,
        ),
        "VerifyApiKey": (
            "post",
            "/v1/provider-templates/{provider_template_id}:verifyApiKey",
            _PROVIDER,
        ),
    },
    ("post", "/v1/llm-templates:batchCreate", "200"): {
        "GetFirstLlmTemplate": ("get", "/v1/llm-templates/{llm_template_id}", _LLM_TEMPLATE),
        "DeleteFirstLlmTemplate": (
            "delete",
            "/v1/llm-templates/{llm_template_id}",
            _LLM_TEMPLATE,
        ),
    },
    ("post", "/v1/workspaces", "201"): {
        "GetWorkspace": ("get", "/v1/workspaces/{workspace_id}", _WORKSPACE),
        "RenameWorkspace": ("patch", "/v1/workspaces/{workspace_id}", _WORKSPACE),
        "DeleteWorkspace": ("delete", "/v1/workspaces/{workspace_id}", _WORKSPACE),
        "ListMembers": ("get", "/v1/workspaces/{workspace_id}/members", _WORKSPACE),
        "CreatePromptTemplate": (
            "post",
            "/v1/workspaces/{workspace_id}/prompt-templates",
            _WORKSPACE,
        ),
        "ListPromptTemplates": (
            "get",
            "/v1/workspaces/{workspace_id}/prompt-templates",
            _WORKSPACE,
        ),
    },
    ("post", "/v1/workspaces/{workspace_id}/prompt-templates", "201"): {
        "GetPromptTemplate": ("get", _PROMPT_ID, _PROMPT),
        "UpdatePromptTemplate": ("patch", _PROMPT_ID, _PROMPT),
        "DeletePromptTemplate": ("delete", _PROMPT_ID, _PROMPT),
        "ListVersions": ("get", _PROMPT_ID + "/versions", _PROMPT),
        "RenderPromptTemplate": ("post", _PROMPT_ID + ":render", _PROMPT),
    },
    ("put", _CONFIG_KEY, "201"): _CONFIG_LINKS,
    ("put", _CONFIG_KEY, "200"): _CONFIG_LINKS,
}


def add_links(schema: dict[str, Any]) -> None:
    """Declare `LINKS` on the responses they start from (each target by its operationId)."""
    paths = schema.get("paths", {})
    for (method, path, status), links in LINKS.items():
        response = paths[path][method]["responses"][status]
        response["links"] = {
            name: {
                "operationId": paths[target_path][target_method]["operationId"],
                "parameters": parameters,
            }
            for name, (target_method, target_path, parameters) in links.items()
        }


def install(app: FastAPI) -> None:
    """Replace `app.openapi` with one that declares how every /v1 route authenticates."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = _SCHEMES
            for path, operations in schema.get("paths", {}).items():
                if path in _PUBLIC:
                    continue
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
            add_links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
