# Generated from src/modelplane/client/async_clients.py by `python scripts/unasync.py`.
# Do not edit: change the async module and run the command again.
"""The client of the native API: an httpx client with the API key, and the resource groups.

    with Client("http://127.0.0.1:8080", api_key="mp_…") as client:
        llm = client.llms.get("…")

It takes `transport=` (an httpx transport, e.g. `httpx.MockTransport` in tests). How a
call is sent, and when a 429 is sent again, is in `sending`.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TypeVar

import httpx

from modelplane.client import applying, limits, resources, sending
from modelplane.client.calls import Call
from modelplane.client.errors import ModelplaneError, TransportError

T = TypeVar("T")


class Client:
    """A client of the native API: its groups (`llms`, `model_groups`, …) send the calls.

    `timeout` is in seconds, per request (long-polls of `configs.watch` get their wait
    on top); `max_retries` is how often a 429 is sent again (0: never). Use it in
    `with`, or call `close()`. `key_prefix` is the start of the API key it calls
    with, as key listings show it (`ApiKey.key_prefix`), to tell that key among others.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = sending.DEFAULT_TIMEOUT,
        max_retries: int = sending.DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_retries = max_retries
        self.key_prefix = sending.key_prefix(api_key)
        self._http = httpx.Client(
            base_url=base_url,
            headers=sending.headers(api_key),
            timeout=timeout,
            transport=transport,
        )
        self.llms = resources.Llms(self._send)
        self.model_groups = resources.ModelGroups(self._send)
        self.provider_templates = resources.ProviderTemplates(self._send)
        self.llm_templates = resources.LlmTemplates(self._send)
        self.workspaces = resources.Workspaces(self._send)
        self.prompts = resources.Prompts(self._send)
        self.configs = resources.Configs(self._send)
        self.principals = resources.Principals(self._send)
        self.audit = resources.Audit(self._send)
        self.limits = limits.Limits(self._send)
        self.usage = resources.Usage(self._send)
        self.stacks = applying.Stacks(self._send)

    def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(
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
