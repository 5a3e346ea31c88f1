"""Keys for apps: an API key may be limited to the gateway, to a list of model names and
groups, and may expire.

`api_keys.gateway_only` (false for every existing key) refuses the key on the management
API; `api_keys.allowed_models` (null: every model) holds the names and groups the key may
call at the gateway; `api_keys.expires_at` (null: never) is when the key stops working.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "api_keys",
        sa.Column("gateway_only", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("api_keys", sa.Column("allowed_models", sa.JSON, nullable=True))
    op.add_column("api_keys", sa.Column("expires_at", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("allowed_models")
        batch.drop_column("gateway_only")
