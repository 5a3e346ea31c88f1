"""What the command line says about itself: its version, and the provider types it names."""

from __future__ import annotations

from typer.testing import CliRunner

from modelplane import __version__
from modelplane.cli.llms import PROVIDER_TYPES
from modelplane.cli.main import app
from modelplane.domain.llm_types import ProviderType


def test_version_prints_the_version_and_exits() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"modelplane {__version__}\n"


def test_llms_create_names_exactly_the_provider_types_that_exist() -> None:
    assert PROVIDER_TYPES.split(", ") == [t.value for t in ProviderType]
    shown = " ".join(CliRunner().invoke(app, ["llms", "create", "--help"]).output.split())
    assert PROVIDER_TYPES in shown
    assert "ANTHROPIC" not in shown
