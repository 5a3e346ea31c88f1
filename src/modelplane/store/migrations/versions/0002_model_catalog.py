"""Model catalog: model groups, provider templates and LLM templates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_groups",
        sa.Column("model_template_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("agent_platform", sa.String(64)),
        sa.Column("agent_provider", sa.String(64)),
        sa.Column("biz_type", sa.Integer),
        sa.Column("ref_scope", sa.String(32)),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_template_id", name="pk_model_groups"),
    )
    op.create_index("ix_model_groups_owner_id", "model_groups", ["owner_id"])
    op.create_table(
        "provider_templates",
        sa.Column("provider_template_id", sa.String(32), nullable=False),
        sa.Column("model_template_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("provider_name", sa.String(64), nullable=False),
        sa.Column("provider_type", sa.String(16), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("base_url", sa.Text),
        sa.Column("api", sa.String(64)),
        sa.Column("api_key_sealed", sa.Text),
        sa.Column("enable_wuying_proxy", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("provider_template_id", name="pk_provider_templates"),
        sa.ForeignKeyConstraint(
            ["model_template_id"],
            ["model_groups.model_template_id"],
            name="fk_provider_templates_model_template_id_model_groups",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "model_template_id", "provider_name", name="uq_provider_templates_group_name"
        ),
    )
    op.create_table(
        "llm_templates",
        sa.Column("llm_template_id", sa.String(32), nullable=False),
        sa.Column("provider_template_id", sa.String(32), nullable=False),
        sa.Column("model_template_id", sa.String(32), nullable=False),
        sa.Column("llm_code", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128)),
        sa.Column("description", sa.Text),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("is_default_model", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("llm_template_id", name="pk_llm_templates"),
        sa.ForeignKeyConstraint(
            ["provider_template_id"],
            ["provider_templates.provider_template_id"],
            name="fk_llm_templates_provider_template_id_provider_templates",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_template_id"],
            ["model_groups.model_template_id"],
            name="fk_llm_templates_model_template_id_model_groups",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "provider_template_id", "llm_code", name="uq_llm_templates_provider_code"
        ),
    )
    op.create_index(
        "uq_llm_templates_one_default",
        "llm_templates",
        ["model_template_id"],
        unique=True,
        sqlite_where=sa.text("is_default_model"),
        postgresql_where=sa.text("is_default_model"),
    )
    op.create_index(
        "ix_llm_templates_group_created", "llm_templates", ["model_template_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("llm_templates")
    op.drop_table("provider_templates")
    op.drop_table("model_groups")
