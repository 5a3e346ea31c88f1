"""The API key a runtime binding keeps for the gateway.

`runtime_gateway_keys` holds, per runtime (`runtime_type`, `runtime_id`: one row at most),
the API key handed to it for the gateway, limited to its model group, and the key's token
sealed by the secret box, so that asking again hands out the same token. Its rows go with
their key or their group (the services revoke the key first).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_gateway_keys",
        sa.Column("api_key_id", sa.String(36), nullable=False),
        sa.Column("runtime_type", sa.String(64), nullable=False),
        sa.Column("runtime_id", sa.String(128), nullable=False),
        sa.Column("model_template_id", sa.String(32), nullable=False),
        sa.Column("token_sealed", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("api_key_id", name="pk_runtime_gateway_keys"),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.api_key_id"],
            name="fk_runtime_gateway_keys_api_key_id_api_keys",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_template_id"],
            ["model_groups.model_template_id"],
            name="fk_runtime_gateway_keys_model_template_id_model_groups",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("runtime_type", "runtime_id", name="uq_runtime_gateway_keys_runtime"),
    )
    op.create_index(
        "ix_runtime_gateway_keys_model_template_id", "runtime_gateway_keys", ["model_template_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_runtime_gateway_keys_model_template_id", table_name="runtime_gateway_keys")
    op.drop_table("runtime_gateway_keys")
