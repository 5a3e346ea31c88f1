"""The client of the native API: an httpx client with the API key, and the resource groups.

    async with AsyncClient("http://127.0.0.1:8080", api_key="mp_…") as client:
        llm = await client.llms.get("…")

It takes `transport=` (an httpx transport, e.g. `httpx.MockTransport` in tests). How a
call is sent, and when a 429 is sent again, is in `sending`.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TypeVar

import httpx

from modelplane.client import async_applying, async_limits, async_resources, sending
from modelplane.client.calls import Call
from modelplane.client.errors import ModelplaneError, TransportError

T = TypeVar("T")


class AsyncClient:
    """A client of the native API: its groups (`llms`, `model_groups`, …) send the calls.

    `timeout` is in seconds, per request (long-polls of `configs.watch` get their wait
    on top); `max_retries` is how often a 429 is sent again (0: never). Use it in
    `async with`, or call `aclose()`. `key_prefix` is the start of the API key it calls
    with, as key listings show it (`ApiKey.key_prefix`), to tell that key among others.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = sending.DEFAULT_TIMEOUT,
        max_retries: int = sending.DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_retries = max_retries
        self.key_prefix = sending.key_prefix(api_key)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=sending.headers(api_key),
            timeout=timeout,
            transport=transport,
        )
        self.llms = async_resources.AsyncLlms(self._send)
        self.model_groups = async_resources.AsyncModelGroups(self._send)
        self.provider_templates = async_resources.AsyncProviderTemplates(self._send)
        self.llm_templates = async_resources.AsyncLlmTemplates(self._send)
        self.workspaces = async_resources.AsyncWorkspaces(self._send)
        self.prompts = async_resources.AsyncPrompts(self._send)
        self.configs = async_resources.AsyncConfigs(self._send)
        self.principals = async_resources.AsyncPrincipals(self._send)
        self.audit = async_resources.AsyncAudit(self._send)
        self.limits = async_limits.AsyncLimits(self._send)
        self.usage = async_resources.AsyncUsage(self._send)
        self.stacks = async_applying.AsyncStacks(self._send)

    async def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    timeout=sending.timeout(self._timeout, call),
                )
            except httpx.TransportError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc
            try:
                return sending.answer(call, response)
            except ModelplaneError as exc:
                wait = sending.retry_wait(exc, attempt, self._max_retries)
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
