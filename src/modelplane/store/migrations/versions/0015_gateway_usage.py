"""Usage of the gateway: a record of every call and their daily rollups.

`usage_records` holds one row per gateway call (who, which key, model name and member,
operation, tokens, cost in nano-units or null when no price was known, latency, status,
streamed or not), kept for `MODELPLANE_USAGE_RETENTION_DAYS`. `usage_daily` holds their
sums per UTC day, principal, key, model, member and status, added to as records are
written; reports read only these.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

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


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column(
            "record_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("api_key_id", sa.String(36)),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("member", sa.String(512)),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("streamed", sa.Boolean, nullable=False),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger, nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost_nanos", sa.BigInteger),
        sa.Column("latency_us", sa.BigInteger, nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.PrimaryKeyConstraint("record_id", name="pk_usage_records"),
    )
    op.create_index("ix_usage_records_at", "usage_records", ["at", "record_id"])
    op.create_index(
        "ix_usage_records_principal", "usage_records", ["principal_id", "at", "record_id"]
    )
    op.create_index("ix_usage_records_key", "usage_records", ["api_key_id", "at", "record_id"])
    op.create_table(
        "usage_daily",
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("api_key_id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("member", sa.String(512), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _SUMS),
        sa.PrimaryKeyConstraint(
            "day",
            "principal_id",
            "api_key_id",
            "model",
            "member",
            "status",
            name="pk_usage_daily",
        ),
    )
    op.create_index("ix_usage_daily_principal", "usage_daily", ["principal_id", "day"])
    op.create_index("ix_usage_daily_key", "usage_daily", ["api_key_id", "day"])
    op.create_index("ix_usage_daily_model", "usage_daily", ["model", "day"])


def downgrade() -> None:
    for index in ("ix_usage_daily_model", "ix_usage_daily_key", "ix_usage_daily_principal"):
        op.drop_index(index, table_name="usage_daily")
    op.drop_table("usage_daily")
    for index in ("ix_usage_records_key", "ix_usage_records_principal", "ix_usage_records_at"):
        op.drop_index(index, table_name="usage_records")
    op.drop_table("usage_records")
