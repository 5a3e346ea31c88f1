"""What an operation gets: the parameters of one authenticated call and the services' needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from modelplane.domain.principals import Principal
from modelplane.faces.aliyun.rpc.wire import Params
from modelplane.security.secretbox import SecretBox
from modelplane.store.uow import Store


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated RPC call (`public_url`: where the gateway is reached, if known)."""

    params: Params
    actor: Principal
    store: Store
    secrets: SecretBox
    public_url: str | None = None


# An operation parses its parameters, calls one service and returns the response body
# without `RequestId` (the endpoint adds it).
Operation = Callable[[Call], Awaitable[dict[str, Any]]]
