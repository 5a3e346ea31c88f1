"""The built-in, read-only `System` prompt templates (`data/system_prompts.json`)."""

from __future__ import annotations

import functools
import json
from importlib import resources

from modelplane.domain.prompts import (
    PromptTemplate,
    TemplateType,
    check_text,
    is_template_id,
)
from modelplane.placeholders import variables_of

SYSTEM_OWNER = "system"
RELEASED_AT = 1764115200000  # 2025-11-26T00:00:00Z, when this set was written


def parse(document: object) -> tuple[PromptTemplate, ...]:
    """Validate the built-in set; ValueError names the bad entry."""
    if not isinstance(document, list):
        raise ValueError("system_prompts.json must be a list")
    templates = []
    for n, raw in enumerate(document):
        try:
            template_id, name, content = raw["promptTemplateId"], raw["name"], raw["content"]
            check_text(name, content)
        except Exception as exc:
            raise ValueError(f"system_prompts.json entry {n}: {exc}") from None
        if not is_template_id(template_id):
            raise ValueError(f"system_prompts.json entry {n}: bad promptTemplateId")
        templates.append(
            PromptTemplate(
                prompt_template_id=template_id,
                workspace_id="",
                name=name,
                content=content,
                variables=variables_of(content),
                type=TemplateType.SYSTEM,
                version=1,
                created_at=RELEASED_AT,
                updated_at=RELEASED_AT,
                created_by=SYSTEM_OWNER,
                updated_by=SYSTEM_OWNER,
            )
        )
    if len({t.prompt_template_id for t in templates}) != len(templates):
        raise ValueError("system_prompts.json repeats a promptTemplateId")
    return tuple(templates)


@functools.cache
def system_templates() -> tuple[PromptTemplate, ...]:
    """Every built-in template (read once)."""
    text = (resources.files("modelplane.domain.data") / "system_prompts.json").read_text("utf-8")
    return parse(json.loads(text))


def system_template(ref: str) -> PromptTemplate | None:
    """The built-in template with this id, or else with this name, if any."""
    found = next((t for t in system_templates() if t.prompt_template_id == ref), None)
    return found or next((t for t in system_templates() if t.name == ref), None)
