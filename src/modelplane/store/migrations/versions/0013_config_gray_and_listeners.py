"""Dynamic parameters: a namespace's gray release (a candidate served only to clients with
given labels until promoted or dropped), and the registry of who watches a namespace.

`config_namespaces.candidate_version` (0 for every existing namespace) counts the writes
of its candidate; `config_candidates` holds at most one candidate per namespace and
`config_candidate_items` its changes. `config_listeners` holds the open watches of every
replica, and `config_listener_replicas` when each replica was last heard from.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_NAMESPACE = ["config_namespaces.cluster_id", "config_namespaces.name"]


def upgrade() -> None:
    op.add_column(
        "config_namespaces",
        sa.Column("candidate_version", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "config_candidates",
        sa.Column("cluster_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("candidate_id", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("base_revision", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "name", name="pk_config_candidates"),
        sa.ForeignKeyConstraint(
            ["cluster_id", "name"],
            _NAMESPACE,
            name="fk_config_candidates_cluster_id_config_namespaces",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "config_candidate_items",
        sa.Column("cluster_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("config_key", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("format", sa.String(16)),
        sa.PrimaryKeyConstraint(
            "cluster_id", "name", "config_key", name="pk_config_candidate_items"
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id", "name"],
            ["config_candidates.cluster_id", "config_candidates.name"],
            name="fk_config_candidate_items_cluster_id_config_candidates",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "config_listener_replicas",
        sa.Column("replica_id", sa.String(200), nullable=False),
        sa.Column("seen_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("replica_id", name="pk_config_listener_replicas"),
    )
    op.create_index("ix_config_listener_replicas_seen_at", "config_listener_replicas", ["seen_at"])
    op.create_table(
        "config_listeners",
        sa.Column("listener_id", sa.String(32), nullable=False),
        sa.Column("replica_id", sa.String(200), nullable=False),
        sa.Column("cluster_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("client_label", sa.String(64)),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("candidate_version", sa.BigInteger, nullable=False),
        sa.Column("principal_id", sa.String(36), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("since", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("listener_id", name="pk_config_listeners"),
    )
    op.create_index("ix_config_listeners_replica_id", "config_listeners", ["replica_id"])
    op.create_index("ix_config_listeners_namespace", "config_listeners", ["cluster_id", "name"])


def downgrade() -> None:
    op.drop_index("ix_config_listeners_namespace", table_name="config_listeners")
    op.drop_index("ix_config_listeners_replica_id", table_name="config_listeners")
    op.drop_table("config_listeners")
    op.drop_index("ix_config_listener_replicas_seen_at", table_name="config_listener_replicas")
    op.drop_table("config_listener_replicas")
    op.drop_table("config_candidate_items")
    op.drop_table("config_candidates")
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop the old
    # one, and with it (ON DELETE CASCADE) every parameter and its history.
    op.drop_column("config_namespaces", "candidate_version")
