"""Planning the `llms` of a stack: found by `llmId`, else by `displayName`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from modelplane.client import Client, Llm
from modelplane.stack.changes import (
    SECRET,
    Action,
    Change,
    FieldDiff,
    Ids,
    Plan,
    created,
    differences,
)
from modelplane.stack.owners import OwnerOf, Principals
from modelplane.stack.secrets import Environment
from modelplane.stack.spec import CredentialsSpec, LlmSpec, StackError

KIND = "llm"


def credentials_wire(spec: CredentialsSpec, place: str, env: Environment) -> dict[str, Any]:
    """The API's credentials object, the secret read from the environment."""
    wire: dict[str, Any] = {"kind": spec.kind}
    if spec.api_key is not None:
        key = spec.api_key
        api_key: dict[str, Any] = {}
        if key.secret is not None:
            api_key["inlineSecret"] = env.read(key.secret, f"{place}.apiKey.secret")
        if key.secret_ref is not None:
            api_key["secretRef"] = {"uri": key.secret_ref}
        if key.header_name is not None:
            api_key["headerName"] = key.header_name
        if key.prefix is not None:
            api_key["prefix"] = key.prefix
        wire["apiKey"] = api_key
    if spec.gcp_adc is not None:
        wire["gcpAdc"] = spec.gcp_adc
    if spec.labels is not None:
        wire["labels"] = spec.labels
    return wire


def _found(
    spec: LlmSpec,
    place: str,
    by_id: dict[str, Llm],
    by_name: dict[str, list[Llm]],
    owner_id: str | None,
) -> Llm | None:
    if spec.llm_id is not None:
        return by_id.get(spec.llm_id)
    matches = by_name.get(spec.display_name, [])
    if spec.owner is not None:  # another principal's LLM of this name is not this one
        matches = [m for m in matches if m.owner_id == owner_id]
    if len(matches) > 1:
        ids = ", ".join(m.llm_id for m in matches)
        raise StackError(
            f"{place}: {len(matches)} LLMs are named {spec.display_name!r} ({ids}); "
            "give llmId to say which"
        )
    return matches[0] if matches else None


def _create(spec: LlmSpec, credentials: dict[str, Any] | None, owner: OwnerOf) -> Change:
    body = spec.wire_fields()
    if spec.llm_id is not None:
        body["llmId"] = spec.llm_id
    shown = spec.wire_fields()
    if spec.owner is not None:
        shown["owner"] = spec.owner
    fields = created(shown)
    if credentials is not None:
        body["credentials"] = credentials
        fields += (FieldDiff("credentials", None, SECRET),)

    def run(client: Client, ids: Ids) -> None:
        fields = dict(body)
        display_name, model = fields.pop("displayName"), fields.pop("modelIdentifier")
        client.llms.create(display_name, model, owner_id=owner(ids), extra=fields)

    return Change(Action.CREATE, KIND, spec.display_name, run, fields)


def _update(
    spec: LlmSpec, current: Llm, credentials: dict[str, Any] | None, client: Client, place: str
) -> Change | None:
    now = current.model_dump(mode="json", by_alias=True)
    wanted = spec.wire_fields()
    if "providerType" in wanted and wanted["providerType"] != now["providerType"]:
        raise StackError(
            f"{place}.providerType: cannot change {now['providerType']} to "
            f"{wanted['providerType']}; delete the LLM or declare a new one"
        )
    fields = differences(now, wanted)
    if credentials is not None and not client.llms.verify_credentials(current.llm_id, credentials):
        fields += (FieldDiff("credentials", SECRET, SECRET),)
    if not fields:
        return None
    body = {d.name: d.new for d in fields if d.name != "credentials"}
    if "labels" in body:
        body["replaceLabels"] = body.pop("labels")
    if credentials is not None and any(d.name == "credentials" for d in fields):
        body["credentials"] = credentials

    def run(client: Client, _ids: Ids) -> None:
        client.llms.update(current.llm_id, extra=body)

    return Change(Action.UPDATE, KIND, f"{spec.display_name} ({current.llm_id})", run, fields)


def _delete(llm: Llm) -> Change:
    def run(client: Client, _ids: Ids) -> None:
        client.llms.delete(llm.llm_id)

    return Change(Action.DELETE, KIND, f"{llm.display_name} ({llm.llm_id})", run)


def resolve_credentials(specs: list[LlmSpec], env: Environment) -> list[dict[str, Any] | None]:
    """Each LLM's credentials as the API takes them (None where the file gives none)."""
    return [
        credentials_wire(spec.credentials, f"llms[{i}].credentials", env)
        if spec.credentials is not None
        else None
        for i, spec in enumerate(specs)
    ]


def plan_llms(
    client: Client,
    specs: list[LlmSpec],
    credentials: list[dict[str, Any] | None],
    plan: Plan,
    *,
    prune: bool,
) -> None:
    """Add the changes that make the LLMs match `specs`."""
    current = client.llms.list()
    principals = Principals(client, needed=any(spec.owner for spec in specs))
    by_id = {llm.llm_id: llm for llm in current}
    by_name: dict[str, list[Llm]] = defaultdict(list)
    for llm in current:
        by_name[llm.display_name].append(llm)
    owners = [
        None if spec.owner is None else principals.id_now(f"llms[{i}].owner", spec.owner)
        for i, spec in enumerate(specs)
    ]
    found = [_found(spec, f"llms[{i}]", by_id, by_name, owners[i]) for i, spec in enumerate(specs)]
    claimed = set()
    for i, (spec, match, creds) in enumerate(zip(specs, found, credentials, strict=True)):
        if match is None:
            owner = principals.owner_of(f"llms[{i}].owner", spec.owner, None)
            plan.add(_create(spec, creds, owner))
            continue
        if match.llm_id in claimed:
            raise StackError(f"llms[{i}]: LLM {match.llm_id} is already declared by another entry")
        claimed.add(match.llm_id)
        principals.check_owner(
            f"llms[{i}].owner", f"LLM {match.llm_id}", match.owner_id, spec.owner
        )
        change = _update(spec, match, creds, client, f"llms[{i}]")
        if change is not None:
            plan.add(change)
    if prune:
        for llm in current:
            if llm.llm_id not in claimed:
                plan.add(_delete(llm))
