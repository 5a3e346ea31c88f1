"""Endpoint URL rules: validation and the canonical form used for duplicate detection."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from modelplane.domain.errors import ViolationCollector

URL_MAX = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_http_url(value: str, path: str, errors: ViolationCollector) -> None:
    """Record a violation unless `value` is an absolute http(s) URL without userinfo."""
    if not value or len(value) > URL_MAX:
        errors.add(path, f"must be an absolute http(s) URL of 1..{URL_MAX} characters")
        return
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        errors.add(path, "must not contain whitespace or control characters")
        return
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        errors.add(path, "is not a valid URL")
        return
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        errors.add(path, "must be an absolute http(s) URL")
    elif parts.username is not None or parts.password is not None:
        errors.add(path, "must not carry credentials (user:password@); use `credentials`")
    elif port == 0:
        errors.add(path, "port must be 1..65535")


def canonical_url(value: str) -> str:
    """Lower-case scheme and host, default port dropped, trailing slash dropped; path kept."""
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, parts.query, ""))
