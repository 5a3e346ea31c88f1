"""How `Client` and `AsyncClient` send a call: headers, timeouts, the retry of a 429 and
reading the answer, the same for both.

A 429 is retried up to `max_retries` times (2 by default) after the wait its
`Retry-After` asks for: the server refused it before doing anything, so any method is
safe to send again. Nothing else is retried.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from modelplane.client.calls import Call
from modelplane.client.errors import ModelplaneError, ResourceExhausted, error_from_response

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
# A 429 asking for a longer wait than this is raised at once instead of waited out.
MAX_RETRY_WAIT = 30.0
USER_AGENT = "modelplane-python"
KEY_PREFIX_LENGTH = 10  # how many first characters of a key its listings show (keyPrefix)


def headers(api_key: str) -> dict[str, str]:
    """The headers of every request: the API key, JSON, the SDK's user agent."""
    return {"x-api-key": api_key, "accept": "application/json", "user-agent": USER_AGENT}


def key_prefix(api_key: str) -> str:
    """The first characters of an API key, as the server's key listings show them."""
    return api_key[:KEY_PREFIX_LENGTH]


def timeout(base: float, call: Call[Any]) -> httpx.Timeout:
    """The client's timeout; a long-poll may read `wait_seconds` longer."""
    return httpx.Timeout(base, read=base + call.wait_seconds)


def retry_wait(error: ModelplaneError, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before sending again after `error`, or None to raise it.

    Only a 429 is sent again: its `Retry-After`, else 0.5 s doubling with each attempt.
    """
    if not isinstance(error, ResourceExhausted) or attempt >= max_retries:
        return None
    wait = error.retry_after if error.retry_after is not None else 0.5 * 2**attempt
    return wait if wait <= MAX_RETRY_WAIT else None


def answer(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer of `call`, or the `ModelplaneError` of an error response."""
    if response.is_error:
        raise error_from_response(response)
    if response.status_code == 204 or not response.content:
        return call.parse(None)
    return call.parse(response.json())
