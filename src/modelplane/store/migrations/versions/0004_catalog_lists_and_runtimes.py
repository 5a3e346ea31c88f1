"""Model catalog, continued: runtime bindings, list orders, the masked API key hint.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("provider_templates", sa.Column("api_key_hint", sa.String(32)))
    op.drop_index("ix_llm_templates_group_created", "llm_templates")
    op.create_index(
        "ix_llm_templates_group_order",
        "llm_templates",
        ["model_template_id", "created_at", "llm_template_id"],
    )
    op.create_index(
        "ix_llm_templates_provider_order",
        "llm_templates",
        ["provider_template_id", "created_at", "llm_template_id"],
    )
    op.create_index("ix_llm_templates_order", "llm_templates", ["created_at", "llm_template_id"])
    op.create_table(
        "runtime_bindings",
        sa.Column("runtime_type", sa.String(64), nullable=False),
        sa.Column("runtime_id", sa.String(128), nullable=False),
        sa.Column("model_template_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("runtime_type", "runtime_id", name="pk_runtime_bindings"),
        sa.ForeignKeyConstraint(
            ["model_template_id"],
            ["model_groups.model_template_id"],
            name="fk_runtime_bindings_model_template_id_model_groups",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_runtime_bindings_model_template_id", "runtime_bindings", ["model_template_id"]
    )


def downgrade() -> None:
    op.drop_table("runtime_bindings")
    op.drop_index("ix_llm_templates_order", "llm_templates")
    op.drop_index("ix_llm_templates_provider_order", "llm_templates")
    op.drop_index("ix_llm_templates_group_order", "llm_templates")
    op.create_index(
        "ix_llm_templates_group_created", "llm_templates", ["model_template_id", "created_at"]
    )
    with op.batch_alter_table("provider_templates") as batch:
        batch.drop_column("api_key_hint")
