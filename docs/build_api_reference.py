"""Build docs/api-reference.md from modelplane's OpenAPI document.

    python docs/build_api_reference.py           # rewrite docs/api-reference.md
    python docs/build_api_reference.py --check   # exit 1 when the file is stale

The document is the one the server publishes at `/openapi.json`: the app is created (not
started) with a throw-away SQLite URL and a fresh master key, neither of which shows in the
document. The output depends on the document alone, so two builds are byte-identical.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from modelplane.app import create_app
from modelplane.security.secretbox import new_master_key_text
from modelplane.settings import Settings

DOCS = Path(__file__).resolve().parent
OUTPUT = DOCS / "api-reference.md"
COMMAND = "python docs/build_api_reference.py"

Schema = dict[str, Any]

# FastAPI lists a 422 `HTTPValidationError` answer for every operation with input, but the
# native face answers invalid input with 400 `INVALID_ARGUMENT` and the error body below
# (faces/native/errors.py); the 422 entries are left out rather than documented wrongly.
UNSENT_SCHEMAS = {"HTTPValidationError"}
MAX_DEPTH = 4  # how deep nested request fields are spelled out (a.b.c.d)


def openapi_document() -> Schema:
    """The app's OpenAPI document; settings are built without reading the environment."""
    with tempfile.TemporaryDirectory(prefix="modelplane-openapi-") as directory:
        settings = Settings.model_construct(
            database_url=f"sqlite:///{Path(directory) / 'openapi.db'}",
            secret_key=SecretStr(new_master_key_text()),
            access_log=False,
        )
        document: Schema = create_app(settings).openapi()
    return document


class Renderer:
    """Markdown for one OpenAPI document; remembers which component schemas it linked."""

    def __init__(self, document: Schema) -> None:
        self.document = document
        self.schemas: dict[str, Schema] = document.get("components", {}).get("schemas", {})
        self.linked: set[str] = set()

    # -- schemas ------------------------------------------------------------------------

    def resolve(self, schema: Schema) -> tuple[str | None, Schema]:
        """(component name or None, the schema behind a `$ref`)."""
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return None, schema
        name = ref.rsplit("/", 1)[-1]
        return name, self.schemas[name]

    @staticmethod
    def without_null(schema: Schema) -> tuple[Schema, bool]:
        """The schema with a `null` alternative removed, and whether there was one."""
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list):
                rest = [o for o in options if o.get("type") != "null"]
                if len(rest) < len(options):
                    if len(rest) == 1:
                        merged = {k: v for k, v in schema.items() if k != key}
                        return {**rest[0], **merged}, True
                    return {**schema, key: rest}, True
        return schema, False

    def link(self, name: str) -> str:
        self.linked.add(name)
        return f"[`{name}`](#{name.lower()})"

    def type_of(self, schema: Schema) -> str:
        """A short type: `string (1..255 chars)`, `array of LlmOut`, `"a", "b"`, …"""
        schema, nullable = self.without_null(schema)
        text = self._bare_type(schema)
        return f"{text} or null" if nullable else text

    def _bare_type(self, schema: Schema) -> str:
        name, target = self.resolve(schema)
        if name is not None:
            if "enum" in target:
                return f"`{name}`: {enum_values(target['enum'])}"
            return self.link(name)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                joiner = " and " if key == "allOf" else " or "
                return joiner.join(self.type_of(option) for option in schema[key])
        if "enum" in schema:
            return enum_values(schema["enum"])
        if "const" in schema:
            return code(repr_json(schema["const"]))
        kind = schema.get("type")
        if kind == "array":
            items = schema.get("items", {})
            return f"array of {self.type_of(items)}" if items else "array"
        if kind == "object" or "properties" in schema:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra and "properties" not in schema:
                return f"map of {self.type_of(extra)}"
            return "object"
        text = str(kind) if kind else "any"
        if "format" in schema:
            text += f" ({schema['format']})"
        return text + constraints(schema)

    def fields(self, schema: Schema, prefix: str = "", depth: int = 0) -> Iterator[list[str]]:
        """Rows `[field, type, required, description]`, nested objects spelled out."""
        _, schema = self.resolve(self.without_null(schema)[0])
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            path = f"{prefix}{name}"
            yield [
                code(path),
                self.type_of(prop),
                "yes" if name in required else "no",
                describe(prop),
            ]
            if depth + 1 >= MAX_DEPTH:
                continue
            inner, _ = self.without_null(prop)
            if inner.get("type") == "array" and isinstance(inner.get("items"), dict):
                inner, suffix = inner["items"], "[]."
            else:
                suffix = "."
            _, target = self.resolve(inner)
            if target.get("properties"):
                yield from self.fields(target, f"{path}{suffix}", depth + 1)

    # -- the page -----------------------------------------------------------------------

    def operations(self) -> Iterator[tuple[str, str, Schema]]:
        for path, item in self.document.get("paths", {}).items():
            for method, operation in item.items():
                if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                    yield method.upper(), path, operation

    def tags(self) -> list[str]:
        """Tags in the order of their first operation (the order routes are mounted in)."""
        seen: list[str] = []
        for _, _, operation in self.operations():
            for tag in operation.get("tags") or ["other"]:
                if tag not in seen:
                    seen.append(tag)
        return seen

    def render(self) -> str:
        info = self.document.get("info", {})
        out = [
            "<!-- Generated from the OpenAPI document by docs/build_api_reference.py: "
            f"do not edit by hand; run `{COMMAND}` after changing a route. -->",
            "",
            "# API reference",
            "",
            f"The native HTTP API of {info.get('title', 'modelplane')} "
            f"{info.get('version', '')}, built from its OpenAPI document "
            f"(OpenAPI {self.document.get('openapi', '?')}). A running server publishes the "
            "same document at `/openapi.json` and renders it at `/docs`.",
            "",
            info.get("description", "").strip(),
            "",
            "The Alibaba Cloud faces (`POST /` for appstream-center, `/{workspaceId}/"
            "promptTemplates` for bailian, `/api/v2/configs/…` for PAI-EAS) speak the wire "
            "formats of those services and are not part of this document: see the "
            "[SDK pages](index.md#sdks).",
            "",
        ]
        out += self.render_security()
        out += self.render_errors()
        tags = self.tags()
        out += ["## Operations", ""]
        for tag in tags:
            ops = [
                f"`{m} {p}`" for m, p, o in self.operations() if tag in (o.get("tags") or ["other"])
            ]
            out.append(f"- [{tag}](#{tag.lower()}): {', '.join(ops)}")
        out.append("")
        for tag in tags:
            out += [f"## {tag}", ""]
            for method, path, operation in self.operations():
                if tag in (operation.get("tags") or ["other"]):
                    out += self.render_operation(method, path, operation)
        out += self.render_schemas()
        return "\n".join(out).rstrip("\n") + "\n"

    def render_security(self) -> list[str]:
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        if not schemes:
            return []
        out = ["## Authentication", ""]
        for name, scheme in schemes.items():
            if scheme.get("type") == "http":
                how = f"HTTP `{scheme.get('scheme', '')}`: `Authorization: Bearer <key>`"
            elif scheme.get("type") == "apiKey":
                how = f"{scheme.get('in', 'header')} `{scheme.get('name', '')}: <key>`"
            else:
                how = str(scheme.get("type"))
            note = f" ({scheme['description']})" if scheme.get("description") else ""
            out.append(f"- `{name}`: {how}{note}")
        out += [
            "",
            "An operation accepts any one of these unless it says *No authentication*.",
            "",
        ]
        return out

    def error_schema(self) -> str | None:
        """The component that most error answers (4xx, 5xx) of the operations carry."""
        counts: dict[str, int] = {}
        for _, _, operation in self.operations():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45":
                    for media in response.get("content", {}).values():
                        name, _ = self.resolve(media.get("schema", {}))
                        if name and name not in UNSENT_SCHEMAS:
                            counts[name] = counts.get(name, 0) + 1
        return min(counts, key=lambda n: (-counts[n], n)) if counts else None

    def render_errors(self) -> list[str]:
        name = self.error_schema()
        if name is None:
            return []
        out = [
            "## Errors",
            "",
            f"Every error answer is JSON with the body [`{name}`](#{name.lower()}), e.g. "
            '`{"code": "INVALID_ARGUMENT", "message": "endpointUrl: …", "details": '
            '[{"field": "endpointUrl", "rule": "…"}]}`:',
            "",
        ]
        out += table(["field", "type", "required", "description"], self.fields(self.schemas[name]))
        out += [
            "",
            "Invalid input (a missing or malformed field, a bad query parameter, malformed "
            "JSON) is answered `400 INVALID_ARGUMENT`, with one `details` entry per field.",
            "",
        ]
        return out

    def render_operation(self, method: str, path: str, operation: Schema) -> list[str]:
        out = [f"### {operation.get('summary') or operation.get('operationId', path)}", ""]
        out += [f"`{method} {path}`", ""]
        if operation.get("deprecated"):
            out += ["**Deprecated.**", ""]
        description = (operation.get("description") or "").strip()
        if description:
            out += [description, ""]
        if "security" not in operation:
            out += ["*No authentication.*", ""]
        parameters = operation.get("parameters", [])
        if parameters:
            parameter_rows = [
                [
                    code(p["name"]),
                    p.get("in", ""),
                    self.type_of(p.get("schema", {})),
                    "yes" if p.get("required") else "no",
                    describe(p),
                ]
                for p in parameters
            ]
            out += ["Parameters:", ""]
            out += table(["name", "in", "type", "required", "description"], parameter_rows)
            out.append("")
        body = operation.get("requestBody")
        if body:
            for media, content in body.get("content", {}).items():
                schema = content.get("schema", {})
                required = "required" if body.get("required") else "optional"
                out += [f"Request body (`{media}`, {required}): {self.type_of(schema)}", ""]
                field_rows = list(self.fields(schema))
                if field_rows:
                    out += table(["field", "type", "required", "description"], field_rows)
                    out.append("")
        out += ["Responses:", ""]
        rows: list[list[str]] = []
        for status, response in operation.get("responses", {}).items():
            bodies = []
            unsent = False
            for media, content in response.get("content", {}).items():
                name, _ = self.resolve(content.get("schema", {}))
                if name in UNSENT_SCHEMAS:
                    unsent = True
                    continue
                bodies.append(f"`{media}`: {self.type_of(content.get('schema', {}))}")
            if unsent and not bodies:
                continue
            rows.append([status, response.get("description", ""), "; ".join(bodies) or "none"])
        rows.sort(key=lambda row: row[0])
        out += table(["status", "meaning", "body"], rows)
        out.append("")
        return out

    def render_schemas(self) -> list[str]:
        """A section per linked schema, and per schema linked from those, by name."""
        done: set[str] = set()
        while pending := sorted(self.linked - done):
            for name in pending:
                done.add(name)
                self.schema_section(name)  # links what the schema refers to
        out = ["## Schemas", "", "The bodies the operations answer with, and what they hold.", ""]
        for name in sorted(done):
            out += self.schema_section(name)
        return out

    def schema_section(self, name: str) -> list[str]:
        schema = self.schemas[name]
        out = [f"### {name}", ""]
        if schema.get("description"):
            out += [schema["description"].strip(), ""]
        required = set(schema.get("required", []))
        rows = [
            [code(field), self.type_of(prop), "yes" if field in required else "no", describe(prop)]
            for field, prop in schema.get("properties", {}).items()
        ]
        if rows:
            out += table(["field", "type", "required", "description"], rows)
        else:
            bare = {k: v for k, v in schema.items() if k not in ("title", "description")}
            out.append(f"Type: {self.type_of(bare)}")
        out.append("")
        return out


def enum_values(values: list[Any]) -> str:
    return ", ".join(code(repr_json(v)) for v in values)


def repr_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def constraints(schema: Schema) -> str:
    """Limits of a scalar, as ` (1..255 chars, pattern ^/)`."""
    parts = []
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None or high is not None:
        parts.append(f"{low if low is not None else 0}..{high if high is not None else ''} chars")
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None or high is not None:
        parts.append(f"{number(low) if low is not None else ''}..{number(high) if high else ''}")
    if "pattern" in schema:
        parts.append(f"pattern {code(schema['pattern'])}")
    return f" ({', '.join(parts)})" if parts else ""


def number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def describe(item: Schema) -> str:
    """The description of a field or parameter, with its default."""
    text = item.get("description") or item.get("schema", {}).get("description") or ""
    default = item.get("default", item.get("schema", {}).get("default"))
    if default is not None:
        if text and not text.endswith((".", "?", "!")):
            text += "."
        text = f"{text} Default {code(repr_json(default))}.".strip()
    return text


def code(text: str) -> str:
    """An inline code span that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(header: list[str], rows: Iterator[list[str]] | list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def build(document: Schema | None = None) -> str:
    """The text of docs/api-reference.md."""
    return Renderer(document if document is not None else openapi_document()).render()


def stale_diff(current: str, fresh: str, name: str = "docs/api-reference.md") -> str:
    """The first lines of a unified diff from the committed file to a fresh build."""
    diff = difflib.unified_diff(
        current.splitlines(), fresh.splitlines(), f"{name} (committed)", f"{name} (built)", n=1
    )
    return "\n".join(list(diff)[:60])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the file to write or check")
    args = parser.parse_args(argv)
    fresh = build()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != fresh:
            print(
                f"{args.output} is stale: run `{COMMAND}` and commit the result.\n"
                + stale_diff(current, fresh),
                file=sys.stderr,
            )
            return 1
        print(f"{args.output} is current")
        return 0
    args.output.write_text(fresh, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
