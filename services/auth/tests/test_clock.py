"""Auth goes by its injected clock (``AuthContext.clock``) everywhere: the tokens it issues, the
refresh tokens' expiry, the events it writes. A test moves that clock instead of waiting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select

from auth.app import create_app
from auth.context import AuthContext
from auth.models import RefreshToken
from auth.settings import AuthSettings
from auth.tokens import hash_refresh_token
from socialseed.testing import asgi_client


async def test_tokens_and_their_expiry_follow_the_injected_clock(settings: AuthSettings) -> None:
    app = create_app(settings, background=False)
    async with asgi_client(app) as api:
        ctx: AuthContext = app.state.auth
        # A clock an hour behind the machine's, whole seconds (a JWT's iat is).
        then = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        ctx.clock = lambda: then
        email = f"clock-{uuid.uuid4().hex[:8]}@example.com"
        credentials = {"email": email, "password": "a long enough password"}
        r = await api.post("/api/v1/auth/register", json={**credentials, "name": "C"})
        assert r.status_code == 201, r.text
        r = await api.post("/api/v1/auth/login", json=credentials)
        assert r.status_code == 200, r.text
        pair = r.json()
        claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
        assert claims["iat"] == int(then.timestamp())
        async with ctx.db.transaction() as s:
            [expires] = (
                await s.execute(
                    select(RefreshToken.expires_at).where(
                        RefreshToken.token_hash == hash_refresh_token(pair["refresh_token"])
                    )
                )
            ).scalars()
        assert expires == then + timedelta(seconds=settings.refresh_token_ttl)

        # Past the refresh token's life by auth's clock (not the machine's): refused.
        ctx.clock = lambda: then + timedelta(seconds=settings.refresh_token_ttl + 1)
        r = await api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert (r.status_code, r.json()["error"]) == (401, "RefreshTokenInvalid"), r.text
