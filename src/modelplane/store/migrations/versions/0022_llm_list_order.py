"""Indexes for lists of LLM connections, newest first.

The console pages through connections in SQL (`ORDER BY created_at DESC, llm_id DESC`
with an offset): all of them, and one owner's. These two indexes let a page be read from
the index alone instead of sorting every row.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the indexes."""
    op.create_index("ix_llms_created", "llms", ["created_at", "llm_id"])
    op.create_index("ix_llms_owner_created", "llms", ["owner_id", "created_at", "llm_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_llms_owner_created", table_name="llms")
    op.drop_index("ix_llms_created", table_name="llms")
