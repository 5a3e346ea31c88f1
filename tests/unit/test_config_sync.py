"""The file `modelplane config sync` writes: JSON values as JSON, atomic replacement."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modelplane.cli.config_sync import parse_value, render_properties, write_atomically


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10", 10),
        ("0.7", 0.7),
        ("true", True),
        ("null", None),
        ('"quoted"', "quoted"),
        ('{"name": "gpt-4"}', {"name": "gpt-4"}),
        ('["a", 1]', ["a", 1]),
        ("hello world", "hello world"),
        ("{oops", "{oops"),
        ("", ""),
        ("NaN", "NaN"),
        ("-Infinity", "-Infinity"),
        ("1 2", "1 2"),
    ],
)
def test_values_that_parse_as_json_are_json_the_others_strings(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_the_file_holds_properties_in_the_order_given() -> None:
    data = render_properties(
        [{"key": "b/x", "value": "1"}, {"key": "a", "value": "é"}, {"key": "c", "value": "[1]"}]
    )
    assert data.endswith(b"\n")
    assert list(json.loads(data)["properties"].items()) == [("b/x", 1), ("a", "é"), ("c", [1])]
    assert "é" in data.decode()


def test_write_replaces_atomically_keeps_the_mode_and_skips_same_content(tmp_path: Path) -> None:
    out = tmp_path / "service.json"
    assert write_atomically(out, b"one\n")
    assert out.read_bytes() == b"one\n"
    os.chmod(out, 0o640)
    inode = out.stat().st_ino
    assert write_atomically(out, b"two\n")
    assert out.read_bytes() == b"two\n"
    assert out.stat().st_ino != inode  # a new file renamed over the old one
    assert out.stat().st_mode & 0o777 == 0o640
    assert not write_atomically(out, b"two\n")
    assert [p.name for p in tmp_path.iterdir()] == ["service.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "service.json"
    write_atomically(out, b"old\n")
    missing = tmp_path / "gone" / "service.json"
    with pytest.raises(FileNotFoundError):
        write_atomically(missing, b"new\n")
    assert out.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["service.json"]
