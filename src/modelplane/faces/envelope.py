"""The error of a face's envelope: what goes wrong around a use case, not in one."""

from __future__ import annotations


class EnvelopeError(Exception):
    """An error of a face's envelope (not of a use case), with its own status and code,
    and headers to answer with."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
