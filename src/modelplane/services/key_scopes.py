"""The model list of a new API key, checked against what its principal may call.

A name is looked up as the gateway looks it up (`services/gateway.py`), without opening
any key: a model group by id or name (the whole group), `GROUP/CODE` or
`GROUP/PROVIDER/CODE` that the group offers, an LLM connection by `llmId`, or a
`modelIdentifier` of the principal's own connections.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelplane.domain.errors import ViolationCollector
from modelplane.domain.key_scopes import ScopedModel
from modelplane.domain.llms import RESOURCE as LLMS
from modelplane.domain.principals import Principal
from modelplane.services.catalog import RESOURCE as GROUPS
from modelplane.store.uow import UnitOfWork


async def scoped_models(
    uow: UnitOfWork, principal: Principal, names: Sequence[str]
) -> tuple[tuple[ScopedModel, ...], list[str | None]]:
    """Each name as a scope entry and the group it lies in; InvalidArgument names the rest."""
    errors = ViolationCollector()
    entries: list[ScopedModel] = []
    groups: list[str | None] = []
    for index, name in enumerate(names):
        found = await _entry(uow, principal, name)
        if isinstance(found, str):
            errors.add(f"models.{index}", found)
            continue
        entries.append(found[0])
        groups.append(found[1])
    errors.raise_if_any()
    return tuple(entries), groups


async def _entry(
    uow: UnitOfWork, principal: Principal, name: str
) -> tuple[ScopedModel, str | None] | str:
    """The entry and its group, or the rule `name` breaks."""
    head, _, rest = name.partition("/")
    visible = None if principal.sees_all(GROUPS) else principal.principal_id
    groups = await uow.catalog.groups_by_key(head, visible_to=visible)
    if len(groups) > 1:
        ids = ", ".join(g.model_template_id for g in groups)
        return f"{head!r} names {len(groups)} model groups; name one by its id: {ids}"
    if groups:
        group = groups[0]
        if not rest:
            return ScopedModel(name, group.model_template_id), group.model_template_id
        offers = await uow.catalog.offers([group.model_template_id])
        offered = {t.llm_code for _, t, _ in offers}
        offered |= {f"{p.provider_name}/{t.llm_code}" for p, t, _ in offers}
        if rest not in offered:
            return f"model group {group.name!r} offers no model {rest!r}"
        return ScopedModel(name), group.model_template_id
    visible = None if principal.sees_all(LLMS) else principal.principal_id
    connections = await uow.llms.by_key(name, visible_to=visible)
    if any(llm.llm_id == name or llm.owner_id == principal.principal_id for llm, _ in connections):
        return ScopedModel(name), None
    return (
        f"{name!r} names no model group or LLM connection that principal "
        f"{principal.name!r} may call"
    )
