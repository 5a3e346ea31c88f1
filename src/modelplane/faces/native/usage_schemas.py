"""The native spelling of usage: a report's groups and a page of records."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from modelplane.domain.usage import GroupBy, Totals, UsageRecord, day_text
from modelplane.services.usage import RecordPage, UsageReport

# A group's values by the wire name of their group.
GROUP_FIELDS = {
    GroupBy.DAY: "day",
    GroupBy.PRINCIPAL: "principalId",
    GroupBy.KEY: "apiKeyId",
    GroupBy.MODEL: "model",
    GroupBy.MEMBER: "member",
}


class UsageGroupOut(BaseModel):
    """Usage summed over one group: the values of the groups asked for, then the sums."""

    day: str | None = Field(default=None, description="YYYY-MM-DD (UTC), grouped by day")
    principalId: str | None = Field(default=None, description="Grouped by principal")
    apiKeyId: str | None = Field(
        default=None, description="Grouped by key (null: calls whose key is gone)"
    )
    model: str | None = Field(default=None, description="The model name as called")
    member: str | None = Field(default=None, description="The member that answered")
    calls: int
    streamedCalls: int
    inputTokens: int = Field(description="Every input token, cached ones included")
    outputTokens: int
    cachedTokens: int = Field(description="Input tokens read from a prompt cache")
    cacheWriteTokens: int = Field(description="Input tokens written to a prompt cache")
    cost: float | None = Field(
        description="The cost of the calls with a price, in the prices' unit; null when "
        "none had one"
    )
    unpricedCalls: int = Field(description="Calls without a price (not in cost)")
    latencyMsAvg: float | None = Field(description="Mean time from arrival to the last byte")


class UsageReportOut(BaseModel):
    """A page of usage groups, in group order (day first)."""

    from_: str = Field(alias="from", description="The first day, YYYY-MM-DD (UTC)")
    to: str = Field(description="The last day, inclusive")
    groupBy: list[str]
    groups: list[UsageGroupOut]
    nextPageToken: str | None = None


class UsageRecordOut(BaseModel):
    """One gateway call."""

    at: int = Field(description="When it ended, epoch ms")
    principalId: str
    apiKeyId: str | None = None
    model: str
    member: str | None = Field(default=None, description="null: no member was tried")
    operation: str
    status: int = Field(description="The status answered; 499 when no answer began")
    streamed: bool
    inputTokens: int
    outputTokens: int
    cachedTokens: int
    cacheWriteTokens: int
    cost: float | None = Field(description="null when no price was known")
    latencyMs: float
    requestId: str | None = None
    prompt: str | None = Field(
        default=None, description="`TEMPLATE_ID@VERSION` of the prompt template that served it"
    )


class UsageRecordPageOut(BaseModel):
    """A page of usage records, newest first."""

    records: list[UsageRecordOut]
    nextPageToken: str | None = None


def _sums(totals: Totals) -> dict[str, Any]:
    return {
        "calls": totals.calls,
        "streamedCalls": totals.streamed_calls,
        "inputTokens": totals.input_tokens,
        "outputTokens": totals.output_tokens,
        "cachedTokens": totals.cache_read_tokens,
        "cacheWriteTokens": totals.cache_write_tokens,
        "cost": totals.cost,
        "unpricedCalls": totals.unpriced_calls,
        "latencyMsAvg": totals.latency_us / totals.calls / 1000 if totals.calls else None,
    }


def render_report(report: UsageReport) -> dict[str, Any]:
    """A report in the native spelling."""
    return {
        "from": day_text(report.first_day),
        "to": day_text(report.last_day),
        "groupBy": [group.value for group in report.group_by],
        "groups": [
            {GROUP_FIELDS[g]: value for g, value in group.values.items()} | _sums(group.totals)
            for group in report.groups
        ],
        "nextPageToken": report.next_page_token,
    }


def _record(record: UsageRecord) -> dict[str, Any]:
    """A record in the native spelling (in a page of records)."""
    cost = None if record.cost_nanos is None else record.cost_nanos / 1_000_000_000
    return {
        "at": record.at,
        "principalId": record.principal_id,
        "apiKeyId": record.api_key_id,
        "model": record.model,
        "member": record.member,
        "operation": record.operation,
        "status": record.status,
        "streamed": record.streamed,
        "inputTokens": record.tokens.input,
        "outputTokens": record.tokens.output,
        "cachedTokens": record.tokens.cache_read,
        "cacheWriteTokens": record.tokens.cache_write,
        "cost": cost,
        "latencyMs": record.latency_us / 1000,
        "requestId": record.request_id,
        "prompt": record.prompt,
    }


def render_records(page: RecordPage) -> dict[str, Any]:
    """A page of records in the native spelling."""
    return {
        "records": [_record(r) for r in page.records],
        "nextPageToken": page.next_page_token,
    }
