"""Rows that no sequence of successful requests may leave behind, on either store."""

from __future__ import annotations

import json
from typing import Any

from tests.support.store_snapshot import PostgresRows, SqliteRows

# The tables whose rows have an owner (owner_id), a principal.
OWNED_TABLES = ("llms", "model_groups", "provider_templates", "workspaces", "config_namespaces")

_CHECKS = {
    "a group with two default models": """
        SELECT model_template_id FROM llm_templates WHERE is_default_model
        GROUP BY model_template_id HAVING count(*) > 1""",
    "an LLM template without its provider": """
        SELECT llm_template_id FROM llm_templates t WHERE NOT EXISTS (
          SELECT 1 FROM provider_templates p
          WHERE p.provider_template_id = t.provider_template_id
            AND p.model_template_id = t.model_template_id)""",
    "a provider template without its group": """
        SELECT provider_template_id FROM provider_templates p WHERE NOT EXISTS (
          SELECT 1 FROM model_groups g WHERE g.model_template_id = p.model_template_id)""",
    "a prompt template without its versions": """
        SELECT prompt_template_id FROM prompt_templates t WHERE (
          SELECT count(*) FROM prompt_template_versions v
          WHERE v.prompt_template_id = t.prompt_template_id) != t.version""",
    "a prompt template whose current text is not its last version": """
        SELECT t.prompt_template_id FROM prompt_templates t
        JOIN prompt_template_versions v
          ON v.prompt_template_id = t.prompt_template_id AND v.version = t.version
        WHERE v.content != t.content OR v.name != t.name""",
    "a prompt template outside any workspace": """
        SELECT prompt_template_id FROM prompt_templates t WHERE NOT EXISTS (
          SELECT 1 FROM workspaces w WHERE w.workspace_id = t.workspace_id)""",
    "a config newer than its namespace": """
        SELECT c.config_key FROM configs c JOIN config_namespaces n
          ON n.cluster_id = c.cluster_id AND n.name = c.name
        WHERE c.revision > n.revision""",
    "a config without its history": """
        SELECT c.config_key FROM configs c WHERE NOT EXISTS (
          SELECT 1 FROM config_history h WHERE h.cluster_id = c.cluster_id
            AND h.name = c.name AND h.revision = c.revision
            AND h.config_key = c.config_key AND h.value = c.value)""",
    "a key of a missing principal": """
        SELECT api_key_id FROM api_keys k WHERE NOT EXISTS (
          SELECT 1 FROM principals p WHERE p.principal_id = k.principal_id)
        UNION ALL
        SELECT access_key_id FROM access_keys k WHERE NOT EXISTS (
          SELECT 1 FROM principals p WHERE p.principal_id = k.principal_id)""",
    "a resource owned by a missing principal": " UNION ALL ".join(
        f"SELECT owner_id FROM {table} r WHERE NOT EXISTS ("  # noqa: S608 (fixed names)
        " SELECT 1 FROM principals p WHERE p.principal_id = r.owner_id)"
        for table in OWNED_TABLES
    ),
}


def _pointer(config: Any) -> Any:
    """`defaults.model.primary` of a group's stored `Config` (JSON text), if any."""
    value = json.loads(config) if isinstance(config, str) else config
    for key in ("defaults", "model", "primary"):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def defaults(rows: SqliteRows | PostgresRows) -> dict[str, tuple[Any, Any]]:
    """Per group, its `defaultModel` pointer and the `providerName/llmCode` of the template
    flagged default (None for none; a provider that is missing shows as `?`)."""
    pointers = {
        group_id: _pointer(config)
        for group_id, config in rows.execute("SELECT model_template_id, config FROM model_groups")
    }
    flagged = dict(
        rows.execute(
            """SELECT t.model_template_id, coalesce(p.provider_name, '?') || '/' || t.llm_code
               FROM llm_templates t LEFT JOIN provider_templates p
                 ON p.provider_template_id = t.provider_template_id
               WHERE t.is_default_model"""
        )
    )
    return {
        group_id: (pointers.get(group_id), flagged.get(group_id))
        for group_id in sorted(pointers.keys() | flagged.keys())
    }


def pointer_disagreements(rows: SqliteRows | PostgresRows) -> list[tuple[str, Any, Any]]:
    """Groups whose pointer is not the flagged default: `(group id, pointer, flagged)`.

    A pointer at a missing template shows as one with nothing flagged.
    """
    return [
        (group_id, pointer, flagged)
        for group_id, (pointer, flagged) in defaults(rows).items()
        if pointer != flagged
    ]


def broken_invariants(rows: SqliteRows | PostgresRows) -> list[str]:
    """Each broken invariant, named, with up to five of the rows that break it."""
    broken = []
    for name, query in _CHECKS.items():
        found = rows.execute(query)
        if found:
            broken.append(f"{name}: {found[:5]}")
    disagreements = pointer_disagreements(rows)
    if disagreements:
        broken.append(f"a default pointer that is not the flagged default: {disagreements[:5]}")
    return broken
