"""Workspace members have a role: `reader` (the default, and what every earlier member
becomes) or `editor`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "workspace_members",
        sa.Column("role", sa.String(16), nullable=False, server_default="reader"),
    )


def downgrade() -> None:
    with op.batch_alter_table("workspace_members") as batch:
        batch.drop_column("role")
