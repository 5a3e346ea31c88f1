"""The baseline: a bare FastAPI app answering the same shapes with no auth and no store.

Run by `bench/read_llm.py` and `bench/prompts.py`; not part of the product.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

app = FastAPI()


def _llm(n: int) -> dict[str, Any]:
    return {
        "llmId": f"00000000-0000-4000-8000-{n:012d}",
        "displayName": f"bench model {n}",
        "description": None,
        "providerType": "OPENAI",
        "endpointUrl": "https://api.openai.com/v1",
        "apiPath": "/chat/completions",
        "modelIdentifier": "gpt-4o",
        "supportedModalities": ["TEXT", "IMAGE"],
        "labels": {"env": "bench", "n": str(n)},
        "version": None,
        "monitoringEndpoint": None,
        "capabilities": {
            "supportsChat": True,
            "supportsCompletion": False,
            "supportsFunctionCalling": True,
            "supportsSystemMessages": True,
            "supportsStreaming": True,
            "supportsSamplingParameters": True,
        },
        "defaultSamplingParams": None,
        "maxContextLength": 128000,
        "clientConfig": None,
        "dashscopeApiDialect": None,
        "hasCredentials": True,
        "ownerId": "00000000-0000-4000-8000-000000000000",
        "createdAt": 1_700_000_000_000 + n,
        "updatedAt": 1_700_000_000_000 + n,
        "createdById": "00000000-0000-4000-8000-000000000000",
        "updatedById": "00000000-0000-4000-8000-000000000000",
    }


@app.get("/v1/llms/{llm_id}")
async def get_llm(llm_id: str) -> dict[str, Any]:
    """One object, built per request like a handler would."""
    return _llm(1)


@app.get("/v1/llms")
async def list_llms() -> dict[str, Any]:
    """200 objects."""
    return {"llms": [_llm(n) for n in range(200)]}


_TEMPLATE = {
    "promptTemplateId": "0" * 32,
    "name": "bench template",
    "content": " ".join(f"Part {n}: ${{v{n}}}." for n in range(10)),
    "variables": [f"v{n}" for n in range(10)],
    "workspaceId": "llm-bench",
}
_PLACEHOLDER = re.compile(r"\$(\$?)\{([^\W\d][\w.-]{0,63})\}")


@app.get("/{workspace_id}/promptTemplates/{template_id}")
async def get_prompt_template(workspace_id: str, template_id: str) -> dict[str, Any]:
    """The bailian Get shape."""
    return {"requestId": "0" * 32, **_TEMPLATE}


@app.post("/v1/workspaces/{workspace_id}/prompt-templates/{template_id}:render")
async def render(workspace_id: str, template_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Fill the placeholders from the body's `variables`, as modelplane does."""
    values: dict[str, str] = body.get("variables", {})
    text = _PLACEHOLDER.sub(lambda m: values.get(m.group(2), m.group(0)), _TEMPLATE["content"])
    unused = [k for k in values if k not in _TEMPLATE["variables"]]
    return {"text": text, "variables": _TEMPLATE["variables"], "missing": [], "unused": unused}
