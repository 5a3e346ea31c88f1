"""What the catalog commands decide before and after they call the server: the provider
types they offer, the shape of a batch file, and which row of a batch got which model."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from modelplane.cli.llm_templates import batch_items, batch_rows
from modelplane.cli.main import app
from modelplane.cli.provider_templates import ProviderType
from modelplane.cli.remote import CommandError
from modelplane.client import BatchResult, SkippedItem
from modelplane.domain.catalog import EXISTS_REASON, REPEAT_REASON, ProviderKind


def test_providers_add_offers_exactly_the_provider_types_that_exist() -> None:
    assert [t.value for t in ProviderType] == [k.value for k in ProviderKind]
    shown = CliRunner().invoke(app, ["model-groups", "providers", "add", "--help"]).output
    assert "Managed|Custom|WuyingCredit" in shown


def test_a_batch_file_is_a_list_of_codes_or_objects() -> None:
    items = batch_items(["a", {"llmCode": "b", "name": None, "isDefaultModel": True}], "f")
    assert items == [{"llmCode": "a"}, {"llmCode": "b", "isDefaultModel": True}]


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        ({"items": []}, ["f: must hold a list of models, not an object"]),
        (None, ["f: must hold a list of models, not nothing"]),
        ([], ["f: holds no models"]),
        (
            [{"llmCode": 1, "config": [], "isDefaultModel": "yes"}, 7, {"name": "x"}],
            [
                "items.0.llmCode: must be text",
                "items.0.config: must be an object",
                "items.0.isDefaultModel: must be true or false",
                "items.1: must be a code or an object with llmCode",
                "items.2.llmCode: required",
            ],
        ),
        ([{"llmCode": "a", "code": "b"}], ["items.0.code: unknown field; expected llmCode"]),
    ],
)
def test_a_batch_file_names_every_problem_of_its_shape(data: object, problems: list[str]) -> None:
    with pytest.raises(CommandError) as refused:
        batch_items(data, "f")
    assert refused.value.exit_code == 2
    for problem in problems:
        assert problem in refused.value.message


def test_each_row_of_a_batch_names_the_model_made_or_why_it_was_skipped() -> None:
    items = [{"llmCode": c} for c in ("a", "old", "b", "a", "old")]
    result = BatchResult(
        llm_template_ids=("llmt-a", "llmt-b"),
        success_count=2,
        total_count=5,
        skipped_items=(
            SkippedItem(llm_code="old", reason=EXISTS_REASON),
            SkippedItem(llm_code="a", reason=REPEAT_REASON),
            SkippedItem(llm_code="old", reason=EXISTS_REASON),
        ),
    )
    assert batch_rows(items, result) == [
        ["a", "llmt-a", "created"],
        ["old", "", f"skipped: {EXISTS_REASON}"],
        ["b", "llmt-b", "created"],
        ["a", "", f"skipped: {REPEAT_REASON}"],
        ["old", "", f"skipped: {EXISTS_REASON}"],
    ]
