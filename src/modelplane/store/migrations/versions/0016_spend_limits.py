"""Limits and budgets of the gateway, and the counters that enforce them.

`spend_limits` holds the optional limits of one principal or one API key (keyed by the
subject's kind and id): requests and tokens per minute, and a budget in nano-units of the
price's unit per UTC day or calendar month. Its rows go with their principal or key.
`spend_counters` holds the counters of fixed windows (requests, tokens, spend) when no
Redis is configured; a row lives until `expires_at` (epoch ms), after its window ends.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend_limits",
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("api_key_id", sa.String(36)),
        sa.Column("rpm", sa.BigInteger),
        sa.Column("tpm", sa.BigInteger),
        sa.Column("budget_nanos", sa.BigInteger),
        sa.Column("budget_period", sa.String(8)),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("subject_kind", "subject_id", name="pk_spend_limits"),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.principal_id"],
            name="fk_spend_limits_principal_id_principals",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.api_key_id"],
            name="fk_spend_limits_api_key_id_api_keys",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_spend_limits_principal_id", "spend_limits", ["principal_id"])
    op.create_index("ix_spend_limits_api_key_id", "spend_limits", ["api_key_id"])
    op.create_table(
        "spend_counters",
        sa.Column("counter_key", sa.String(200), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("counter_key", name="pk_spend_counters"),
    )
    op.create_index("ix_spend_counters_expires_at", "spend_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_spend_counters_expires_at", table_name="spend_counters")
    op.drop_table("spend_counters")
    op.drop_index("ix_spend_limits_api_key_id", table_name="spend_limits")
    op.drop_index("ix_spend_limits_principal_id", table_name="spend_limits")
    op.drop_table("spend_limits")
