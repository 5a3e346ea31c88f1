"""Chat prompts and a version's config: every template and version has a `kind` (`text`,
which every earlier one is, or `chat`), the `messages` of a chat template, and an optional
`config` (a JSON object read with the prompt).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("prompt_templates", "prompt_template_versions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("kind", sa.String(8), nullable=False, server_default="text"))
        op.add_column(table, sa.Column("messages", sa.JSON, nullable=True))
        op.add_column(table, sa.Column("config", sa.JSON, nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("config")
            batch.drop_column("messages")
            batch.drop_column("kind")
