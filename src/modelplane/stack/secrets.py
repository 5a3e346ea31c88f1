"""Secrets of a stack: `env://NAME` references read from the environment when applying."""

from __future__ import annotations

from collections.abc import Mapping

from modelplane.stack.spec import ENV_REF, StackError


class Environment:
    """Reads `env://NAME` references, collecting every one that is not set."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.missing: list[str] = []

    def read(self, reference: str, place: str) -> str:
        """The value of the variable named by `reference` ("" when unset, noted as missing)."""
        match = ENV_REF.match(reference)
        assert match is not None  # the spec only admits env://NAME
        value = self._environ.get(match.group(1), "")
        if not value:
            self.missing.append(f"{place}: environment variable {match.group(1)} is not set")
        return value

    def check(self) -> None:
        """StackError naming every reference that could not be read."""
        if self.missing:
            raise StackError("; ".join(self.missing))
