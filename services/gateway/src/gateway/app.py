"""The gateway: the one public entry. Verifies tokens, rate-limits, forwards to services."""

from __future__ import annotations

import functools
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from gateway.openapi import MergedOpenAPI
from gateway.proxy import Gateway
from gateway.settings import GatewaySettings
from gateway.webapp import WebApp
from socialseed.app import Runtime, create_service_app
from socialseed.openapi import allowed_methods, method_not_allowed

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    # Health checks and the merged OpenAPI document: a few calls, not the proxied traffic.
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=settings.upstream_connect_timeout)
    )
    gateway = Gateway(settings)
    openapi = MergedOpenAPI(settings, client)

    async def upstream_health(base: str) -> None:
        response = await client.get(f"{base}/healthz", timeout=2.5)
        response.raise_for_status()

    runtime = Runtime(
        settings=settings, cleanups=[gateway.close, client.aclose], http_clients=[client]
    )
    for name, base in settings.upstreams.items():
        runtime.health_checks[name] = functools.partial(upstream_health, base)
    app = create_service_app(
        runtime,
        title="SocialSeed gateway",
        routers=[],
        # The route classes' own ceilings apply per request (see Gateway.body_limit).
        max_body_bytes=max(settings.max_body_bytes, settings.max_media_body_bytes),
        docs_openapi_url="/api/v1/openapi.json",
        docs_title="SocialSeed API",
    )
    app.state.gateway = gateway  # tests watch its in-flight slots
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=METHODS,
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
        expose_headers=["X-Request-ID", "Retry-After", "Idempotent-Replayed"],
        allow_credentials=False,
    )

    async def not_allowed(request: Request, exc: Exception) -> Response:
        # The gateway's own routes are not the API: the merged document says what is allowed.
        return method_not_allowed(allowed_methods(await openapi.document(), request.url.path))

    app.add_exception_handler(405, not_allowed)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def merged_openapi() -> dict[str, Any]:
        return await openapi.document()

    web = WebApp(settings.web_dist) if settings.web_dist is not None else None

    @app.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    async def forward(request: Request) -> Response:
        if web is not None and (page := web.answer(request)) is not None:
            return page
        return await gateway.forward(request)

    return app
