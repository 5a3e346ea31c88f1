"""The repository of prompt template labels and their history of moves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from modelplane.domain.prompt_labels import LabelMove, PromptLabel
from modelplane.store.engine import Connection
from modelplane.store.sql import insert_for
from modelplane.store.tables import (
    prompt_template_label_moves,
    prompt_template_labels,
)


def _label(row: Any) -> PromptLabel:
    return PromptLabel(
        label=row.label,
        version=int(row.version),
        updated_at=int(row.updated_at),
        updated_by=row.updated_by,
    )


def _move(row: Any) -> LabelMove:
    return LabelMove(
        label=row.label,
        from_version=row.from_version,
        to_version=row.to_version,
        moved_at=int(row.moved_at),
        moved_by=row.moved_by,
    )


class PromptLabelRepository:
    """Reads and writes labels inside one unit of work."""

    def __init__(self, conn: Connection, *, is_postgres: bool) -> None:
        self._conn = conn
        self._is_postgres = is_postgres

    async def labels_of(self, template_id: str) -> list[PromptLabel]:
        """Every label of a template, by name."""
        t = prompt_template_labels.c
        query = sa.select(prompt_template_labels).where(t.prompt_template_id == template_id)
        return [_label(row) for row in await self._conn.execute(query.order_by(t.label))]

    async def labels_by_template(self, template_ids: Iterable[str]) -> dict[str, list[PromptLabel]]:
        """The labels of each of `template_ids` (a page of them), by name."""
        wanted = list(template_ids)
        if not wanted:
            return {}
        t = prompt_template_labels.c
        query = (
            sa.select(prompt_template_labels)
            .where(t.prompt_template_id.in_(wanted))
            .order_by(t.prompt_template_id, t.label)
        )
        found: dict[str, list[PromptLabel]] = {}
        for row in await self._conn.execute(query):
            found.setdefault(row.prompt_template_id, []).append(_label(row))
        return found

    async def label(self, template_id: str, label: str) -> PromptLabel | None:
        """Where one label of a template points, if it is set."""
        t = prompt_template_labels.c
        query = sa.select(prompt_template_labels).where(
            t.prompt_template_id == template_id, t.label == label
        )
        row = (await self._conn.execute(query)).first()
        return _label(row) if row is not None else None

    async def put(self, template_id: str, label: PromptLabel) -> None:
        """Point a label at its version (set or moved)."""
        values = {
            "version": label.version,
            "updated_at": label.updated_at,
            "updated_by": label.updated_by,
        }
        await self._conn.execute(
            insert_for(prompt_template_labels, is_postgres=self._is_postgres)
            .values(prompt_template_id=template_id, label=label.label, **values)
            .on_conflict_do_update(index_elements=["prompt_template_id", "label"], set_=values)
        )

    async def remove(self, template_id: str, label: str) -> None:
        """Unset a label."""
        t = prompt_template_labels.c
        await self._conn.execute(
            prompt_template_labels.delete().where(
                t.prompt_template_id == template_id, t.label == label
            )
        )

    async def add_move(self, template_id: str, move: LabelMove) -> None:
        """Keep one move in the template's label history."""
        await self._conn.execute(
            prompt_template_label_moves.insert().values(
                prompt_template_id=template_id,
                label=move.label,
                from_version=move.from_version,
                to_version=move.to_version,
                moved_at=move.moved_at,
                moved_by=move.moved_by,
            )
        )

    async def moves(
        self, template_id: str, *, before: int | None, limit: int
    ) -> list[tuple[int, LabelMove]]:
        """Up to `limit` moves of a template, newest first, older than move `before`; each
        with its id (the position a next page continues from)."""
        m = prompt_template_label_moves.c
        query = sa.select(prompt_template_label_moves).where(m.prompt_template_id == template_id)
        if before is not None:
            query = query.where(m.move_id < before)
        query = query.order_by(m.move_id.desc()).limit(limit)
        return [(int(row.move_id), _move(row)) for row in await self._conn.execute(query)]

    async def delete_all(self, template_id: str) -> None:
        """Forget a template's labels and their history (the template is being deleted)."""
        for table in (prompt_template_labels, prompt_template_label_moves):
            await self._conn.execute(
                table.delete().where(table.c.prompt_template_id == template_id)
            )
