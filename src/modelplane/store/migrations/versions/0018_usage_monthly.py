"""Usage of the gateway summed per month too: reports over whole months read these.

`usage_monthly` holds the sums of `usage_daily` per UTC calendar month (`month`: the day
number of its first day), principal, key, model, member and status, added to in the same
transaction as the daily rows; it starts with what `usage_daily` holds already.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-13
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_KEY = ("principal_id", "api_key_id", "model", "member", "status")
_SUMS = (
    "calls",
    "streamed_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_nanos",
    "unpriced_calls",
    "latency_us",
)
_EPOCH = datetime.date(1970, 1, 1)


def upgrade() -> None:
    op.create_table(
        "usage_monthly",
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("api_key_id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("member", sa.String(512), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _SUMS),
        sa.PrimaryKeyConstraint("month", *_KEY, name="pk_usage_monthly"),
    )
    op.create_index("ix_usage_monthly_principal", "usage_monthly", ["principal_id", "month"])
    op.create_index("ix_usage_monthly_key", "usage_monthly", ["api_key_id", "month"])
    op.create_index("ix_usage_monthly_model", "usage_monthly", ["model", "month"])
    _fill()


def _fill() -> None:
    """Sum the daily rows already kept into their months, one month at a time."""
    conn = op.get_bind()
    days = sa.table("usage_daily", sa.column("day"), *(sa.column(n) for n in (*_KEY, *_SUMS)))
    first, last = conn.execute(sa.select(sa.func.min(days.c.day), sa.func.max(days.c.day))).one()
    if first is None:
        return
    monthly = sa.table(
        "usage_monthly", sa.column("month"), *(sa.column(n) for n in (*_KEY, *_SUMS))
    )
    month = (_EPOCH + datetime.timedelta(days=first)).replace(day=1)
    while (month - _EPOCH).days <= last:
        following = (month + datetime.timedelta(days=31)).replace(day=1)
        start, end = (month - _EPOCH).days, (following - _EPOCH).days
        sums = [sa.func.sum(days.c[n]) for n in _SUMS]
        keys = [days.c[n] for n in _KEY]
        rows = sa.select(sa.literal(start), *keys, *sums).where(
            days.c.day >= start, days.c.day < end
        )
        conn.execute(monthly.insert().from_select(["month", *_KEY, *_SUMS], rows.group_by(*keys)))
        month = following


def downgrade() -> None:
    for index in ("ix_usage_monthly_model", "ix_usage_monthly_key", "ix_usage_monthly_principal"):
        op.drop_index(index, table_name="usage_monthly")
    op.drop_table("usage_monthly")
