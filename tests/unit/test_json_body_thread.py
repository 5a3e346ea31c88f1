"""A large request body is parsed off the event loop; a small one inline (json_input)."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest

from modelplane.faces import json_input


@pytest.mark.parametrize(
    ("size", "off_the_loop"), [(1_000, False), (json_input.INLINE_BYTES + 1, True)]
)
async def test_a_body_over_64_kib_is_parsed_in_another_thread(
    monkeypatch: pytest.MonkeyPatch, size: int, off_the_loop: bool
) -> None:
    threads: list[int] = []
    parse = json_input.parse_json

    def noted(raw: bytes | str, field: str = "body", **options: Any) -> Any:
        threads.append(threading.get_ident())
        return parse(raw, field, **options)

    monkeypatch.setattr(json_input, "parse_json", noted)
    body = orjson.dumps({"text": "x" * size})
    assert await json_input.parse_json_body(body) == {"text": "x" * size}
    assert (threads != [threading.get_ident()]) is off_the_loop
