"""The answers a handler of the native face sends, read from its source.

`Handler(function, endpoints)` finds the `JsonResponse(...)` calls of a route handler and
builds their content with sample domain values (tests/support/domain_samples.py): a
renderer (a function of `modelplane.faces.native` that returns a dict) is called for
real, with the handler's literal arguments and a sample for the others; dict and list
literals and the handler's local names are followed; any other value the handler computes
(an id from the path, a count) is `ANY_VALUE`.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from collections.abc import Callable
from typing import Any

from modelplane.faces import native
from tests.support.declared_fields import ANY_VALUE
from tests.support.domain_samples import samples


def is_renderer(obj: object) -> bool:
    """A plain function of the native face that returns a dict."""
    if not inspect.isfunction(obj) or not obj.__module__.startswith(native.__name__ + "."):
        return False
    returns = typing.get_type_hints(obj).get("return")
    return typing.get_origin(returns) is dict or returns is dict


class Handler:
    """A route handler's answers, built from its source.

    Its `JsonResponse(...)` calls are its answers, and so are those of a helper of the face
    whose answer it returns (`return await _history(...)`); a handler it hands the request
    to (`return await get_configs(...)`) answers for its own route and is checked there.
    """

    def __init__(self, function: Callable[..., Any], endpoints: set[Callable[..., Any]]) -> None:
        self.globals = function.__globals__
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        assigned: dict[str, list[ast.expr]] = {}
        self.answers: list[tuple[Handler, ast.expr, ast.expr | None]] = []
        self.renderers: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Call) and _name(node.func) == "JsonResponse":
                args = [*node.args, *(k.value for k in node.keywords if k.arg == "content")]
                status = [
                    *node.args[1:2],
                    *(k.value for k in node.keywords if k.arg == "status_code"),
                ]
                self.answers.append((self, args[0], status[0] if status else None))
                continue
            elif isinstance(node, ast.Return) and (helper := self.helper(node.value)):
                if helper not in endpoints:
                    self.answers += Handler(helper, endpoints).answers
                continue
            else:
                continue
            if isinstance(target, ast.Name):
                assigned.setdefault(target.id, []).append(value)
        # A name assigned more than once is not followed: it is a computed value.
        self.locals = {name: values[0] for name, values in assigned.items() if len(values) == 1}

    def helper(self, node: ast.expr | None) -> Callable[..., Any] | None:
        """The function of the native face that `node` returns the answer of, if any."""
        call = node.value if isinstance(node, ast.Await) else node
        if not isinstance(call, ast.Call):
            return None
        found = self.globals.get(_name(call.func))
        if inspect.isfunction(found) and found.__module__.startswith(native.__name__ + "."):
            return None if is_renderer(found) else found
        return None

    def value(self, node: ast.expr, variant: int, bound: frozenset[str] = frozenset()) -> Any:
        """What `node` evaluates to in the answer, with sample domain values."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Dict):
            out: dict[Any, Any] = {}
            for key, item in zip(node.keys, node.values, strict=True):
                if key is None:
                    spread = self.value(item, variant, bound)
                    if not isinstance(spread, dict):
                        raise AssertionError(f"cannot read `**{ast.unparse(item)}`")
                    out.update(spread)
                else:
                    out[self.value(key, variant, bound)] = self.value(item, variant, bound)
            return out
        if isinstance(node, ast.List):
            return [self.value(e, variant, bound) for e in node.elts]
        if isinstance(node, ast.ListComp):
            targets = {
                n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
            }
            return [self.value(node.elt, variant, bound | targets)]
        if isinstance(node, ast.Name) and node.id in self.locals and node.id not in bound:
            return self.value(self.locals[node.id], variant, bound)
        if isinstance(node, ast.Call) and is_renderer(self.globals.get(_name(node.func))):
            return self.render(self.globals[_name(node.func)], node, variant, bound)
        return ANY_VALUE

    def render(
        self, renderer: Callable[..., Any], call: ast.Call, variant: int, bound: frozenset[str]
    ) -> Any:
        """Call `renderer` with the handler's readable arguments and samples for the rest."""
        hints = typing.get_type_hints(renderer)
        params = list(inspect.signature(renderer).parameters)
        given = [*zip(params, call.args, strict=False), *((k.arg, k.value) for k in call.keywords)]
        kwargs = {}
        for name, node in given:
            assert name is not None, f"cannot read `{ast.unparse(call)}`"
            value = self.value(node, variant, bound)
            if value == ANY_VALUE:
                options = samples(hints[name])
                value = options[variant % len(options)]
            kwargs[name] = value
        self.renderers.add(f"{renderer.__module__}.{renderer.__name__}")
        return renderer(**kwargs)


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else ""
