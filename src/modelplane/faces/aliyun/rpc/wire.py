"""RPC parameters: query and form merged, lists in both encodings, typed values.

Alibaba RPC clients send flat `name=value` pairs, `+` meaning a space. Lists travel
flattened 1-based (`RuntimeIds.1=a&RuntimeIds.2=b`, `LlmTemplateItems.1.LlmCode=x`)
or as JSON text (`LlmTemplateIds=["llmt-1"]`); objects as `Config.ApiKey=…` or as
`Config={"ApiKey": …}`. Every list and object accepts both. Booleans are `true`,
`True`, `false` or `False`; integers are decimal and 32-bit, as the SDK's are. A value
that breaks these rules is `InvalidParameter` naming the parameter; a required one that
is absent or blank is `MissingParameter`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelplane.domain.errors import InvalidArgument
from modelplane.domain.paging import PageRequest, page_request
from modelplane.faces.aliyun.rpc.errors import missing
from modelplane.faces.aliyun.transport import single_values
from modelplane.faces.json_input import parse_json

BOOLEANS = {"true": True, "True": True, "false": False, "False": False}
_INTEGER = re.compile(r"^-?[0-9]{1,10}$")
INT32 = range(-(2**31), 2**31)
_INDEX = re.compile(r"^[1-9][0-9]{0,5}$")


def merged(*sources: Iterable[tuple[str, str]]) -> Params:
    """The parameters of the query and the form body together.

    A name given twice with different values is refused, since either reading would guess.
    """
    return Params(single_values(*sources))


def _wire_text(value: Any, path: str) -> str | None:
    """A JSON value as the flat text it would have been sent as."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    raise InvalidArgument.of(path, "unsupported JSON value")


@dataclass(frozen=True, slots=True)
class Params:
    """Named parameters of a call, or of one object inside it (`prefix` names its place)."""

    values: Mapping[str, str]
    prefix: str = ""

    def path(self, name: str) -> str:
        """The wire name of `name`, as errors report it (`LlmTemplateItems.2.LlmCode`)."""
        return self.prefix + name

    def text(self, name: str) -> str | None:
        """A string parameter, as sent."""
        return self.values.get(name)

    def required(self, name: str) -> str:
        """A string parameter that must be present and not blank."""
        value = self.values.get(name)
        if value is None or not value.strip():
            raise missing(self.path(name))
        return value

    def boolean(self, name: str) -> bool | None:
        """`true`/`True` or `false`/`False`; absent is None."""
        value = self.values.get(name)
        if value is None:
            return None
        if value not in BOOLEANS:
            raise InvalidArgument.of(self.path(name), f"must be true or false, not {value!r}")
        return BOOLEANS[value]

    def integer(self, name: str) -> int | None:
        """A decimal 32-bit integer; absent is None."""
        value = self.values.get(name)
        if value is None:
            return None
        if not _INTEGER.match(value) or int(value) not in INT32:
            raise InvalidArgument.of(
                self.path(name), f"must be a 32-bit integer, not {value[:40]!r}"
            )
        return int(value)

    def _indexed(self, name: str) -> list[dict[str, str]]:
        """The flattened `name.N[.Field]` pairs, grouped by N = 1, 2, … in order."""
        lead = name + "."
        groups: dict[int, dict[str, str]] = {}
        for key, value in self.values.items():
            if not key.startswith(lead):
                continue
            index, _, rest = key[len(lead) :].partition(".")
            if not _INDEX.match(index):
                raise InvalidArgument.of(self.path(key), "the index after the name must be 1, 2, …")
            groups.setdefault(int(index), {})[rest] = value
        for expected in range(1, len(groups) + 1):
            if expected not in groups:
                raise InvalidArgument.of(
                    self.path(f"{name}.{expected}"), "missing: indices run 1..N without gaps"
                )
        return [groups[n] for n in range(1, len(groups) + 1)]

    def _json_list(self, name: str, text: str) -> list[Any]:
        value = parse_json(text, self.path(name), first_index=1)
        if not isinstance(value, list):
            raise InvalidArgument.of(
                self.path(name), f"must be a JSON array or be given as {name}.1, {name}.2, …"
            )
        return value

    def _one_encoding(self, name: str) -> tuple[str | None, list[dict[str, str]]]:
        text, flat = self.values.get(name), self._indexed(name)
        if text is not None and flat:
            raise InvalidArgument.of(
                self.path(name), f"give JSON text or {name}.1, {name}.2, …, not both"
            )
        return text, flat

    def strings(self, name: str, *, required: bool = False) -> list[str] | None:
        """A list of strings: `name.1`, `name.2`, … or `name=["a","b"]`; absent is None."""
        text, flat = self._one_encoding(name)
        if text is not None:
            items = self._json_list(name, text)
            for n, item in enumerate(items, start=1):
                if not isinstance(item, str):
                    raise InvalidArgument.of(self.path(f"{name}.{n}"), "must be a string")
            found: list[str] | None = items
        elif flat:
            for n, fields in enumerate(flat, start=1):
                if set(fields) != {""}:
                    field = next(f for f in fields if f)
                    raise InvalidArgument.of(
                        self.path(f"{name}.{n}.{field}"), f"{name} is a list of strings"
                    )
            found = [fields[""] for fields in flat]
        else:
            found = None
        if required and not found:
            raise missing(self.path(name))
        return found

    def objects(self, name: str) -> list[Params] | None:
        """A list of objects: `name.N.Field=…` or `name=[{"Field": …}]`; absent is None."""
        text, flat = self._one_encoding(name)
        if text is not None:
            found = []
            for n, item in enumerate(self._json_list(name, text), start=1):
                path = f"{self.path(name)}.{n}"
                if not isinstance(item, dict):
                    raise InvalidArgument.of(path, "must be a JSON object")
                decoded = {str(k): _wire_text(v, f"{path}.{k}") for k, v in item.items()}
                found.append(
                    Params({k: v for k, v in decoded.items() if v is not None}, prefix=path + ".")
                )
            return found
        for n, fields in enumerate(flat, start=1):
            if "" in fields:
                raise InvalidArgument.of(
                    self.path(f"{name}.{n}"), f"must be an object: give {name}.{n}.Field=…"
                )
        return [
            Params(fields, prefix=f"{self.path(name)}.{n}.")
            for n, fields in enumerate(flat, start=1)
        ] or None

    def json_object(self, name: str) -> dict[str, Any] | None:
        """An object: `name={…}` (JSON text; blank is `{}`) or `name.Field=…` pairs (string
        values); absent is None."""
        lead = name + "."
        flat = {k[len(lead) :]: v for k, v in self.values.items() if k.startswith(lead)}
        text = self.values.get(name)
        if text is not None and flat:
            raise InvalidArgument.of(self.path(name), f"give JSON text or {name}.Field=…, not both")
        if flat:
            return dict(flat)
        if text is None:
            return None
        if not text.strip():
            return {}
        value = parse_json(text, self.path(name))
        if not isinstance(value, dict):
            raise InvalidArgument.of(self.path(name), "must be a JSON object")
        return value


def paging(params: Params) -> PageRequest:
    """`PageNumber` (0 and 1 both mean the first page) and `PageSize`."""
    return page_request(params.integer("PageNumber"), params.integer("PageSize"))
