"""The one settings object. Read from `MODELPLANE_*` variables; refuses unsafe values."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from modelplane.domain.errors import ViolationCollector
from modelplane.domain.prompts import RENDERED_MAX_BYTES
from modelplane.domain.spend_limits import OUTPUT_TOKENS_DEFAULT
from modelplane.domain.urls import check_http_url
from modelplane.security.secretbox import parse_master_key

TOKEN_MIN_LENGTH = 20
ACCESS_KEY_SECRET_MIN_LENGTH = 16
# The request line and headers of one request (counted by connections.py). The bailian SDK
# sends a prompt template in the URL query: 100,000 characters of 4-byte UTF-8, each byte
# percent-encoded, are 1,200,000 bytes, plus a 255-character name (3,060). 1.25 MiB holds
# that with ~100 KiB left for the path and the headers.
MAX_REQUEST_HEAD_BYTES = 1280 * 1024
# The largest text one render may make (UTF-8): the limit keeps a render's memory and its
# time on the event loop small; above 16 MiB neither would be.
MAX_RENDERED_BYTES_CEILING = 16 * 1024 * 1024
# Requests per second (0 = no limit), finite; and a burst of at least one request.
PerSecond = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Burst = Annotated[int, Field(ge=1)]
# `env://NAME` variables the gateway may read: names, or prefixes ending in `*`.
ENV_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\*?")
OWN_PREFIX = "MODELPLANE_"
# A deadline on a connection (seconds): positive, finite, at most an hour.
Timeout = Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)]


class RateLimitOverride(BaseModel):
    """One principal's own rate limit: `{"perSecond": 5, "burst": 10}` (0 = no limit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    perSecond: PerSecond  # the name as written in the JSON setting
    burst: Burst


class Settings(BaseSettings):
    """Service configuration; every field maps to `MODELPLANE_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="MODELPLANE_", extra="ignore")

    database_url: str = "sqlite:///./modelplane.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    previous_secret_keys: list[SecretStr] = Field(default_factory=list)
    bootstrap_token: SecretStr | None = None
    bootstrap_access_key_id: str | None = None
    bootstrap_access_key_secret: SecretStr | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # The server's log lines (logs.py): readable text, JSON, or auto (text on a terminal).
    log_format: Literal["auto", "text", "json"] = "auto"
    access_log: bool = True
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_request_head_bytes: int = Field(default=MAX_REQUEST_HEAD_BYTES, ge=16 * 1024)
    # Connections (see connections.py): the head of a request must arrive within
    # `head_timeout_seconds` (a new connection's first request too), its body within
    # `body_timeout_seconds` after the head; an idle keep-alive connection is closed after
    # `keep_alive_timeout_seconds`. Beyond `max_connections` open ones a new one is refused.
    head_timeout_seconds: Timeout = 10.0
    body_timeout_seconds: Timeout = 30.0
    keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=3600)
    max_connections: int = Field(default=1000, ge=1, le=1_000_000)
    # Open watches (long polls and event streams) per principal and in all, per replica.
    max_watches_per_principal: int = Field(default=100, ge=1)
    max_watches: int = Field(default=800, ge=1)
    # Who watches a namespace (store/config_listeners.py): this replica's id in the list
    # (absent: `hostname:pid`); how often its watchers' changes are written (the list lags
    # by up to that); after how long without a word from a replica its watchers are dropped.
    replica_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$")
    listeners_flush_seconds: float = Field(default=1.0, gt=0, le=60, allow_inf_nan=False)
    listeners_stale_seconds: float = Field(default=60.0, gt=0, le=3600, allow_inf_nan=False)
    max_rendered_bytes: int = Field(
        default=RENDERED_MAX_BYTES, ge=1024, le=MAX_RENDERED_BYTES_CEILING
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_timeout_seconds: float = Field(default=5.0, gt=0)
    graceful_shutdown_seconds: float = Field(default=20.0, ge=0)
    # Per principal and per replica (see security/rate_limits.py); 0 turns the limit off.
    rate_limit_per_second: PerSecond = 50.0
    rate_limit_burst: Burst = 100
    # principalId -> requests per second (keeping the burst above) or {perSecond, burst}.
    rate_limit_overrides: dict[str, PerSecond | RateLimitOverride] = Field(default_factory=dict)
    # What this replica serves: the control plane and the gateway, or one of them, so that
    # gateway replicas scale apart on the same database.
    serve: Literal["all", "gateway", "control-plane"] = "all"
    # The public base URL of the service (`https://HOST[:PORT][/PATH]`), where runtimes are
    # told the gateway is (`…/openai/v1`); absent: the request's own base URL, which is right
    # unless a proxy in front rewrites the host or the path.
    public_url: str | None = None
    # The gateway (faces/gateway): one call's deadline over all its attempts; the wait to
    # connect to an upstream; the longest silence of an upstream once it answers; at most
    # how many attempts; after how many failures in a row a member rests, and for how long.
    gateway_timeout_seconds: Timeout = 600.0
    gateway_connect_timeout_seconds: Timeout = 5.0
    gateway_idle_timeout_seconds: Timeout = 60.0
    gateway_max_attempts: int = Field(default=3, ge=1, le=20)
    # A gateway call's body (long contexts, images): larger than the API's `max_body_bytes`.
    gateway_max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024, le=1024**3)
    gateway_cooldown_failures: int = Field(default=3, ge=1, le=1000)
    gateway_cooldown_seconds: float = Field(default=30.0, ge=0, le=3600, allow_inf_nan=False)
    # The environment variables the gateway may read for `env://NAME` key references,
    # comma-separated names or `PREFIX*`; none by default, and never modelplane's own.
    gateway_env_keys: str = ""
    # Usage records of gateway calls (services/usage_recorder.py): kept this many days
    # (0: for ever; the daily rollups are always kept); written at least this often (what a
    # crash may lose); at most this many wait in memory for the store (beyond, new ones
    # are dropped and counted).
    usage_retention_days: int = Field(default=90, ge=0, le=36500)
    usage_flush_seconds: float = Field(default=1.0, gt=0, le=60, allow_inf_nan=False)
    usage_queue_max: int = Field(default=100_000, ge=1000, le=10_000_000)
    # Limits and budgets at the gateway (services/spend_guard.py): their counters live in
    # Redis when a URL is given (`redis://`, `rediss://` or `unix://`; one server shared by
    # every replica, not a Cluster), else in the database; the prefix of their keys; how
    # long one Redis command may take; whether a call goes on unchecked while the counters
    # do not answer (false: it is refused with 503); the output tokens a call's reservation
    # assumes when it names no maximum (nor its model a default).
    redis_url: SecretStr | None = None
    redis_key_prefix: str = Field(default="modelplane:", pattern=r"^[A-Za-z0-9:._{}-]{0,64}$")
    redis_timeout_seconds: float = Field(default=1.0, gt=0, le=60, allow_inf_nan=False)
    limits_fail_open: bool = False
    limits_output_tokens: int = Field(default=OUTPUT_TOKENS_DEFAULT, ge=1, le=10_000_000)
    # GET /metrics (Prometheus text format); with a token, only for `Bearer <token>`.
    metrics: bool = True
    # A span per gateway call, exported over OTLP/HTTP where the standard OTEL_EXPORTER_OTLP_*
    # variables say (faces/gateway/traces.py); needs `pip install 'modelplane[otel]'`.
    otel_traces: bool = False
    metrics_token: SecretStr | None = None
    # The web console (faces/console): how long a signed-in session lasts (seconds), from
    # sign-in; it ends sooner when signed out, or when its API key is revoked or expires.
    console_session_ttl: int = Field(default=8 * 3600, ge=60, le=30 * 24 * 3600)

    @field_validator("gateway_env_keys")
    @classmethod
    def _key_variables(cls, value: str) -> str:
        for item in _listed(value):
            if not ENV_KEY_PATTERN.fullmatch(item):
                raise ValueError(f"{item!r} is not a variable name or a PREFIX*")
            if item.upper().startswith(OWN_PREFIX):
                raise ValueError(f"{item!r}: the gateway never reads modelplane's own variables")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError(
                "must be redis://[USER:PASSWORD@]HOST[:PORT][/DB], rediss:// or unix://"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("must be sqlite:///PATH or postgresql://USER@HOST/DB")
        return value

    @field_validator("secret_key")
    @classmethod
    def _master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_master_key(value.get_secret_value())  # its message states the rule
        return value

    @field_validator("previous_secret_keys")
    @classmethod
    def _previous_master_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for n, key in enumerate(value, 1):
            try:
                parse_master_key(key.get_secret_value())
            except ValueError as exc:
                raise ValueError(f"key {n} of {len(value)}: {exc}") from None
        return value

    @field_validator("rate_limit_overrides")
    @classmethod
    def _named_principals(
        cls, value: dict[str, float | RateLimitOverride]
    ) -> dict[str, float | RateLimitOverride]:
        blank = [key for key in value if not key.strip()]
        if blank:
            raise ValueError("every key must be a principal id, not blank")
        return value

    @field_validator("bootstrap_token", "metrics_token")
    @classmethod
    def _strong_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < TOKEN_MIN_LENGTH:
            raise ValueError(f"must be at least {TOKEN_MIN_LENGTH} characters")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None  # set but empty: unset
        errors = ViolationCollector()
        check_http_url(value, "MODELPLANE_PUBLIC_URL", errors)
        if errors.violations or "?" in value or "#" in value:
            raise ValueError(
                "must be an absolute http(s) URL such as https://modelplane.example.com, "
                "without user:password@, a query or a fragment"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _safe_combination(self) -> Settings:
        if (self.bootstrap_access_key_id is None) != (self.bootstrap_access_key_secret is None):
            raise ValueError(
                "MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID and MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET "
                "must be set together"
            )
        secret = self.bootstrap_access_key_secret
        if secret is not None and len(secret.get_secret_value()) < ACCESS_KEY_SECRET_MIN_LENGTH:
            raise ValueError(
                "MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET must be at least "
                f"{ACCESS_KEY_SECRET_MIN_LENGTH} characters"
            )
        if self.max_watches_per_principal > self.max_watches:
            raise ValueError(
                "MODELPLANE_MAX_WATCHES_PER_PRINCIPAL must not exceed MODELPLANE_MAX_WATCHES"
            )
        if self.max_watches >= self.max_connections:
            raise ValueError(
                "MODELPLANE_MAX_WATCHES must be below MODELPLANE_MAX_CONNECTIONS, so that "
                "watches never hold every connection"
            )
        if self.is_postgres and self.secret_key is None and self.secret_key_file is None:
            raise ValueError(
                "with PostgreSQL, set MODELPLANE_SECRET_KEY (or MODELPLANE_SECRET_KEY_FILE) so "
                "that every replica encrypts with the same master key"
            )
        return self

    @property
    def serves_gateway(self) -> bool:
        """Whether this replica answers the gateway's routes (`serve` all or gateway)."""
        return self.serve in ("all", "gateway")

    @property
    def serves_control_plane(self) -> bool:
        """Whether this replica answers the control plane's (`serve` all or control-plane)."""
        return self.serve in ("all", "control-plane")

    @property
    def is_postgres(self) -> bool:
        """Whether the store is PostgreSQL (otherwise embedded SQLite)."""
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for PostgreSQL or in-memory SQLite."""
        if self.is_postgres:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        return None if path in ("", ":memory:") else Path(path)

    @property
    def effective_key_file(self) -> Path | None:
        """Where the master key is kept when not given inline."""
        if self.secret_key_file is not None:
            return self.secret_key_file
        db = self.sqlite_path
        return db.with_name(db.name + ".key") if db is not None else None


class KeyVariables(Mapping[str, str]):
    """The variables of an environment that `env://NAME` key references may read: those
    named by `gateway_env_keys` (a `PREFIX*` names all that start so), never `MODELPLANE_*`.
    Read when a model name is resolved."""

    def __init__(self, listed: str, environ: Mapping[str, str]) -> None:
        names = _listed(listed)
        self._exact = frozenset(n for n in names if not n.endswith("*"))
        self._prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
        self._environ = environ

    def _allowed(self, name: str) -> bool:
        if name.upper().startswith(OWN_PREFIX):
            return False
        return name in self._exact or name.startswith(self._prefixes)

    def __getitem__(self, name: str) -> str:
        if not self._allowed(name):
            raise KeyError(name)
        return self._environ[name]

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._environ if self._allowed(name))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def gateway_environment(settings: Settings) -> Mapping[str, str]:
    """What the gateway's `env://NAME` key references may read of the process's
    environment (see `KeyVariables`)."""
    return KeyVariables(settings.gateway_env_keys, os.environ)


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
