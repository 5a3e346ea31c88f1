"""Signature nonces seen recently, so that a replayed request is refused on any replica.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signature_nonces",
        sa.Column("access_key_id", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("access_key_id", "nonce", name="pk_signature_nonces"),
    )
    op.create_index("ix_signature_nonces_expires_at", "signature_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_table("signature_nonces")
