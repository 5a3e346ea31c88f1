"""Prompt template labels: a label (`production`, `staging`, …) points at one version of a
template; every move of a label is kept in the template's label history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt_template_labels",
        sa.Column(
            "prompt_template_id",
            sa.String(32),
            sa.ForeignKey("prompt_templates.prompt_template_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("label", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(36), nullable=False),
    )
    op.create_table(
        "prompt_template_label_moves",
        sa.Column("move_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "prompt_template_id",
            sa.String(32),
            sa.ForeignKey("prompt_templates.prompt_template_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=True),
        sa.Column("to_version", sa.Integer, nullable=True),
        sa.Column("moved_at", sa.BigInteger, nullable=False),
        sa.Column("moved_by", sa.String(36), nullable=False),
    )
    op.create_index(
        "ix_prompt_template_label_moves_template",
        "prompt_template_label_moves",
        ["prompt_template_id", "move_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_prompt_template_label_moves_template", table_name="prompt_template_label_moves"
    )
    op.drop_table("prompt_template_label_moves")
    op.drop_table("prompt_template_labels")
