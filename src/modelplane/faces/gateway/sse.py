"""Reading an upstream's event stream only as far as the gateway must.

The relay passes events on as they complete, byte for byte. Of each event it reads only
its `data` (and `event` name) to learn three things: whether the stream has ended as the
API ends it (`data: [DONE]` for chat and completions; `response.completed`,
`response.incomplete` or `response.failed` for responses; `message_stop` for Anthropic),
whether an event is malformed (data that is not JSON), and the token usage it reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from modelplane.domain.gateway import Operation

DONE = b"[DONE]"
RESPONSE_ENDS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_SEPARATORS = (b"\r\n\r\n", b"\n\n", b"\r\r")
MAX_EVENT_BYTES = 16 * 1024 * 1024  # one event held back while it completes, at most


@dataclass
class Usage:
    """Tokens an upstream reported for one call (None where it reported nothing), as its
    family counts them: OpenAI's input includes the cached tokens, Anthropic's does not."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None

    def take(self, usage: Any) -> None:
        """Note the counts of an OpenAI or Anthropic `usage` object."""
        if not isinstance(usage, dict):
            return
        for names, attr in _COUNTS:
            for name in names:
                value = usage.get(name)
                if isinstance(value, int) and not isinstance(value, bool):
                    setattr(self, attr, value)
        for name in ("prompt_tokens_details", "input_tokens_details"):  # OpenAI's cached
            details = usage.get(name)
            value = details.get("cached_tokens") if isinstance(details, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                self.cache_read_tokens = value


# (names in `usage`, attribute): OpenAI's and Anthropic's names, and DeepSeek's cache hits.
_COUNTS = (
    (("prompt_tokens", "input_tokens"), "input_tokens"),
    (("completion_tokens", "output_tokens"), "output_tokens"),
    (("cache_read_input_tokens", "prompt_cache_hit_tokens"), "cache_read_tokens"),
    (("cache_creation_input_tokens",), "cache_write_tokens"),
)


@dataclass
class EventScanner:
    """Splits stream bytes into whole events and reads what the gateway must know."""

    operation: Operation
    usage: Usage = field(default_factory=Usage)
    ended: bool = False
    malformed: str | None = None
    _pending: bytes = b""

    def feed(self, chunk: bytes) -> bytes:
        """The whole events that `chunk` completes (the rest waits for more bytes); stops
        at the first malformed event (`malformed` says why) or after the end."""
        self._pending += chunk
        whole = bytearray()
        while not self.ended and self.malformed is None:
            cut = _boundary(self._pending)
            if cut is None:
                break
            end, width = cut
            event = self._pending[: end + width]
            self._pending = self._pending[end + width :]
            self._read(event)
            if self.malformed is None:
                whole += event
        if len(self._pending) > MAX_EVENT_BYTES and self.malformed is None:
            self.malformed = f"the upstream sent an event of more than {MAX_EVENT_BYTES} bytes"
        return bytes(whole)

    @property
    def leftover(self) -> bytes:
        """Bytes of an event that never completed."""
        return self._pending

    def _read(self, event: bytes) -> None:
        name, data = _fields(event)
        if data is None:
            return  # a comment or a heartbeat
        if data == DONE:
            if self.operation in (Operation.CHAT, Operation.COMPLETIONS):
                self.ended = True
            return
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.malformed = "the upstream sent an event whose data is not JSON"
            return
        if not isinstance(payload, dict):
            return
        kind = name or payload.get("type")
        if self.operation is Operation.MESSAGES:
            self._anthropic(kind, payload)
        elif self.operation is Operation.RESPONSES:
            if kind in RESPONSE_ENDS:
                response = payload.get("response")
                self.usage.take(response.get("usage") if isinstance(response, dict) else None)
                self.ended = True
        else:
            self.usage.take(payload.get("usage"))

    def _anthropic(self, kind: Any, payload: dict[str, Any]) -> None:
        if kind == "message_start":
            message = payload.get("message")
            self.usage.take(message.get("usage") if isinstance(message, dict) else None)
        elif kind == "message_delta":
            self.usage.take(payload.get("usage"))
        elif kind == "message_stop":
            self.ended = True


def _boundary(buffer: bytes) -> tuple[int, int] | None:
    """Where the first event of `buffer` ends: (index, separator width), or None."""
    found = [(buffer.find(sep), len(sep)) for sep in _SEPARATORS]
    found = [(at, width) for at, width in found if at >= 0]
    return min(found) if found else None


def _fields(event: bytes) -> tuple[str | None, bytes | None]:
    """The `event` name and the joined `data` of one event (None when it has no data)."""
    name: str | None = None
    data: list[bytes] = []
    for line in event.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[5:].removeprefix(b" "))
        elif line.startswith(b"event:"):
            name = line[6:].strip().decode("utf-8", "replace")
    return name, (b"\n".join(data) if data else None)
