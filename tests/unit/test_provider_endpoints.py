"""The built-in catalog of provider endpoints (ListModelProviderEndpoints)."""

from __future__ import annotations

import pytest

from modelplane.domain.provider_endpoints import all_providers, parse, provider_endpoints


def test_every_packaged_entry_is_valid_and_well_known_providers_are_there() -> None:
    names = {p.provider_name for p in all_providers()}
    assert {"bailian", "openai", "anthropic", "deepseek", "moonshot", "gemini"} <= names


def test_a_provider_is_found_by_name_case_insensitively() -> None:
    found = provider_endpoints("Bailian")
    assert [p.provider_name for p in found] == ["bailian"]
    assert any(e.base_url.startswith("https://dashscope") for e in found[0].endpoints)


def test_no_name_lists_all_and_an_unknown_name_lists_none() -> None:
    assert len(provider_endpoints()) == len(all_providers())
    assert provider_endpoints("no-such-provider") == []


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({}, "must be a list"),
        ([{"providerName": "x"}], "entry 0"),
        (
            [
                {
                    "providerName": "x",
                    "description": "",
                    "providerUrl": "https://x.test",
                    "endpoints": [
                        {
                            "name": "a",
                            "description": "",
                            "apiType": "soap",
                            "baseUrl": "https://x.test/v1",
                            "tags": [],
                        }
                    ],
                }
            ],
            "apiType",
        ),
    ],
)
def test_a_bad_document_is_refused_with_the_entry_named(document: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse(document)
