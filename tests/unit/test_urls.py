"""Endpoint URL validation and canonical form."""

from __future__ import annotations

import pytest

from modelplane.domain.errors import ViolationCollector
from modelplane.domain.urls import canonical_url, check_http_url


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("HTTPS://API.OpenAI.com/v1", "https://api.openai.com/v1"),
        ("https://api.openai.com:443/v1/", "https://api.openai.com/v1"),
        ("http://localhost:80/", "http://localhost"),
        ("http://localhost:8000/v1", "http://localhost:8000/v1"),
        ("https://host/V1/Chat", "https://host/V1/Chat"),
        ("http://[::1]:11434/v1/", "http://[::1]:11434/v1"),
        ("https://host:80/v1", "https://host:80/v1"),
    ],
)
def test_canonical_url_lowercases_host_drops_default_port_and_trailing_slash(
    given: str, canonical: str
) -> None:
    assert canonical_url(given) == canonical


@pytest.mark.parametrize(
    "bad",
    ["", "ftp://x", "//host/v1", "https://", "https://u:p@host", "http://host:99999", "a b"],
)
def test_check_http_url_refuses_non_http_or_credentials(bad: str) -> None:
    errors = ViolationCollector()
    check_http_url(bad, "endpointUrl", errors)
    assert errors.violations and errors.violations[0].field == "endpointUrl"


def test_check_http_url_accepts_absolute_http_urls() -> None:
    errors = ViolationCollector()
    check_http_url("http://127.0.0.1:8000/v1", "endpointUrl", errors)
    check_http_url("https://api.example.com", "endpointUrl", errors)
    assert errors.violations == []
