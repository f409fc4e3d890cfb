"""What every SocialSeed service app has: errors, request ids, metrics, tracing, health, and a
lifespan that owns the database, the Kafka broker and the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession
from swagger_ui.utils import SWAGGER_UI_PY_ROOT

from socialseed import telemetry
from socialseed.bodylimit import install_body_limit
from socialseed.bus import EventConsumer
from socialseed.db import Database
from socialseed.errors import install_error_handlers
from socialseed.membership import current_principal
from socialseed.openapi import document_errors
from socialseed.outbox import OutboxRelay
from socialseed.platforms.redaction import install_log_redaction
from socialseed.security import JWTVerifier, Principal
from socialseed.settings import ServiceSettings

log = logging.getLogger(__name__)

# Swagger UI's assets, served by the service itself: the docs work without a CDN.
SWAGGER_UI_ASSETS = str(SWAGGER_UI_PY_ROOT / "static")
SWAGGER_UI_PREFIX = "/static/swagger-ui"

HealthCheck = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    """The long-lived resources of one service process."""

    settings: ServiceSettings
    db: Database | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    verifier: JWTVerifier | None = None
    consumers: list[EventConsumer] = field(default_factory=list)
    # Outgoing clients to instrument for tracing (only these; never every client in the process).
    http_clients: list[httpx.AsyncClient] = field(default_factory=list)
    # The membership changes this service records (``socialseed.membership``): tokens issued
    # before a change lose or lower that workspace's role. None: token roles are taken as is.
    member_changes: Table | None = None
    # The service's tracer provider, when something built before the app (its Kafka broker)
    # needs it too; otherwise create_service_app makes one.
    tracer_provider: TracerProvider | None = None

    def __post_init__(self) -> None:
        if self.db is not None:
            self.health_checks.setdefault("database", self._check_db)
        if self.relay is not None:
            self.health_checks.setdefault("kafka", self._check_relay)

    async def _check_db(self) -> None:
        assert self.db is not None
        async with self.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _check_relay(self) -> None:
        assert self.relay is not None
        producer = self.relay.producer
        if producer is None:
            raise RuntimeError("relay not started")
        await producer.client.fetch_all_metadata()

    @contextlib.asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        if self.broker is not None:
            await self.broker.start()
        if self.relay is not None:
            await self.relay.start()
            tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        tasks += [asyncio.create_task(job()) for job in self.background]
        if self.db is not None and self.consumers:
            tasks.append(asyncio.create_task(self._purge_inboxes(), name="inbox-purge"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.relay is not None:
                await self.relay.stop()
            for consumer in self.consumers:
                await consumer.close()
            if self.broker is not None:
                await self.broker.stop()
            if self.db is not None:
                await self.db.dispose()
            for cleanup in self.cleanups:
                await cleanup()

    async def _purge_inboxes(self) -> None:
        """Hourly: drop inbox ids older than ``inbox_retention_days`` (any replica may run it;
        deleting in batches with SKIP LOCKED lets them overlap)."""
        assert self.db is not None
        retention = timedelta(days=self.settings.inbox_retention_days)
        while True:
            for inbox in {id(c.inbox): c.inbox for c in self.consumers}.values():
                try:
                    await inbox.purge(self.db, older_than=datetime.now(UTC) - retention)
                except Exception:  # housekeeping must not take the service down; next hour
                    log.warning("inbox purge failed", exc_info=True)
            await asyncio.sleep(3600)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    db = runtime_of(request).db
    assert db is not None, "this service has no database"
    async with db.transaction() as session:
        yield session


async def _current_principal(request: Request) -> Principal:
    runtime = runtime_of(request)
    verifier = runtime.verifier
    assert verifier is not None, "this service verifies no tokens"
    principal = await verifier.principal_from(request.headers.get("authorization"))
    if runtime.member_changes is None or not principal.roles:
        return principal
    assert runtime.db is not None, "membership changes need the service's database"
    async with runtime.db.engine.connect() as conn:
        return await current_principal(conn, runtime.member_changes, principal)


# The request's transaction: scope="function" commits when the endpoint returns, before the
# response is sent, so a client never sees a success that was later rolled back.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# The caller, from a verified access token.
CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


def health_router(checks: dict[str, HealthCheck]) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=3.0)
                results[name] = "ok"
            except Exception as exc:  # a health probe reports, it does not raise
                results[name] = f"failing: {type(exc).__name__}"
        ok = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "checks": results},
            status_code=200 if ok else 503,
        )

    return router


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter],
    description: str = "",
    max_body_bytes: int | None = None,
    docs_openapi_url: str = "/openapi.json",
    docs_title: str | None = None,
) -> FastAPI:
    """``max_body_bytes``: the largest request body accepted (default: the settings'
    ``max_body_bytes``). ``/docs`` shows the document at ``docs_openapi_url``."""
    settings = runtime.settings
    logging.getLogger().setLevel(settings.log_level.upper())
    install_log_redaction()
    tracing = telemetry.tracing_enabled(settings)
    provider = runtime.tracer_provider or telemetry.tracer_provider(settings)
    for client in runtime.http_clients:
        telemetry.instrument_client(client, provider, tracing=tracing)
    app = FastAPI(
        # Tracing is ours (below), never switched on by a global provider someone sets.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title=title,
        description=description,
        lifespan=runtime.lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.tracer_provider = provider
    install_error_handlers(app)
    # Innermost, so its 413 passes the request layer like any answer.
    install_body_limit(app, max_body_bytes or settings.max_body_bytes)
    app.add_middleware(
        telemetry.RequestContext,
        service=settings.service_name,
        tracer=None if tracing else provider.get_tracer("socialseed.request"),
    )

    app.mount(SWAGGER_UI_PREFIX, StaticFiles(directory=SWAGGER_UI_ASSETS), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=docs_openapi_url,
            title=docs_title or title,
            swagger_js_url=f"{SWAGGER_UI_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI_PREFIX}/favicon-32x32.png",
        )

    for router in routers:
        app.include_router(router)
    app.include_router(health_router(runtime.health_checks))
    app.include_router(telemetry.metrics_router)
    if tracing:
        FastAPIInstrumentor.instrument_app(
            app,
            excluded_urls="healthz,metrics",
            tracer_provider=provider,
            exclude_spans=["receive", "send"],  # one span per request, not one per message
        )
    document_errors(app, authenticated=[_current_principal])
    return app
