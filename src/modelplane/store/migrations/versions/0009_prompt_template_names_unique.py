"""A prompt template's name is unique in its workspace (among custom templates: one may
take a built-in template's name, and is found first by that name in its workspace).

Templates that broke this before are renamed, deterministically: in each workspace the
oldest template (by creation, then id) keeps a name, each later one gets the first free
`NAME-2`, `NAME-3`, … (shortened to fit 255 characters). Each rename is logged as a
warning naming the template, its workspace, and both names.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("modelplane.migrate")

NAME_MAX = 255
RENAME = (
    "UPDATE prompt_templates SET name = :name WHERE prompt_template_id = :id",
    "UPDATE prompt_template_versions SET name = :name "
    "WHERE prompt_template_id = :id AND version = :version",
)


def free_name(name: str, taken: set[str]) -> str:
    """The first of `NAME-2`, `NAME-3`, … not in `taken`, cut to NAME_MAX characters."""
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = name[: NAME_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT prompt_template_id, workspace_id, name, version FROM prompt_templates "
            "ORDER BY workspace_id, created_at, prompt_template_id"
        )
    ).all()
    taken: dict[str, set[str]] = {}  # every name in use, the new ones included
    for row in rows:
        taken.setdefault(row.workspace_id, set()).add(row.name)
    kept: set[tuple[str, str]] = set()  # (workspace, name) kept by an older template
    for row in rows:
        if (row.workspace_id, row.name) not in kept:
            kept.add((row.workspace_id, row.name))
            continue
        new = free_name(row.name, taken[row.workspace_id])
        taken[row.workspace_id].add(new)
        for statement in RENAME:
            conn.execute(
                sa.text(statement),
                {"name": new, "id": row.prompt_template_id, "version": row.version},
            )
        log.warning(
            f"prompt template {row.prompt_template_id} in workspace {row.workspace_id} "
            f"renamed from {row.name!r} to {new!r}: names are unique in a workspace",
            extra={
                "fields": {
                    "promptTemplateId": row.prompt_template_id,
                    "workspaceId": row.workspace_id,
                    "from": row.name,
                    "to": new,
                }
            },
        )
    op.create_index(
        "uq_prompt_templates_workspace_name",
        "prompt_templates",
        ["workspace_id", "name"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_prompt_templates_workspace_name", table_name="prompt_templates")
