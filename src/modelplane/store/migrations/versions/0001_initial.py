"""Principals, API keys, access keys and LLM connections.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("principal_id", name="pk_principals"),
        sa.UniqueConstraint("name", name="uq_principals_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("api_key_id", sa.String(36), nullable=False),
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("label", sa.String(128)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("api_key_id", name="pk_api_keys"),
        sa.UniqueConstraint("token_hash", name="uq_api_keys_token_hash"),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.principal_id"],
            name="fk_api_keys_principal_id_principals",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_api_keys_principal_id", "api_keys", ["principal_id"])
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(64), nullable=False),
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("secret_sealed", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_access_keys"),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.principal_id"],
            name="fk_access_keys_principal_id_principals",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_access_keys_principal_id", "access_keys", ["principal_id"])
    op.create_table(
        "llms",
        sa.Column("llm_id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("provider_type", sa.String(32), nullable=False),
        sa.Column("endpoint_url", sa.Text, nullable=False),
        sa.Column("api_path", sa.Text, nullable=False),
        sa.Column("model_identifier", sa.String(255), nullable=False),
        sa.Column("supported_modalities", sa.JSON, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("version", sa.String(64)),
        sa.Column("monitoring_endpoint", sa.Text),
        sa.Column("capabilities", sa.JSON, nullable=False),
        sa.Column("default_sampling_params", sa.JSON),
        sa.Column("max_context_length", sa.Integer),
        sa.Column("client_config", sa.JSON),
        sa.Column("dashscope_api_dialect", sa.String(32)),
        sa.Column("credentials_sealed", sa.Text),
        sa.Column("credentials_fingerprint", sa.String(64), nullable=False),
        sa.Column("connection_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("created_by_id", sa.String(36), nullable=False),
        sa.Column("updated_by_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("llm_id", name="pk_llms"),
        sa.UniqueConstraint("owner_id", "connection_key", name="uq_llms_owner_connection"),
    )
    op.create_index("ix_llms_owner_id", "llms", ["owner_id"])


def downgrade() -> None:
    op.drop_table("llms")
    op.drop_table("access_keys")
    op.drop_table("api_keys")
    op.drop_table("principals")
