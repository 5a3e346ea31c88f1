"""The core speaks one language: the domain and the services name fields as the native API
does (each face spells them its own way where it renders errors), and take parsed values,
never JSON text."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import modelplane.services
from modelplane import domain

CORE = [Path(domain.__file__).parent, Path(modelplane.services.__file__).parent]
# The first segment of a field path: lowerCamelCase (`providerName`, `items.0.llmCode`).
_CORE_FIELD = re.compile(r"^[a-z][A-Za-z0-9]*(\.|$)")
# Calls that name a field, and which positional argument holds its path.
_FIELD_ARGUMENT = {
    "add": 0,  # errors.add(field, rule)
    "of": 0,  # InvalidArgument.of(field, rule)
    "FieldViolation": 0,
    "check_length": 1,
    "check_http_url": 1,
    "check_json_value": 1,
    "check_config": 1,
}


def _leading_text(node: ast.expr) -> str | None:
    """A string literal, or the literal start of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        receiver = func.value
        if func.attr == "add" and not (isinstance(receiver, ast.Name) and receiver.id == "errors"):
            return None  # a set's add, not a ViolationCollector's
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def named_fields(source: str) -> Iterator[tuple[int, str]]:
    """`(line, field)` of every field path written out where the code names a field."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        index = _FIELD_ARGUMENT.get(_callee(node) or "")
        arguments = node.args[index : index + 1] if index is not None else []
        arguments += [k.value for k in node.keywords if k.arg == "field"]
        for argument in arguments:
            text = _leading_text(argument)
            if text:
                yield node.lineno, text


def test_the_domain_and_the_services_name_fields_as_the_native_api_does() -> None:
    found, wrong = 0, []
    for package in CORE:
        for path in sorted(package.glob("*.py")):
            for line, field in named_fields(path.read_text(encoding="utf-8")):
                found += 1
                if not _CORE_FIELD.match(field):
                    wrong.append(f"{package.name}/{path.name}:{line}: {field}")
    assert found > 50  # the scan sees the rules
    assert wrong == [], "fields named in a face's spelling:\n" + "\n".join(wrong)


def test_the_use_cases_take_parsed_values_not_json_text() -> None:
    texts = []
    for info in pkgutil.iter_modules(modelplane.services.__path__):
        module = importlib.import_module(f"modelplane.services.{info.name}")
        for name, function in inspect.getmembers(module, inspect.iscoroutinefunction):
            if function.__module__ != module.__name__:
                continue
            texts += [
                f"{info.name}.{name}({parameter})"
                for parameter in inspect.signature(function).parameters
                if parameter.endswith("_text")
            ]
    assert texts == []
