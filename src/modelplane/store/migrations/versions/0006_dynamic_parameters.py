"""Dynamic parameters: namespaces with a revision, their parameters, and their history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NAMESPACE = ["config_namespaces.cluster_id", "config_namespaces.name"]


def upgrade() -> None:
    op.create_table(
        "config_namespaces",
        sa.Column("cluster_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "name", name="pk_config_namespaces"),
    )
    op.create_index("ix_config_namespaces_owner_id", "config_namespaces", ["owner_id"])
    op.create_table(
        "configs",
        sa.Column("cluster_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("config_key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "name", "config_key", name="pk_configs"),
        sa.ForeignKeyConstraint(
            ["cluster_id", "name"],
            _NAMESPACE,
            name="fk_configs_cluster_id_config_namespaces",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "config_history",
        sa.Column("cluster_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("config_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "name", "revision", name="pk_config_history"),
        sa.ForeignKeyConstraint(
            ["cluster_id", "name"],
            _NAMESPACE,
            name="fk_config_history_cluster_id_config_namespaces",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_config_history_key",
        "config_history",
        ["cluster_id", "name", "config_key", "revision"],
    )


def downgrade() -> None:
    op.drop_table("config_history")
    op.drop_table("configs")
    op.drop_table("config_namespaces")
