"""The built-in catalog of well-known providers and their base URLs."""

from __future__ import annotations

from typing import Any

from modelplane.domain.provider_endpoints import Provider, provider_endpoints
from modelplane.faces.aliyun.rpc.call import Call, Operation


def _provider(provider: Provider) -> dict[str, Any]:
    return {
        "ProviderName": provider.provider_name,
        "Description": provider.description,
        "ProviderUrl": provider.provider_url,
        "Endpoints": [
            {
                "Name": e.name,
                "Description": e.description,
                "ApiType": e.api_type,
                "BaseUrl": e.base_url,
                "ProviderUrl": provider.provider_url,
                "Tags": list(e.tags),
            }
            for e in provider.endpoints
        ],
    }


async def list_model_provider_endpoints(call: Call) -> dict[str, Any]:
    """ListModelProviderEndpoints: the built-in catalog, or the one provider named."""
    return {"Data": [_provider(p) for p in provider_endpoints(call.params.text("ProviderName"))]}


OPERATIONS: dict[str, Operation] = {
    "ListModelProviderEndpoints": list_model_provider_endpoints,
}
