"""Dynamic parameters: a revision may change several parameters (a batch, a revert), and a
parameter declares its format.

`config_history` was keyed by revision alone, one parameter per revision; it is now keyed
by revision and key. `configs.format` is `text` for every existing parameter, and so is
`config_history.format` of every existing entry but deletes (which hold none).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_OLD_KEY = ["cluster_id", "name", "revision"]
_NEW_KEY = ["cluster_id", "name", "revision", "config_key"]


def upgrade() -> None:
    op.add_column(
        "configs",
        sa.Column("format", sa.String(16), nullable=False, server_default="text"),
    )
    with op.batch_alter_table("config_history") as batch:
        batch.add_column(sa.Column("format", sa.String(16)))
        batch.drop_constraint("pk_config_history", type_="primary")
        batch.create_primary_key("pk_config_history", _NEW_KEY)
    op.execute("UPDATE config_history SET format = 'text' WHERE kind <> 'delete'")


def downgrade() -> None:
    # A revision that changed several parameters keeps one of them (the first key): the
    # old key holds one row per revision.
    op.execute(
        "DELETE FROM config_history WHERE EXISTS (SELECT 1 FROM config_history AS first "
        "WHERE first.cluster_id = config_history.cluster_id "
        "AND first.name = config_history.name AND first.revision = config_history.revision "
        "AND first.config_key < config_history.config_key)"
    )
    with op.batch_alter_table("config_history") as batch:
        batch.drop_constraint("pk_config_history", type_="primary")
        batch.create_primary_key("pk_config_history", _OLD_KEY)
        batch.drop_column("format")
    with op.batch_alter_table("configs") as batch:
        batch.drop_column("format")
