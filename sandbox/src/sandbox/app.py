"""App factory: one FastAPI app, one router per platform, the control API and the middleware."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from sandbox import control
from sandbox.faults import SandboxMiddleware
from sandbox.platforms import facebook, instagram, linkedin, tiktok, x, youtube
from sandbox.platforms.base import PlatformSpec
from sandbox.settings import SandboxSettings
from sandbox.state import SandboxState
from sandbox.web import Reject

SPECS: tuple[PlatformSpec, ...] = (
    tiktok.SPEC,
    instagram.SPEC,
    facebook.SPEC,
    x.SPEC,
    linkedin.SPEC,
    youtube.SPEC,
)


class SandboxApp(FastAPI):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Keep the server's own ``send``: dropping a connection needs its transport, and the
        # middleware only sees Starlette's wrappers.
        scope["sandbox.server_send"] = send
        await super().__call__(scope, receive, send)


async def _reject(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Reject)
    return exc.response


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    settings = settings or SandboxSettings()
    app = SandboxApp(
        title="SocialSeed platform sandbox",
        description="Local emulator of the TikTok, Instagram, Facebook Pages, X, LinkedIn and "
        "YouTube APIs. Dev and test tooling, not a product service.",
        version="0.1.0",
    )
    app.state.sandbox = SandboxState(settings)
    app.state.specs = {spec.name: spec for spec in SPECS}
    app.add_exception_handler(Reject, _reject)
    app.include_router(control.router)
    app.include_router(tiktok.control)
    app.include_router(youtube.control)
    for spec in SPECS:
        app.include_router(spec.router, prefix=f"/{spec.name}", tags=[spec.name])
    app.add_middleware(SandboxMiddleware, fastapi=app)
    return app
