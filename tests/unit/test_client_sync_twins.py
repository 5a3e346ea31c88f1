"""The sync SDK is generated from the async one: `client/async_X.py` -> `client/X.py` by
scripts/unasync.py, and a twin that drifts from its async module fails here."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "src" / "modelplane" / "client"
COMMAND = "python scripts/unasync.py"


def _load_script() -> ModuleType:
    """scripts/unasync.py as a module."""
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


unasync = _load_script()


def test_every_sync_module_is_the_translation_of_its_async_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    twins = sorted(twin.name for _, twin in unasync.pairs(CLIENT))
    assert twins == ["all_pages.py", "applying.py", "clients.py", "limits.py", "resources.py"]
    if unasync.main(["--check"]) != 0:
        pytest.fail(capsys.readouterr().err, pytrace=False)


def test_each_twin_opens_saying_it_is_generated_from_which_file_by_which_command() -> None:
    for source, twin in unasync.pairs(CLIENT):
        first, second = twin.read_text(encoding="utf-8").splitlines()[:2]
        assert first == f"# Generated from src/modelplane/client/{source.name} by `{COMMAND}`."
        assert second.startswith("# Do not edit")


def test_the_check_exits_1_naming_each_twin_edited_by_hand_or_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for source, twin in unasync.pairs(CLIENT):
        shutil.copy(source, tmp_path)
        shutil.copy(twin, tmp_path)
    assert unasync.main(["--check", "--directory", str(tmp_path)]) == 0

    edited = tmp_path / "resources.py"
    edited.write_text(edited.read_text(encoding="utf-8").replace("-> Llm:", "-> Llm | None:"))
    (tmp_path / "all_pages.py").unlink()
    assert unasync.main(["--check", "--directory", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"resources.py differs from its async module: run `{COMMAND}`" in err
    assert "all_pages.py differs" in err
    assert "clients.py" not in err


def test_the_translation_turns_each_async_construct_into_its_sync_one() -> None:
    source = (
        "import asyncio\n"
        "from modelplane.client import async_all_pages\n"
        "from collections.abc import AsyncIterator\n"
        "\n"
        "class AsyncThing:\n"
        "    async def __aenter__(self) -> AsyncThing:\n"
        "        async with httpx.AsyncClient() as http:\n"
        "            await asyncio.sleep(1)\n"
        "            await http.aclose()\n"
        "        return self\n"
        "\n"
        "    async def items(self) -> AsyncIterator[int]:\n"
        "        async for page in async_all_pages.by_number(self.page):\n"
        "            for item in page.items:\n"
        "                yield item\n"
    )
    assert unasync.translate(source) == (
        "import time\n"
        "from modelplane.client import all_pages\n"
        "from collections.abc import Iterator\n"
        "\n"
        "class Thing:\n"
        "    def __enter__(self) -> Thing:\n"
        "        with httpx.Client() as http:\n"
        "            time.sleep(1)\n"
        "            http.close()\n"
        "        return self\n"
        "\n"
        "    def items(self) -> Iterator[int]:\n"
        "        for page in all_pages.by_number(self.page):\n"
        "            yield from page.items\n"
    )


def test_a_word_the_translation_leaves_async_is_refused_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "async_things.py").write_text('"""Things."""\n\n"""An asyncio client."""\n')
    assert unasync.main(["--check", "--directory", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "async_things.py: line 3 of the translation still says 'asyncio'" in err
