"""A usage record names the prompt template that served its call, if any.

`usage_records.prompt` holds `TEMPLATE_ID@VERSION` of the prompt template version the
gateway rendered for the call (null for a call that named none, and for every record
written before).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column."""
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("prompt", sa.String(80)))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("prompt")
