"""The gateway's numbers for `GET /metrics`, per operation, model name and member.

Labels stay bounded: operations are few, model names and members are what the registry
holds (a name that resolves to nothing is counted as `unknown`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.types import Scope

from modelplane.faces.metrics import Histogram, labels, number

if TYPE_CHECKING:
    from modelplane.faces.gateway.relay import Call

Key = tuple[str, str, str]  # operation, model, member


class GatewayMetrics:
    """Calls by status, their durations and overhead, tokens, and failed attempts."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str, str, int], int] = {}
        self.durations = Histogram("operation", "model", "member")
        self.overhead_sum = 0.0
        self.overhead_count = 0
        self.tokens: dict[tuple[str, str, str, str], int] = {}
        self.failures: dict[tuple[str, str, str], int] = {}
        self.broken_streams = 0

    def observe(self, call: Call, scope: Scope) -> None:
        """Count one finished call (and say what it did in the access log's fields)."""
        state = scope.setdefault("state", {})
        status = call.status
        key: Key = (call.operation.value, call.route.name, call.member or "none")
        self.calls[(*key, status)] = self.calls.get((*key, status), 0) + 1
        self.durations.observe(key, time.perf_counter() - call.started)
        self.overhead_sum += call.overhead_ms() / 1000
        self.overhead_count += 1
        for direction, value in (
            ("input", call.usage.input_tokens),
            ("output", call.usage.output_tokens),
        ):
            if value:
                token_key = (*key, direction)
                self.tokens[token_key] = self.tokens.get(token_key, 0) + value
        if call.broken is not None:
            self.broken_streams += 1
        state["log_fields"] = {
            "model": call.route.name,
            "target": call.member,
            "attempts": call.attempts,
            "overheadMs": round(call.overhead_ms(), 3),
            "inputTokens": call.usage.input_tokens,
            "outputTokens": call.usage.output_tokens,
            **({"streamBroken": call.broken} if call.broken else {}),
            **({"prompt": call.prompt} if call.prompt else {}),
        }

    def failed(self, call: Call, member: str, reason: str) -> None:
        """Count an attempt that moved on to the next member."""
        key = (call.operation.value, member, reason)
        self.failures[key] = self.failures.get(key, 0) + 1

    def render(self) -> list[str]:
        """The exposition lines."""
        lines = [
            "# HELP modelplane_gateway_calls_total Calls through the gateway, by final status.",
            "# TYPE modelplane_gateway_calls_total counter",
        ]
        for (operation, model, member, status), count in sorted(self.calls.items()):
            tags = labels(operation=operation, model=model, member=member, status=str(status))
            lines.append(f"modelplane_gateway_calls_total{{{tags}}} {count}")
        lines += self.durations.render(
            "modelplane_gateway_call_duration_seconds",
            "Time from a call's arrival to the end of its answer.",
        )
        lines += [
            "# HELP modelplane_gateway_overhead_seconds Time calls spent in modelplane itself.",
            "# TYPE modelplane_gateway_overhead_seconds summary",
            f"modelplane_gateway_overhead_seconds_sum {number(self.overhead_sum)}",
            f"modelplane_gateway_overhead_seconds_count {self.overhead_count}",
            "# HELP modelplane_gateway_tokens_total Tokens upstreams reported in their usage.",
            "# TYPE modelplane_gateway_tokens_total counter",
        ]
        for (operation, model, member, direction), count in sorted(self.tokens.items()):
            tags = labels(operation=operation, model=model, member=member, direction=direction)
            lines.append(f"modelplane_gateway_tokens_total{{{tags}}} {count}")
        lines += [
            "# HELP modelplane_gateway_failed_attempts_total Attempts that moved on to another.",
            "# TYPE modelplane_gateway_failed_attempts_total counter",
        ]
        for (operation, member, reason), count in sorted(self.failures.items()):
            tags = labels(operation=operation, member=member, reason=reason)
            lines.append(f"modelplane_gateway_failed_attempts_total{{{tags}}} {count}")
        lines += [
            "# HELP modelplane_gateway_broken_streams_total Streams ended with an error event.",
            "# TYPE modelplane_gateway_broken_streams_total counter",
            f"modelplane_gateway_broken_streams_total {self.broken_streams}",
        ]
        return lines
