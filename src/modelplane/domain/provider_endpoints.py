"""A built-in catalog of well-known model providers and their API base URLs.

Answers `ListModelProviderEndpoints`; the data is `data/provider_endpoints.json`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from modelplane.domain.errors import ViolationCollector
from modelplane.domain.urls import check_http_url

API_TYPES = frozenset({"openai-compatible", "anthropic-compatible"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One base URL of a provider."""

    name: str
    description: str
    api_type: str
    base_url: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider, where to get its key, and its endpoints."""

    provider_name: str
    description: str
    provider_url: str
    endpoints: tuple[Endpoint, ...]


def parse(document: object) -> tuple[Provider, ...]:
    """Validate the catalog document; ValueError names the bad entry."""
    if not isinstance(document, list):
        raise ValueError("provider_endpoints.json must be a list")
    providers = []
    for n, raw in enumerate(document):
        errors = ViolationCollector()
        try:
            endpoints = tuple(
                Endpoint(
                    name=e["name"],
                    description=e["description"],
                    api_type=e["apiType"],
                    base_url=e["baseUrl"],
                    tags=tuple(e["tags"]),
                )
                for e in raw["endpoints"]
            )
            provider = Provider(
                provider_name=raw["providerName"],
                description=raw["description"],
                provider_url=raw["providerUrl"],
                endpoints=endpoints,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"provider_endpoints.json entry {n}: missing or bad {exc}") from None
        check_http_url(provider.provider_url, "providerUrl", errors)
        for endpoint in endpoints:
            check_http_url(endpoint.base_url, f"{endpoint.name}.baseUrl", errors)
            if endpoint.api_type not in API_TYPES:
                errors.add(f"{endpoint.name}.apiType", f"must be one of {sorted(API_TYPES)}")
        if not endpoints:
            errors.add("endpoints", "at least one")
        if errors.violations:
            problems = "; ".join(f"{v.field}: {v.rule}" for v in errors.violations)
            raise ValueError(
                f"provider_endpoints.json entry {n} ({provider.provider_name}): {problems}"
            )
        providers.append(provider)
    names = [p.provider_name for p in providers]
    if len(names) != len(set(names)):
        raise ValueError("provider_endpoints.json repeats a providerName")
    return tuple(providers)


@functools.cache
def all_providers() -> tuple[Provider, ...]:
    """Every provider of the built-in catalog (read once)."""
    text = (resources.files("modelplane.domain.data") / "provider_endpoints.json").read_text()
    return parse(json.loads(text))


def provider_endpoints(provider_name: str | None = None) -> list[Provider]:
    """The providers, or only the one named (an unknown name gives an empty list)."""
    providers = all_providers()
    if provider_name is None or not provider_name.strip():
        return list(providers)
    wanted = provider_name.strip().lower()
    return [p for p in providers if p.provider_name == wanted]
