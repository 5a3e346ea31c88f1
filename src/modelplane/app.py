"""`create_app(settings)`: the ASGI application. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from modelplane import __version__, stack_endpoint
from modelplane.faces import console, health, route_index
from modelplane.faces.aliyun.roa import bailian as aliyun_bailian
from modelplane.faces.aliyun.roa import eas as aliyun_eas
from modelplane.faces.aliyun.rpc import routes as aliyun_rpc
from modelplane.faces.gateway import routes as gateway_routes
from modelplane.faces.gateway.dispatch import GatewayFirst
from modelplane.faces.gateway.health import Health
from modelplane.faces.gateway.metrics import GatewayMetrics
from modelplane.faces.gateway.relay import Limits, Relay
from modelplane.faces.gateway.traces import CallTraces
from modelplane.faces.metrics import HttpMetrics, metrics_route
from modelplane.faces.middleware import RequestContext
from modelplane.faces.native import audit as native_audit
from modelplane.faces.native import configs as native_configs
from modelplane.faces.native import errors as native_errors
from modelplane.faces.native import llm_templates as native_llm_templates
from modelplane.faces.native import llms as native_llms
from modelplane.faces.native import model_groups as native_model_groups
from modelplane.faces.native import openapi as native_openapi
from modelplane.faces.native import principals as native_principals
from modelplane.faces.native import prompt_labels as native_prompt_labels
from modelplane.faces.native import prompt_templates as native_prompt_templates
from modelplane.faces.native import prompt_watch as native_prompt_watch
from modelplane.faces.native import provider_templates as native_provider_templates
from modelplane.faces.native import runtimes as native_runtimes
from modelplane.faces.native import spend_limits as native_spend_limits
from modelplane.faces.native import usage as native_usage
from modelplane.faces.native import workspaces as native_workspaces
from modelplane.faces.native.deps import NativeAuth
from modelplane.faces.shutdown import Shutdown
from modelplane.logs import AccessLog, resolved_format, stderr_writer
from modelplane.security.rate_limits import RateLimit, RateLimiter
from modelplane.security.secretbox import SecretBox, load_or_create_key_file, parse_master_key
from modelplane.security.watch_slots import WatchSlots
from modelplane.services.bootstrap import bootstrap
from modelplane.services.key_rotation import find_unopenable
from modelplane.services.spend_guard import SpendGuard
from modelplane.services.usage_recorder import RecorderOptions, UsageRecorder
from modelplane.settings import RateLimitOverride, Settings, gateway_environment
from modelplane.store import migrate
from modelplane.store.cache import ReadCache
from modelplane.store.config_listeners import ListenerOptions
from modelplane.store.counters import counters_for
from modelplane.store.engine import create_engines
from modelplane.store.uow import Store

log = logging.getLogger("modelplane.secrets")


def secret_box(settings: Settings) -> SecretBox:
    """The secret box for `settings`: inline key, key file, or a new key file beside SQLite."""
    previous = [parse_master_key(k.get_secret_value()) for k in settings.previous_secret_keys]
    if settings.secret_key is not None:
        return SecretBox(parse_master_key(settings.secret_key.get_secret_value()), previous)
    key_file = settings.effective_key_file
    if key_file is None:
        raise RuntimeError("set MODELPLANE_SECRET_KEY (no file location for an in-memory store)")
    try:
        return SecretBox(load_or_create_key_file(key_file), previous)
    except ValueError as exc:
        named = "MODELPLANE_SECRET_KEY_FILE" if settings.secret_key_file else "the key file"
        raise ValueError(f"{named} {key_file}: {exc}") from None


def rate_limiter(settings: Settings) -> RateLimiter:
    """The per-principal rate limits of `settings` (a rate of 0 means no limit)."""

    def limit(per_second: float, burst: int) -> RateLimit | None:
        return RateLimit(per_second, burst) if per_second > 0 else None

    overrides = {
        principal_id: limit(value.perSecond, value.burst)
        if isinstance(value, RateLimitOverride)
        else limit(value, settings.rate_limit_burst)
        for principal_id, value in settings.rate_limit_overrides.items()
    }
    return RateLimiter(limit(settings.rate_limit_per_second, settings.rate_limit_burst), overrides)


def store_gauges(store: Store) -> Callable[[], list[tuple[str, str, str, float]]]:
    """The store's numbers for /metrics: read cache, connections, watchers."""

    def samples() -> list[tuple[str, str, str, float]]:
        cache = store.cache
        return [
            (
                "modelplane_read_cache_hits_total",
                "counter",
                "Reads answered from the read cache.",
                cache.hits,
            ),
            (
                "modelplane_read_cache_misses_total",
                "counter",
                "Reads that queried the database.",
                cache.misses,
            ),
            (
                "modelplane_read_cache_entries",
                "gauge",
                "Results kept in the read cache now.",
                len(cache),
            ),
            (
                "modelplane_db_connections_in_use",
                "gauge",
                "Database connections lent out of the pools now.",
                store.engines.connections_in_use(),
            ),
            (
                "modelplane_change_feed_watchers",
                "gauge",
                "Watches (long polls and streams) waiting for a change.",
                store.feed.watchers(),
            ),
        ]

    return samples


async def report_unopenable(store: Store, secrets: SecretBox) -> None:
    """Log each secret at rest that the configured master keys cannot open, and a summary.

    The server starts anyway: everything else works, and requests that need such a secret
    answer 503 naming it, until the key it was sealed with is given.
    """
    checked, unopenable = await find_unopenable(store=store, secrets=secrets)
    for value in unopenable:
        log.warning(
            "a secret at rest cannot be decrypted with the configured master keys",
            extra={
                "fields": {
                    "table": value.table,
                    "column": value.column,
                    "rowId": value.row_id,
                    "keyId": value.key_id,
                    "reason": value.reason,
                }
            },
        )
    if unopenable:
        tables = sorted({value.table for value in unopenable})
        log.warning(
            f"{len(unopenable)} of {checked} secrets at rest cannot be decrypted with the "
            "configured master keys; requests that need them answer 503 until the key they "
            "were sealed with is given in MODELPLANE_PREVIOUS_SECRET_KEYS",
            extra={"fields": {"unopenable": len(unopenable), "checked": checked, "tables": tables}},
        )


def print_first_token(token: str) -> None:
    """Show the one-time admin API key of a first start."""
    print(
        "\n  No principal existed: created admin principal 'admin'.\n"
        f"  Its API key (shown only this once): {token}\n",
        file=sys.stdout,
        flush=True,
    )


async def prepare_store(settings: Settings, secrets: SecretBox) -> tuple[Store, str | None]:
    """Migrate (serialized across replicas), bootstrap, and open the store."""
    engines = create_engines(settings)
    store = Store(engines, ReadCache(engines.freshness), ListenerOptions.of(settings))
    token = settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
    access_key = None
    if settings.bootstrap_access_key_id and settings.bootstrap_access_key_secret:
        access_key = (
            settings.bootstrap_access_key_id,
            settings.bootstrap_access_key_secret.get_secret_value(),
        )
    try:
        async with migrate.exclusive(settings) as conn:
            await migrate.upgrade(conn)
            result = await bootstrap(
                store=store, secrets=secrets, token=token, access_key=access_key
            )
    except BaseException:
        await store.close()
        raise
    await store.open()
    return store, result.first_token


NATIVE_ROUTERS = (
    native_llms.router,
    native_principals.router,
    native_model_groups.router,
    native_provider_templates.router,
    native_llm_templates.router,
    native_runtimes.router,
    native_workspaces.router,
    native_prompt_templates.router,
    native_prompt_labels.router,
    native_prompt_watch.router,
    native_configs.router,
    native_audit.router,
    native_spend_limits.router,
    native_usage.router,
    stack_endpoint.router,  # POST /v1/stack:apply
)


def gateway_relay(settings: Settings, metrics: GatewayMetrics) -> Relay:
    """The gateway's relay, with the limits and rests of `settings`."""
    limits = Limits(
        deadline_seconds=settings.gateway_timeout_seconds,
        connect_seconds=settings.gateway_connect_timeout_seconds,
        idle_seconds=settings.gateway_idle_timeout_seconds,
        max_attempts=settings.gateway_max_attempts,
    )
    health = Health(
        failures=settings.gateway_cooldown_failures,
        rest_seconds=settings.gateway_cooldown_seconds,
    )
    return Relay(limits, health, metrics)


def usage_recorder(settings: Settings, store: Store) -> UsageRecorder:
    """The recorder of gateway calls' usage, with the retention and bound of `settings`."""
    options = RecorderOptions(
        flush_seconds=settings.usage_flush_seconds,
        queue_max=settings.usage_queue_max,
        retention_days=settings.usage_retention_days,
    )
    return UsageRecorder(store, options)


def spend_guard(settings: Settings, store: Store) -> SpendGuard:
    """The gateway's limits and budgets, counted in Redis when one is configured, else in
    the database."""
    url = settings.redis_url.get_secret_value() if settings.redis_url else None
    counters = counters_for(
        store, url, prefix=settings.redis_key_prefix, timeout=settings.redis_timeout_seconds
    )
    return SpendGuard(
        store,
        counters,
        fail_open=settings.limits_fail_open,
        output_tokens_default=settings.limits_output_tokens,
    )


# FastAPI's own OpenTelemetry hooks (from 0.16x on) look for a configured provider on every
# request; modelplane has its own metrics and logs, so they are turned off where they exist.
_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


class Modelplane(FastAPI):
    """The application: FastAPI, with the gateway's calls answered ahead of its stack."""

    gateway_routes: Sequence[BaseRoute] = ()
    request_context: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        """FastAPI's stack, behind `GatewayFirst` when the gateway is served."""
        stack = super().build_middleware_stack()
        if not self.gateway_routes or self.request_context is None:
            return stack
        return GatewayFirst(stack, self.gateway_routes, self.request_context)


def create_app(
    settings: Settings | None = None,
    *,
    on_first_token: Callable[[str], None] = print_first_token,
) -> FastAPI:
    """Build the application; the store is opened (and migrated) at startup."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        secrets = secret_box(settings)
        store, first_token = await prepare_store(settings, secrets)
        await report_unopenable(store, secrets)
        app.state.store = store
        app.state.secrets = secrets
        app.state.gateway = gateway_relay(settings, app.state.gateway_metrics)
        app.state.usage = usage_recorder(settings, store)
        if settings.otel_traces and settings.serves_gateway:
            app.state.traces = CallTraces.exporting(
                service_version=__version__, replica_id=settings.replica_id
            )
        await app.state.usage.start()
        app.state.spend_guard = spend_guard(settings, store)
        if app.state.metrics is not None:
            app.state.metrics.set_sources(
                store_gauges(store), app.state.usage.gauges, app.state.spend_guard.gauges
            )
        if first_token is not None:
            on_first_token(first_token)
        if settings.serves_gateway:
            app.state.gateway.warm_up()
        if settings.serves_control_plane:
            stack_endpoint.warm_up()
        # Everything built so far lives as long as the process: move it out of the cyclic
        # collector's sight so that full collections stay short under load.
        gc.collect()
        gc.freeze()
        gc.enable()  # `modelplane serve` turns it off while the app is built
        try:
            yield
        finally:
            if app.state.access_log is not None:
                app.state.access_log.flush()
            await app.state.gateway.close()
            await app.state.usage.stop()  # writes every record still queued
            if app.state.traces is not None:
                await asyncio.to_thread(app.state.traces.close)  # exports every span queued
            await app.state.spend_guard.close()  # settles the calls that ended
            await store.close()

    app = Modelplane(
        title="modelplane",
        version=__version__,
        description=(
            "Self-hosted control plane for LLM applications. Authenticate with "
            "`Authorization: Bearer <key>` or `x-api-key: <key>`."
        ),
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        **_NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.shutdown = Shutdown()  # begun by `modelplane serve`: ends watches and streams
    app.state.rate_limits = rate_limiter(settings)  # checked by each face after authentication
    app.state.watch_slots = WatchSlots(  # taken by each watch while it is open
        per_principal=settings.max_watches_per_principal, total=settings.max_watches
    )
    app.state.gateway_environ = gateway_environment(settings)  # for env:// key references
    app.state.gateway_metrics = GatewayMetrics()
    app.state.traces = None  # a CallTraces when MODELPLANE_OTEL_TRACES is on (lifespan)
    native_errors.install(app)
    native_openapi.install(app)
    control_plane = settings.serves_control_plane
    if settings.serves_gateway:  # first: the calls are the hottest path
        app.gateway_routes = gateway_routes.routes()
        app.router.routes.extend(app.gateway_routes)
    # The routers' routes are added as they are, not with `include_router`: from FastAPI
    # 0.16x on, an included router is matched through a layer of its own on every request
    # (a sixth of the read path) and its routes are built again for every app.
    if control_plane:
        for router in NATIVE_ROUTERS:
            app.router.routes.extend(router.routes)
    app.router.routes.extend(health.router.routes)
    metrics = HttpMetrics(app.router.routes) if settings.metrics else None
    app.state.metrics = metrics
    if metrics is not None:
        metrics.add_family(app.state.gateway_metrics.render)
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        app.router.routes.append(metrics_route(token))
    if control_plane:
        console.install(app)  # /console, and GET / leads there
        app.router.routes.append(aliyun_rpc.route)
        app.router.routes.append(aliyun_bailian.route)
        app.router.routes.append(aliyun_eas.route)
    # The documentation routes go last: every request is matched against the routes in
    # order, and these are the least requested.
    app.openapi_url = "/openapi.json"
    app.setup()
    app.router.routes.extend(native_openapi.documentation_routes(app.openapi_url))
    route_index.install(app.router)  # a request tries only the routes its path can match
    access_log = None
    if settings.access_log and settings.log_level in ("debug", "info"):
        text = resolved_format(settings.log_format) == "text"
        access_log = AccessLog(stderr_writer, text=text)
    app.state.access_log = access_log
    app.add_middleware(NativeAuth)  # added first, so it runs inside RequestContext
    context = functools.partial(
        RequestContext,
        max_body_bytes=settings.max_body_bytes,
        access_log=access_log,
        metrics=metrics,
        gateway_max_body_bytes=settings.gateway_max_body_bytes,
    )
    app.add_middleware(context.func, **context.keywords)
    app.request_context = context  # the same context for the gateway's calls
    return app
