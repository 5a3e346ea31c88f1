"""What the command line says about itself: its version, the provider types it names, and
its command groups."""

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


def test_parameters_have_one_command_group_and_sync_is_in_it() -> None:
    listed = CliRunner().invoke(app, ["--help"]).output
    groups = {line.split()[0] for line in listed.splitlines() if line.startswith("  ")}
    assert "configs" in groups and "config" not in groups  # the old name is hidden
    assert "sync" in CliRunner().invoke(app, ["configs", "--help"]).output
    sync_help = " ".join(CliRunner().invoke(app, ["configs", "sync", "--help"]).output.split())
    assert "env var: MODELPLANE_URL" in sync_help
    assert "env var: MODELPLANE_TOKEN" in sync_help
