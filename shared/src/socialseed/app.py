"""What every SocialSeed service app has: errors, request ids, metrics, tracing, health, and the
lifespan of its ``Runtime`` (``socialseed.runtime``)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from swagger_ui.utils import SWAGGER_UI_PY_ROOT

from socialseed import metrics, telemetry, tracing
from socialseed.bodylimit import install_body_limit
from socialseed.errors import install_error_handlers
from socialseed.membership import current_principal
from socialseed.openapi import document_errors
from socialseed.platforms.redaction import install_log_redaction
from socialseed.runtime import HealthCheck, Runtime
from socialseed.security import Principal
from socialseed.settings import ServiceSettings

log = logging.getLogger(__name__)

# Swagger UI's assets, served by the service itself: the docs work without a CDN.
SWAGGER_UI_ASSETS = str(SWAGGER_UI_PY_ROOT / "static")
SWAGGER_UI_PREFIX = "/static/swagger-ui"

S = TypeVar("S", bound=ServiceSettings)

__all__ = [
    "CurrentPrincipal",
    "ReadPrincipal",
    "ReadSession",
    "Runtime",
    "Session",
    "create_service_app",
    "runtime_of",
]


def runtime_of(request: Request) -> Runtime[Any]:
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_of(request).database.transaction() as session:
        yield session


async def _current_principal(request: Request) -> Principal:
    runtime = runtime_of(request)
    principal = await _token_principal(runtime, request)
    if runtime.member_changes is None or not principal.roles:
        return principal
    # One read outside any transaction: no BEGIN and ROLLBACK round trips around it.
    async with _autocommit(runtime) as conn:
        return await current_principal(conn, runtime.member_changes, principal, runtime.membership)


async def _token_principal(runtime: Runtime[Any], request: Request) -> Principal:
    verifier = runtime.verifier
    assert verifier is not None, "this service verifies no tokens"
    return await verifier.principal_from(request.headers.get("authorization"))


@contextlib.asynccontextmanager
async def _autocommit(runtime: Runtime[Any]) -> AsyncIterator[AsyncConnection]:
    """A pooled connection outside any transaction (each statement its own)."""
    async with runtime.database.engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session on an autocommit engine: it checks a connection out at its first statement
    (none for an answer made of what the process holds) and keeps it to the request's end."""
    database = runtime_of(request).database
    async with AsyncSession(bind=database.autocommit, expire_on_commit=False) as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]


async def _read_principal(request: Request, session: ReadSessionDep) -> Principal:
    runtime = runtime_of(request)
    principal = await _token_principal(runtime, request)
    if runtime.member_changes is None or not principal.roles:
        return principal
    return await current_principal(session, runtime.member_changes, principal, runtime.membership)


# The request's transaction: scope="function" commits when the endpoint returns, before the
# response is sent, so a client never sees a success that was later rolled back.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# The caller, from a verified access token.
CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]
# For read-only routes: the caller and a session that share one connection in autocommit
# mode (each statement its own snapshot, as under READ COMMITTED; no BEGIN or COMMIT), so a
# request costs at most one pool checkout (none when it makes no query: the membership held
# in memory and an answer the process keeps) and no transaction round trips. Never for
# writes: nothing here is committed or rolled back as a whole.
ReadPrincipal = Annotated[Principal, Depends(_read_principal)]
ReadSession = ReadSessionDep


def operator_check(settings: ServiceSettings) -> Callable[[Request], bool]:
    """Whether a request may see operational detail (metrics, health checks by name): always
    in dev mode; otherwise only with the bearer token ``settings.metrics_token``, compared in
    constant time. The public sees that a service is up, not what it runs on."""
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else b""

    def operator(request: Request) -> bool:
        if settings.dev_mode:
            return True
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        return (
            bool(token)
            and scheme.lower() == "bearer"
            and hmac.compare_digest(sent.strip().encode(), token)
        )

    return operator


def health_router(checks: dict[str, HealthCheck], operator: Callable[[Request], bool]) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=3.0)
                results[name] = "ok"
            except Exception as exc:  # a health probe reports, it does not raise
                results[name] = f"failing: {type(exc).__name__}"
        ok = all(v == "ok" for v in results.values())
        body: dict[str, Any] = {"status": "ok" if ok else "degraded"}
        if operator(request):
            body["checks"] = results
        return JSONResponse(body, status_code=200 if ok else 503)

    return router


def create_service_app(
    runtime: Runtime[Any],
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
    traced = tracing.tracing_enabled(settings)
    provider = runtime.tracer_provider or tracing.tracer_provider(settings)
    for client in runtime.http_clients:
        tracing.instrument_client(client, provider, tracing=traced)
    if traced:
        if runtime.db is not None:
            tracing.instrument_engine(runtime.db.engine, provider)
        runtime.cleanups.append(lambda: tracing.shutdown(provider))
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
        tracer=None if traced else provider.get_tracer("socialseed.request"),
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
    operator = operator_check(settings)
    app.include_router(health_router(runtime.health_checks, operator))
    app.include_router(telemetry.metrics_router(operator, runtime.facts))
    metrics.record_build_info(settings.service_name)
    if traced:
        FastAPIInstrumentor.instrument_app(
            app,
            excluded_urls="healthz,metrics",
            tracer_provider=provider,
            exclude_spans=["receive", "send"],  # one span per request, not one per message
        )
    document_errors(app, authenticated=[_current_principal, _read_principal])
    return app
