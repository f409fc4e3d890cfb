"""The auth service: users, workspaces and roles, access/refresh tokens, JWKS."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

from auth.apikeys.endpoints import internal as api_keys_internal
from auth.apikeys.endpoints import router as api_keys_router
from auth.context import AuthContext
from auth.housekeeping import run_housekeeping
from auth.keys import load_signing_key
from auth.models import outbox
from auth.passwords import Hasher
from auth.settings import AuthSettings
from auth.users.endpoints import router as users_router
from auth.workspaces.endpoints import invitations_router
from auth.workspaces.endpoints import router as workspaces_router
from socialseed.app import create_service_app
from socialseed.outbox import Outbox
from socialseed.runtime import service_runtime
from socialseed.security import JWTVerifier

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(settings: AuthSettings | None = None, *, background: bool = True) -> FastAPI:
    settings = settings or AuthSettings()
    key = load_signing_key(settings)
    jwks = {"keys": [key.public_jwk()]}

    async def local_jwks() -> dict[str, Any]:
        return jwks

    runtime = service_runtime(
        settings,
        outbox=outbox,
        client_id="auth",
        consumes=False,  # auth only writes events
        # Auth verifies its own tokens from its key in memory: no HTTP call to itself.
        verifier=JWTVerifier(
            "",
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            jwks_loader=local_jwks,
            cache_size=settings.jwt_cache_size,
        ),
    )
    ctx = AuthContext(
        runtime=runtime,
        key=key,
        hasher=Hasher(settings),
        outbox=Outbox(outbox, source="/socialseed/auth"),
    )
    if background:
        runtime.background.append(functools.partial(run_housekeeping, ctx))
    well_known = APIRouter(tags=["auth"])

    @well_known.get("/.well-known/jwks.json")
    async def jwks_endpoint() -> dict[str, Any]:
        """Public keys that verify SocialSeed access tokens."""
        return jwks

    app = create_service_app(
        runtime,
        title="SocialSeed auth",
        routers=[
            users_router,
            workspaces_router,
            invitations_router,
            api_keys_router,
            api_keys_internal,
            well_known,
        ],
    )
    app.state.auth = ctx
    return app
