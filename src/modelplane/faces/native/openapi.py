"""The published OpenAPI document, and the pages that show it (/docs, /redoc).

The pages load Swagger UI's and ReDoc's scripts and styles from modelplane itself, under
`ASSETS`, from the files the installed `fastapi-offline` package ships: they work on a
machine without the internet, and nothing third-party is copied into this repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

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


DOCS, REDOC = "/docs", "/redoc"
ASSETS = "/docs/assets"  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png
_ASSET_FILES = Path(fastapi_offline.__file__).parent / "static"
# Swagger UI's default validator badge sends the document to validator.swagger.io: off.
_SWAGGER_PARAMETERS: dict[str, Any] = {"validatorUrl": None}


@cache
def documentation_routes(openapi_url: str) -> tuple[BaseRoute, ...]:
    """The /docs and /redoc pages and their assets, all served from this process (built once)."""

    def assets(request: Request) -> str:
        return str(request.scope.get("root_path", "")) + ASSETS

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", ""))
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title="modelplane - Swagger UI",
            swagger_js_url=f"{assets(request)}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets(request)}/swagger-ui.css",
            swagger_favicon_url=f"{assets(request)}/favicon.png",
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", ""))
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title="modelplane - ReDoc",
            redoc_js_url=f"{assets(request)}/redoc.standalone.js",
            redoc_favicon_url=f"{assets(request)}/favicon.png",
            with_google_fonts=False,
        )

    return (
        Route(DOCS, swagger_ui, methods=["GET"], include_in_schema=False),
        Route(REDOC, redoc, methods=["GET"], include_in_schema=False),
        Mount(ASSETS, StaticFiles(directory=_ASSET_FILES, check_dir=True), name="docs-assets"),
    )
