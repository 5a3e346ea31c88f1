"""Key rotation knows every sealed column of the schema, and how to open each one."""

from __future__ import annotations

from modelplane.services.key_rotation import KINDS
from modelplane.store.sealed import SEALED_COLUMNS
from modelplane.store.tables import metadata


def test_every_sealed_column_of_the_schema_is_rotated() -> None:
    in_schema = {
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.c
        if column.name.endswith("_sealed")
    }
    assert {column.name for column in SEALED_COLUMNS} == in_schema
    assert [column for _, column, _ in KINDS] == list(SEALED_COLUMNS)


def test_each_row_id_is_its_tables_primary_key() -> None:
    for column in SEALED_COLUMNS:
        assert [c.name for c in column.table.primary_key] == [column.row_id]
