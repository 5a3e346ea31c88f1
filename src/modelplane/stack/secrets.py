"""Secrets of a stack: `env://NAME` references read from the environment when applying."""

from __future__ import annotations

from collections.abc import Mapping

from modelplane.stack.spec import ENV_REF, StackError

# What a dry-run plans with in place of a secret that is not set (never stored: a dry-run
# writes nothing). A plan made with it may show that secret's field as changed.
PLACEHOLDER = "modelplane-dry-run-unset-secret"


class Environment:
    """Reads `env://NAME` references, collecting every one that is not set.

    `placeholder`, when given, is the value of an unset one (still noted as missing).
    """

    def __init__(self, environ: Mapping[str, str], *, placeholder: str | None = None) -> None:
        self._environ = environ
        self._placeholder = placeholder
        self.missing: list[str] = []
        self.names: list[str] = []  # every variable referenced, in the order read

    def read(self, reference: str, place: str) -> str:
        """The value of the variable named by `reference` ("" when unset, noted as missing)."""
        match = ENV_REF.match(reference)
        assert match is not None  # the spec only admits env://NAME
        name = match.group(1)
        if name not in self.names:
            self.names.append(name)
        value = self._environ.get(name, "")
        if not value:
            self.missing.append(f"{place}: environment variable {name} is not set")
            return self._placeholder or ""
        return value

    def check(self) -> None:
        """StackError naming every reference that could not be read."""
        if self.missing:
            raise StackError("; ".join(self.missing))
