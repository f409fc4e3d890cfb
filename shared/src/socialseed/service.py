"""What every SocialSeed service app has: errors, request ids, metrics, tracing, health, and the
lifespan of its ``Runtime`` (``socialseed.runtime``)."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy.ext.asyncio import AsyncSession
from swagger_ui.utils import SWAGGER_UI_PY_ROOT

from socialseed import telemetry
from socialseed.bodylimit import install_body_limit
from socialseed.errors import install_error_handlers
from socialseed.membership import current_principal
from socialseed.openapi import document_errors
from socialseed.platforms.redaction import install_log_redaction
from socialseed.runtime import HealthCheck, Runtime
from socialseed.security import Principal

log = logging.getLogger(__name__)

# Swagger UI's assets, served by the service itself: the docs work without a CDN.
SWAGGER_UI_ASSETS = str(SWAGGER_UI_PY_ROOT / "static")
SWAGGER_UI_PREFIX = "/static/swagger-ui"

__all__ = ["CurrentPrincipal", "Runtime", "Session", "create_service_app", "runtime_of"]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def runtime_of(request: Request) -> Runtime[Any]:
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_of(request).database.transaction() as session:
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
    provider = runtime.tracer_provider or telemetry.tracer_provider(
        settings.service_name, settings.otel_exporter_otlp_endpoint
    )
    for client in runtime.http_clients:
        telemetry.instrument_client(client, provider)
    app = FastAPI(
        title=title,
        description=description,
        lifespan=runtime.lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.tracer_provider = provider
    install_error_handlers(app)
    # Innermost, so its 413 passes the request-id and metrics middlewares like any answer.
    install_body_limit(app, max_body_bytes or settings.max_body_bytes)
    telemetry.install_http_metrics(app, settings.service_name)

    @app.middleware("http")
    async def _request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.state.request_id = request_id
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        return response

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
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,metrics", tracer_provider=provider
    )
    document_errors(app, authenticated=[_current_principal])
    return app
