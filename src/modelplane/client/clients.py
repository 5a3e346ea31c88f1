"""`Client` and `AsyncClient`: an httpx client with the API key, and the resource groups.

    with Client("http://127.0.0.1:8080", api_key="mp_…") as client:
        llm = client.llms.get("…")

Both take `transport=` (an httpx transport, e.g. `httpx.MockTransport` in tests, or
`httpx.ASGITransport(app=app)` for `AsyncClient` in process).

A 429 is retried up to `max_retries` times (2 by default) after the wait its
`Retry-After` asks for: the server refused it before doing anything, so any method is
safe to send again. Nothing else is retried.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any, TypeVar

import httpx

from modelplane.client.async_resources import (
    AsyncAudit,
    AsyncConfigs,
    AsyncLlms,
    AsyncLlmTemplates,
    AsyncModelGroups,
    AsyncPrincipals,
    AsyncPrompts,
    AsyncProviderTemplates,
    AsyncWorkspaces,
)
from modelplane.client.calls import Call
from modelplane.client.errors import (
    ModelplaneError,
    ResourceExhausted,
    TransportError,
    error_from_response,
)
from modelplane.client.resources import (
    Audit,
    Configs,
    Llms,
    LlmTemplates,
    ModelGroups,
    Principals,
    Prompts,
    ProviderTemplates,
    Workspaces,
)

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
# A 429 asking for a longer wait than this is raised at once instead of waited out.
MAX_RETRY_WAIT = 30.0
USER_AGENT = "modelplane-python"


def _headers(api_key: str) -> dict[str, str]:
    return {"x-api-key": api_key, "accept": "application/json", "user-agent": USER_AGENT}


def _timeout(base: float, call: Call[Any]) -> httpx.Timeout:
    """The client's timeout; a long-poll may read `wait_seconds` longer."""
    return httpx.Timeout(base, read=base + call.wait_seconds)


def _retry_wait(error: ModelplaneError, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before sending again after `error`, or None to raise it.

    Only a 429 is sent again: its `Retry-After`, else 0.5 s doubling with each attempt.
    """
    if not isinstance(error, ResourceExhausted) or attempt >= max_retries:
        return None
    wait = error.retry_after if error.retry_after is not None else 0.5 * 2**attempt
    return wait if wait <= MAX_RETRY_WAIT else None


def _answer(call: Call[T], response: httpx.Response) -> T:
    if response.is_error:
        raise error_from_response(response)
    if response.status_code == 204 or not response.content:
        return call.parse(None)
    return call.parse(response.json())


class Client:
    """A synchronous client of the native API.

    `timeout` is in seconds, per request (long-polls of `configs.watch` get their wait
    on top); `max_retries` is how often a 429 is sent again (0: never). Use it as a
    context manager, or call `close()`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_retries = max_retries
        self._http = httpx.Client(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )
        self.llms = Llms(self._send)
        self.model_groups = ModelGroups(self._send)
        self.provider_templates = ProviderTemplates(self._send)
        self.llm_templates = LlmTemplates(self._send)
        self.workspaces = Workspaces(self._send)
        self.prompts = Prompts(self._send)
        self.configs = Configs(self._send)
        self.principals = Principals(self._send)
        self.audit = Audit(self._send)

    def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    timeout=_timeout(self._timeout, call),
                )
            except httpx.TransportError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc
            try:
                return _answer(call, response)
            except ModelplaneError as exc:
                wait = _retry_wait(exc, attempt, self._max_retries)
                if wait is None:
                    raise
            time.sleep(wait)
            attempt += 1

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient:
    """An asyncio client of the native API; the same groups, each method awaited.

    `timeout` is in seconds, per request (long-polls of `configs.watch` get their wait
    on top); `max_retries` is how often a 429 is sent again (0: never). Use it as an
    async context manager, or call `aclose()`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_retries = max_retries
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )
        self.llms = AsyncLlms(self._send)
        self.model_groups = AsyncModelGroups(self._send)
        self.provider_templates = AsyncProviderTemplates(self._send)
        self.llm_templates = AsyncLlmTemplates(self._send)
        self.workspaces = AsyncWorkspaces(self._send)
        self.prompts = AsyncPrompts(self._send)
        self.configs = AsyncConfigs(self._send)
        self.principals = AsyncPrincipals(self._send)
        self.audit = AsyncAudit(self._send)

    async def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    timeout=_timeout(self._timeout, call),
                )
            except httpx.TransportError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc
            try:
                return _answer(call, response)
            except ModelplaneError as exc:
                wait = _retry_wait(exc, attempt, self._max_retries)
                if wait is None:
                    raise
            await asyncio.sleep(wait)
            attempt += 1

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
