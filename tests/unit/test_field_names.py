"""Each Alibaba face spells the core's field paths by its one table, where it renders errors."""

from __future__ import annotations

import pytest

from modelplane.domain.errors import FieldViolation, InvalidArgument, NotFound, ViolationCollector
from modelplane.faces.aliyun.roa.eas_errors import FIELD_NAMES as EAS
from modelplane.faces.aliyun.rpc.errors import FIELD_NAMES as RPC


@pytest.mark.parametrize(
    ("core", "rpc"),
    [
        ("providerName", "ProviderName"),
        ("pageNumber", "PageNumber"),
        ("items", "LlmTemplateItems"),
        ("items.0.llmCode", "LlmTemplateItems.1.LlmCode"),
        ("items.9.config", "LlmTemplateItems.10.Config"),
        ("items.1.config.a.0", "LlmTemplateItems.2.Config.a.0"),  # inside a free-form object
        ("runtimeIds.0", "RuntimeIds.1"),
        ("config.defaults.model.primary", "Config.defaults.model.primary"),
        ("config.Token", "Config.Token"),
        # What the face itself named in its own spelling stays as it is.
        ("LlmTemplateItems.2.LlmCode", "LlmTemplateItems.2.LlmCode"),
        ("Config.a.b.0", "Config.a.b.0"),
        ("Body", "Body"),
    ],
)
def test_the_rpc_face_spells_paths_as_its_parameters(core: str, rpc: str) -> None:
    assert RPC.path(core) == rpc


@pytest.mark.parametrize(
    ("core", "eas"),
    [("cluster", "ClusterId"), ("key", "ConfigKey"), ("value", "Value"), ("page", "Page")],
)
def test_the_eas_face_spells_paths_as_its_api(core: str, eas: str) -> None:
    assert EAS.path(core) == eas


def test_an_error_gets_its_fields_and_its_message_in_the_faces_spelling() -> None:
    errors = ViolationCollector()
    errors.add("items.1.llmCode", "required")
    errors.add("pageSize", "must be 1..500")
    with pytest.raises(InvalidArgument) as caught:
        errors.raise_if_any()
    spelled = RPC.error(caught.value)
    assert isinstance(spelled, InvalidArgument)
    assert [(v.field, v.rule) for v in spelled.violations] == [
        ("LlmTemplateItems.2.LlmCode", "required"),
        ("PageSize", "must be 1..500"),
    ]
    assert spelled.message == "LlmTemplateItems.2.LlmCode: required; PageSize: must be 1..500"


def test_an_error_with_nothing_to_rename_is_the_same_error() -> None:
    own = InvalidArgument.of("LlmTemplateItems.1", "must be an object")
    assert RPC.error(own) is own
    gone = NotFound("ModelTemplate", "mt-1")
    assert RPC.error(gone) is gone


def test_a_message_in_its_own_words_is_kept() -> None:
    worded = InvalidArgument("pages are too large", violations=[FieldViolation("pageSize", "x")])
    spelled = RPC.error(worded)
    assert isinstance(spelled, InvalidArgument)
    assert (spelled.message, spelled.violations[0].field) == ("pages are too large", "PageSize")
