"""What the Alibaba faces share about errors: envelope errors, and reading a face's table.

Each face keeps its own table (domain error → status and code) and its own body; this
module only applies a table the same way everywhere: envelope errors and signature errors
keep their own status and code, domain errors take their table row, a body over the limit
is 413, and anything else is logged and answered with the face's internal error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelplane.domain import errors as domain
from modelplane.faces.aliyun.transport import signature_status
from modelplane.faces.envelope import EnvelopeError
from modelplane.faces.middleware import BodyTooLarge
from modelplane.security.signatures import SignatureError

# A code, or how to make one from the error (e.g. `<Entity>.NotFound`).
Code = str | Callable[[Any], str]
ErrorTable = Mapping[type[domain.DomainError], tuple[int, Code]]


def throttling_headers(seconds: float) -> dict[str, str]:
    """The wait before a throttled request may be sent again, as the Alibaba SDKs read it.

    `x-acs-retry-after` is in milliseconds: alibabacloud_tea_openapi 0.4
    (`Utils.get_throttling_time_left`) reads it as a positive integer and, when present on
    any 4xx/5xx answer, raises `ThrottlingException` (keeping `Code`, e.g.
    `Throttling.User`) with `retry_after` set to it; darabonba's retry policy then sleeps
    `min(retry_after, max_delay)` milliseconds (`sleep(millisecond / 1000)`) before the
    next attempt, if the caller enabled retries. A missing, non-integer or non-positive
    value makes the SDK raise a plain `ClientException` instead. `Retry-After` (whole
    seconds) is for everything else that speaks HTTP.

    The status is 429. COMPAT.md says nothing about it, Alibaba services answer
    `Throttling.User` with 400 or 429, and the SDK decides on the header alone (every
    path: RPC, ROA, ROA with a form, and `do_request` for ACS3 signatures), so the
    status keeps its HTTP meaning.
    """
    return {
        "x-acs-retry-after": str(max(1, math.ceil(seconds * 1000))),
        "Retry-After": str(max(1, math.ceil(seconds))),
    }


@dataclass(frozen=True)
class Described:
    """How an error is answered."""

    status: int
    code: str
    message: str
    headers: dict[str, str] | None = None


def describe(
    exc: Exception, table: ErrorTable, *, internal: tuple[str, str], log: logging.Logger
) -> Described:
    """Status, code, message and headers for any exception, per a face's `table`.

    `internal` is the face's (code, message) for an unexpected error.
    """
    if isinstance(exc, EnvelopeError):
        return Described(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, SignatureError):
        return Described(signature_status(exc.code), exc.code, exc.message)
    if isinstance(exc, domain.DomainError):
        row = next((v for k, v in table.items() if isinstance(exc, k)), None)
        if row is not None:
            status, code = row
            headers = None
            if isinstance(exc, domain.ResourceExhausted):
                headers = throttling_headers(exc.retry_after_seconds)
            return Described(status, code(exc) if callable(code) else code, exc.message, headers)
    elif isinstance(exc, BodyTooLarge):
        return Described(413, "PayloadTooLarge", str(exc.detail))
    log.error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__))
    return Described(500, *internal)
